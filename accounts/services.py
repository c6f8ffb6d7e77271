"""Writes for users, organizations and memberships."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import events, signals
from accounts.audit import AuditAction
from accounts.models import (
    AccountType,
    AuditEvent,
    Invitation,
    Membership,
    Organization,
    User,
)
from accounts.roles import Role
from core.exceptions import ApplicationError, ConflictError, NotFoundError
from core.logging import client_var
from core.models import InboundWebhook

# Contacts (email, phone) are not here: they change only through a verified code.
PROFILE_FIELDS = frozenset({"display_name", "language", "time_zone"})


class LastOrgAdminError(ConflictError):
    code = "accounts.last_org_admin"
    default_message = gettext_lazy("An organization needs at least one organization admin.")


def user_create(*, email: str, password: str | None, display_name: str = "", **fields: Any) -> User:
    """Create a user with a lower-cased email. Raises ConflictError if the email is taken."""
    email = email.strip().lower()
    if User.objects.filter(email=email).exists():
        raise ConflictError(_("This email address is already in use."), code="accounts.email_taken")
    return User.objects.create_user(
        email=email, password=password, display_name=display_name, **fields
    )


def user_update_profile(*, user: User, data: dict[str, Any]) -> User:
    """Change the profile fields named in ``data`` (already validated); returns the user."""
    unknown = set(data) - PROFILE_FIELDS
    if unknown:
        raise ApplicationError(
            code="accounts.unknown_profile_field", extra={"fields": sorted(unknown)}
        )
    for name, value in data.items():
        setattr(user, name, value)
    if data:
        user.full_clean(exclude=["password"], validate_unique=False, validate_constraints=False)
        user.save(update_fields=[*sorted(data), "updated_at"])
    return user


def _organization_insert(name: str) -> Organization:
    """Insert an organization under the first free slug: "acme", then "acme-2", ...

    The existence check is only a shortcut; the unique constraint decides when two requests
    race for one slug, and the loser moves on to the next suffix.
    """
    base = slugify(name)[:50] or "org"
    for attempt in range(1, 100):
        slug = base if attempt == 1 else f"{base}-{attempt}"
        if Organization.objects.filter(slug=slug).exists():
            continue
        try:
            with transaction.atomic():
                return Organization.objects.create(name=name, slug=slug)
        except IntegrityError:
            continue
    raise ConflictError(_("Choose another name for the organization."), code="accounts.slug_taken")


@transaction.atomic
def organization_create(*, name: str, creator: User) -> Organization:
    """Create an organization; its creator becomes its first org admin."""
    organization = _organization_insert(name.strip())
    audit_record(
        action=AuditAction.ORGANIZATION_CREATED,
        actor=creator,
        target=organization,
        organization=organization,
    )
    membership_create(organization=organization, user=creator, role=Role.ORG_ADMIN, actor=creator)
    return organization


@transaction.atomic
def organization_update(
    *,
    organization_id: int,
    actor: User,
    name: str | None = None,
    require_two_factor: bool | None = None,
) -> Organization:
    """Change an organization's name or its 2FA rule for admins.

    Turning the 2FA rule on needs the acting admin to have 2FA already, so nobody locks the
    organization's admins out of their own settings. Raises ``accounts.two_factor_required``.
    """
    from accounts.two_factor import user_has_two_factor

    organization = Organization.objects.select_for_update().get(pk=organization_id)
    changes: dict[str, Any] = {}
    if name is not None and name.strip() != organization.name:
        changes["name"] = name.strip()
    if require_two_factor is not None and require_two_factor != organization.require_two_factor:
        if require_two_factor and not user_has_two_factor(actor):
            raise ApplicationError(
                _("Turn on two-factor authentication for yourself first."),
                code="accounts.two_factor_required",
                status_code=403,
            )
        changes["require_two_factor"] = require_two_factor
    if changes:
        for field, value in changes.items():
            setattr(organization, field, value)
        organization.save(update_fields=[*changes, "updated_at"])
        audit_record(
            action=AuditAction.ORGANIZATION_SETTINGS_CHANGED,
            actor=actor,
            target=organization,
            organization=organization,
            data=changes,
        )
    return organization


@transaction.atomic
def membership_create(
    *, organization: Organization, user: User, role: str, actor: User | None = None
) -> Membership:
    """Add ``user`` to ``organization`` with ``role``; emits accounts.membership.created.

    Raises ConflictError (``accounts.already_member``) if the user is already a member.
    """
    already_member = ConflictError(
        _("This person is already a member."), code="accounts.already_member"
    )
    if Membership.objects.filter(organization=organization, user=user).exists():
        raise already_member
    try:
        # The unique constraint settles a race between two adds of the same person; the
        # savepoint keeps the caller's transaction usable after the refused insert.
        with transaction.atomic():
            membership = Membership.objects.create(organization=organization, user=user, role=role)
    except IntegrityError as exc:
        raise already_member from exc
    audit_record(
        action=AuditAction.MEMBER_ADDED,
        actor=actor,
        target=membership,
        organization=organization,
        data={"user_id": user.pk, "role": role},
    )
    events.membership_created(membership)
    return membership


def _lock_admins(organization_id: int) -> list[int]:
    """Lock the organization's admin memberships (primary-key order) and return their ids.

    Two admins demoting each other at the same moment would otherwise both see "another
    admin remains" and leave the organization with none.
    """
    return list(
        Membership.objects.select_for_update()
        .filter(organization_id=organization_id, role=Role.ORG_ADMIN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


@transaction.atomic
def membership_change_role(
    *, membership: Membership, role: str, actor: User | None = None
) -> Membership:
    """Give a member another role; emits accounts.membership.updated.

    Locks the organization's admin memberships and then the member's row. Raises
    LastOrgAdminError when it would leave the organization without an org admin.
    """
    admin_ids = _lock_admins(membership.organization_id)
    locked = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "organization")
        .get(pk=membership.pk)
    )
    if locked.role == role:
        return locked
    if locked.role == Role.ORG_ADMIN and admin_ids == [locked.pk]:
        raise LastOrgAdminError()
    previous = locked.role
    locked.role = role
    locked.save(update_fields=["role", "updated_at"])
    audit_record(
        action=AuditAction.ROLE_CHANGED,
        actor=actor,
        target=locked,
        organization=locked.organization,
        data={"user_id": locked.user_id, "from": previous, "to": role},
    )
    events.membership_updated(locked)
    return locked


@transaction.atomic
def membership_remove(
    *, membership: Membership, actor: User | None = None, allow_emptying: bool = False
) -> None:
    """Remove a member from the organization; emits accounts.membership.deleted.

    Same locks and LastOrgAdminError as membership_change_role. With ``allow_emptying`` the
    only member of an organization may go (account deletion): nobody is left without an
    admin then.
    """
    admin_ids = _lock_admins(membership.organization_id)
    locked = (
        # of=("self",): lock the membership only, not the joined organization row.
        Membership.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=membership.pk)
    )
    sole_member = (
        allow_emptying
        and not Membership.objects.filter(organization_id=locked.organization_id)
        .exclude(pk=locked.pk)
        .exists()
    )
    if locked.role == Role.ORG_ADMIN and admin_ids == [locked.pk] and not sole_member:
        raise LastOrgAdminError()
    membership_id, user_id, organization_id = locked.pk, locked.user_id, locked.organization_id
    audit_record(
        action=AuditAction.MEMBER_REMOVED,
        actor=actor,
        target=locked,
        organization=locked.organization,
        data={"user_id": user_id, "role": locked.role},
    )
    locked.delete()
    signals.membership_ended.send(
        sender=Membership, organization_id=organization_id, user_id=user_id
    )
    events.membership_deleted(
        organization_id=organization_id, membership_id=membership_id, user_id=user_id
    )


# --- Audit trail ------------------------------------------------------------------------------


def audit_record(
    *,
    action: AuditAction,
    actor: User | None,
    target: Any = None,
    organization: Organization | None = None,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event to the audit trail, with the current request's IP and user agent.

    Called inside the caller's transaction, so an event exists exactly when its change does.
    """
    client = client_var.get()
    return AuditEvent.objects.create(
        action=str(action),
        actor=actor if actor is not None and actor.pk else None,
        actor_label=actor.email if actor is not None else "",
        organization=organization,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        ip_address=client.ip_address if client else None,
        user_agent=client.user_agent if client else "",
        data=data or {},
    )


@transaction.atomic
def user_become_professional(*, user: User) -> User:
    """Turn a client account into a professional one (the profile comes with calls)."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.account_type == AccountType.PROFESSIONAL:
        return locked
    locked.account_type = AccountType.PROFESSIONAL
    locked.save(update_fields=["account_type", "updated_at"])
    audit_record(action=AuditAction.BECAME_PROFESSIONAL, actor=locked, target=locked)
    return locked


# --- Email delivery events ------------------------------------------------------------------


def email_event_receive(
    *, provider: str, event_id: str, email: str, reason: str, detail: str, payload: dict[str, Any]
) -> InboundWebhook | None:
    """Record a bounce/drop event once and queue its processing; a replay is ignored.

    Returns the new record, or None when this provider event was already received.
    """
    if not event_id:
        # Without an id a replay cannot be told apart; key on the content instead.
        event_id = f"{email}:{reason}:{payload.get('timestamp', '')}"
    try:
        with transaction.atomic():
            record = InboundWebhook.objects.create(
                provider=provider,
                event_id=event_id[:200],
                payload={"email": email, "reason": reason, "detail": detail, "event": payload},
            )
    except IntegrityError:
        return None
    from accounts.tasks import process_email_event

    transaction.on_commit(lambda: process_email_event.delay(record.pk), robust=True)
    return record


@transaction.atomic
def user_mark_email_undeliverable(*, email: str, reason: str) -> User | None:
    """Flag the account whose current address bounced, so the app can ask for another."""
    user = User.objects.select_for_update().filter(email=email.strip().lower()).first()
    if user is None or user.email_undeliverable_at is not None:
        return user
    user.email_undeliverable_at = timezone.now()
    user.email_undeliverable_reason = reason[:200]
    user.save(update_fields=["email_undeliverable_at", "email_undeliverable_reason", "updated_at"])
    audit_record(
        action=AuditAction.EMAIL_UNDELIVERABLE, actor=None, target=user, data={"reason": reason}
    )
    return user


# --- Invitations, leaving, the active organization ---------------------------------------------

INVITATION_TTL = timedelta(days=7)


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invitation_create(
    *, organization: Organization, email: str, role: str, actor: User
) -> tuple[Invitation, str]:
    """Invite ``email`` to join with ``role``; returns the invitation and its link token.

    A still-open invitation to the same address is replaced (its link stops working), so
    "send again" is just inviting again. Raises ``accounts.already_member`` (409). The email
    goes out after commit, with the token masked in Celery's logs.
    """
    email = email.strip().lower()
    if Membership.objects.filter(organization=organization, user__email=email).exists():
        raise ConflictError(_("This person is already a member."), code="accounts.already_member")
    now = timezone.now()
    Invitation.objects.filter(
        organization=organization, email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=now, updated_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        organization=organization,
        email=email,
        role=role,
        invited_by=actor,
        token_hash=invitation_token_hash(token),
        expires_at=now + INVITATION_TTL,
    )
    audit_record(
        action=AuditAction.INVITATION_SENT,
        actor=actor,
        target=invitation,
        organization=organization,
        data={"email": email, "role": role},
    )
    from accounts.tasks import send_invitation_email

    transaction.on_commit(
        lambda: send_invitation_email.apply_async(
            args=(invitation.pk, token), argsrepr=f"({invitation.pk}, '******')"
        ),
        robust=True,
    )
    return invitation, token


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, actor: User) -> None:
    """Close an open invitation; its link stops working. A closed one is left as it is."""
    locked = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if locked.accepted_at or locked.revoked_at:
        return
    locked.revoked_at = timezone.now()
    locked.save(update_fields=["revoked_at", "updated_at"])
    audit_record(
        action=AuditAction.INVITATION_REVOKED,
        actor=actor,
        target=locked,
        organization=locked.organization,
    )


def invitation_status(invitation: Invitation) -> str:
    if invitation.accepted_at:
        return "accepted"
    if invitation.revoked_at:
        return "revoked"
    if invitation.expires_at <= timezone.now():
        return "expired"
    return "pending"


@transaction.atomic
def invitation_accept(*, token: str, user: User) -> Membership:
    """Join the organization through an invitation link, as the invited address.

    Locks the invitation, so two clicks cannot both join. Raises
    ``accounts.invitation_not_found`` (404), ``accounts.invitation_expired``,
    ``accounts.invitation_used``, ``accounts.invitation_revoked`` (410),
    ``accounts.invitation_wrong_account`` (403) and ``accounts.already_member`` (409).
    """
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("organization")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )
    if invitation is None:
        raise NotFoundError(code="accounts.invitation_not_found")
    state = invitation_status(invitation)
    if state != "pending":
        messages = {
            "accepted": (_("This invitation was already used."), "accounts.invitation_used"),
            "revoked": (_("This invitation was withdrawn."), "accounts.invitation_revoked"),
            "expired": (_("This invitation has expired."), "accounts.invitation_expired"),
        }
        message, code = messages[state]
        raise ApplicationError(message, code=code, status_code=410)
    if user.email.lower() != invitation.email:
        raise ApplicationError(
            _("This invitation was sent to another email address."),
            code="accounts.invitation_wrong_account",
            status_code=403,
        )
    membership = membership_create(
        organization=invitation.organization, user=user, role=invitation.role, actor=user
    )
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by", "updated_at"])
    audit_record(
        action=AuditAction.INVITATION_ACCEPTED,
        actor=user,
        target=invitation,
        organization=invitation.organization,
    )
    # Whoever opens an invitation link can reasonably expect to land in that organization.
    User.objects.filter(pk=user.pk).update(active_organization=invitation.organization)
    return membership


@transaction.atomic
def membership_leave(*, user: User, organization_id: int) -> None:
    """Leave an organization; the last org admin cannot (LastOrgAdminError)."""
    membership = Membership.objects.filter(user=user, organization_id=organization_id).first()
    if membership is None:
        raise NotFoundError()
    membership_remove(membership=membership, actor=user)
    User.objects.filter(pk=user.pk, active_organization_id=organization_id).update(
        active_organization=None
    )


def user_set_active_organization(*, user: User, organization_id: int) -> User:
    """Choose the organization the person works in; only one they belong to."""
    if not Membership.objects.filter(user=user, organization_id=organization_id).exists():
        raise NotFoundError()
    user.active_organization_id = organization_id
    user.save(update_fields=["active_organization", "updated_at"])
    return user


# --- API tokens -----------------------------------------------------------------------------


def token_pair_obtain(
    *, request: Any, email: str, password: str, otp: str | None = None
) -> dict[str, str]:
    """Check email + password (and the 2FA code, when the account has 2FA); issue JWTs.

    Goes through allauth's adapter, so failed attempts count in the same per-account and
    per-IP lock as the browser sign-in (the adapter writes the lock's audit row). Raises
    ``accounts.too_many_attempts`` (429), ``no_active_account`` (401),
    ``accounts.otp_required`` (401) and ``accounts.otp_invalid`` (400). Writes
    ``auth.token_issued``.
    """
    from allauth.account.adapter import get_adapter
    from django.contrib.auth.models import update_last_login
    from django.core.exceptions import ValidationError as DjangoValidationError
    from rest_framework import status
    from rest_framework.exceptions import AuthenticationFailed
    from rest_framework_simplejwt.tokens import RefreshToken

    from accounts import two_factor

    email = email.strip().lower()
    try:
        user = get_adapter(request).authenticate(request, email=email, password=password)
    except DjangoValidationError as exc:
        raise ApplicationError(
            _("Too many failed attempts. Try again in a few minutes, or reset your password."),
            code="accounts.too_many_attempts",
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
        ) from exc
    if user is None or not user.is_active:
        raise AuthenticationFailed(
            _("No active account found with the given credentials"), "no_active_account"
        )
    if two_factor.user_has_two_factor(user):
        if not otp:
            raise ApplicationError(
                _("Enter the code from your authenticator app."),
                code="accounts.otp_required",
                status_code=status.HTTP_401_UNAUTHORIZED,
            )
        two_factor.two_factor_check(user=user, code=otp)
    refresh = RefreshToken.for_user(user)
    update_last_login(User, user)
    audit_record(action=AuditAction.TOKEN_ISSUED, actor=user, target=user)
    return {"refresh": str(refresh), "access": str(refresh.access_token)}
