"""LGPD: a person downloads everything the platform holds about them, or deletes their account.

Deleting does not remove the user row: the audit trail (and, later, the ledger) points at it
with PROTECT. The row is anonymized instead, and everything else that identifies the person
or lets anyone act as them (sessions, tokens, 2FA devices, codes, change history, avatar) is
deleted. What the law obliges us to keep is kept as it was written, see ``account_delete``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from importlib import import_module
from typing import Any

from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework import status
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts import services
from accounts.audit import AuditAction
from accounts.models import (
    DEFAULT_TIME_ZONE,
    AuditEvent,
    Invitation,
    KycSubmission,
    Membership,
    User,
    VerificationCode,
)
from accounts.roles import Role
from accounts.two_factor import user_has_two_factor
from core.exceptions import ApplicationError

# Bumped when a key is renamed or removed, so whoever reads an old file knows its shape.
EXPORT_FORMAT_VERSION = 1

_HISTORY_TYPES = {"+": "created", "~": "changed", "-": "deleted"}


def export_time(value: datetime | None) -> str | None:
    """A moment as the export writes it (ISO 8601), for every app's section."""
    return value.isoformat() if value is not None else None


# Other apps hold data about a person too (the wallet's ledger, chat messages). accounts
# imports none of them: each registers a section from its AppConfig.ready(), a function that
# returns that app's part of the export as JSON-able values.
ExportSection = Callable[[User], Any]
_export_sections: dict[str, ExportSection] = {}


def register_export_section(name: str, section: ExportSection) -> None:
    """Add ``section(user)`` to every data export, under the key ``name``."""
    if name in _export_sections and _export_sections[name] is not section:
        raise ValueError(f"Export section {name!r} is already registered.")
    _export_sections[name] = section


def export_section_names() -> list[str]:
    return sorted(_export_sections)


# --- Export -----------------------------------------------------------------------------------


def user_data_export(*, user: User) -> dict[str, Any]:
    """Everything the platform holds about ``user``, as JSON-able values (LGPD Art. 18, II).

    Never secrets: no password hash, TOTP key, recovery code, code or token hash, session key
    or token. One query per kind of data, however much of it there is. The sections other
    apps registered (``register_export_section``) follow, each under its app's name.
    """
    memberships = (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by("created_at", "pk")
    )
    invitations = list(
        Invitation.objects.filter(Q(invited_by=user) | Q(email=user.email) | Q(accepted_by=user))
        .select_related("organization")
        .order_by("created_at", "pk")
    )
    audit_events = (
        AuditEvent.objects.filter(
            Q(actor=user) | Q(target_type=User._meta.label_lower, target_id=str(user.pk))
        )
        .order_by("created_at", "pk")
        .values(
            "action",
            "created_at",
            "actor_id",
            "organization_id",
            "ip_address",
            "user_agent",
            "data",
        )
    )
    sessions = UserSession.objects.filter(user=user).order_by("created_at", "pk")
    api_tokens = (
        OutstandingToken.objects.filter(user=user)
        .order_by("created_at", "pk")
        .values("created_at", "expires_at", "blacklistedtoken__id")
    )
    history = User.history.filter(id=user.pk).order_by("history_date", "history_id")

    export = {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": export_time(timezone.now()),
        "profile": {
            "id": user.pk,
            "email": user.email,
            "display_name": user.display_name,
            "phone": str(user.phone) if user.phone else "",
            "language": user.language,
            "time_zone": user.time_zone,
            "account_type": user.account_type,
            "avatar_url": user.avatar.url if user.avatar else None,
            "email_verified_at": export_time(user.email_verified_at),
            "phone_verified_at": export_time(user.phone_verified_at),
            "email_undeliverable_at": export_time(user.email_undeliverable_at),
            "email_undeliverable_reason": user.email_undeliverable_reason,
            "active_organization_id": user.active_organization_id,
            "last_login": export_time(user.last_login),
            "created_at": export_time(user.created_at),
        },
        "memberships": [
            {
                "organization_id": membership.organization_id,
                "organization_name": membership.organization.name,
                "role": membership.role,
                "since": export_time(membership.created_at),
            }
            for membership in memberships
        ],
        "invitations_sent": [
            _invitation(invitation, with_email=True)
            for invitation in invitations
            if invitation.invited_by_id == user.pk
        ],
        "invitations_received": [
            _invitation(invitation, with_email=False)
            for invitation in invitations
            if invitation.email == user.email or invitation.accepted_by_id == user.pk
        ],
        "audit_events": [_audit_event(event, user) for event in audit_events],
        "sessions": [
            {
                "ip_address": session.ip,
                "user_agent": session.user_agent,
                "created_at": export_time(session.created_at),
                "last_seen_at": export_time(session.last_seen_at),
            }
            for session in sessions
        ],
        "api_tokens": [
            {
                "created_at": export_time(token["created_at"]),
                "expires_at": export_time(token["expires_at"]),
                "revoked": token["blacklistedtoken__id"] is not None,
            }
            for token in api_tokens
        ],
        "two_factor": {"enabled": user_has_two_factor(user)},
        "email_addresses": list(
            EmailAddress.objects.filter(user=user)
            .order_by("pk")
            .values("email", "verified", "primary")
        ),
        "verification_codes": [
            {
                "channel": code.channel,
                "target": code.target,
                "created_at": export_time(code.created_at),
                "expires_at": export_time(code.expires_at),
                "consumed_at": export_time(code.consumed_at),
            }
            for code in VerificationCode.objects.filter(user=user).order_by("created_at", "pk")
        ],
        # The images themselves stay in private storage; the file says which ones we hold.
        "kyc_submissions": [
            {
                "status": submission.status,
                "full_name": submission.full_name,
                "cpf": submission.cpf,
                "birth_date": submission.birth_date.isoformat(),
                "documents": ["document_front", "document_back", "selfie"],
                "rejection_reason": submission.rejection_reason,
                "created_at": export_time(submission.created_at),
                "reviewed_at": export_time(submission.reviewed_at),
            }
            for submission in KycSubmission.objects.filter(user=user).order_by("created_at", "pk")
        ],
        # Earlier emails, names and phones are data we hold about the person too.
        "profile_history": [
            {
                "changed_at": export_time(entry.history_date),
                "change": _HISTORY_TYPES.get(entry.history_type, entry.history_type),
                "email": entry.email,
                "display_name": entry.display_name,
                "phone": str(entry.phone) if entry.phone else "",
                "language": entry.language,
                "time_zone": entry.time_zone,
                "account_type": entry.account_type,
            }
            for entry in history
        ],
    }
    for name in export_section_names():
        export[name] = _export_sections[name](user)
    return export


def _invitation(invitation: Invitation, *, with_email: bool) -> dict[str, Any]:
    item: dict[str, Any] = {
        "organization_id": invitation.organization_id,
        "organization_name": invitation.organization.name,
        "role": invitation.role,
        "status": services.invitation_status(invitation),
        "created_at": export_time(invitation.created_at),
        "expires_at": export_time(invitation.expires_at),
    }
    if with_email:
        # The address the person typed when inviting: part of what they did.
        item["email"] = invitation.email
    return item


def _audit_event(event: Mapping[str, Any], user: User) -> dict[str, Any]:
    # Where someone else acted on this account (staff, an admin), their address and browser
    # are that person's data, not this one's. Failed sign-ins have no actor: their origin is
    # exactly what the account holder needs to see.
    own = event["actor_id"] in (None, user.pk)
    return {
        "action": event["action"],
        "created_at": export_time(event["created_at"]),
        "organization_id": event["organization_id"],
        "ip_address": event["ip_address"] if own else None,
        "user_agent": event["user_agent"] if own else "",
        "data": event["data"],
    }


def account_export(*, user: User) -> dict[str, Any]:
    """Hand ``user`` their data (``user_data_export``) and write ``accounts.data_exported``.

    The audit row is written after the data is gathered, so an export does not list itself.
    """
    export = user_data_export(user=user)
    services.audit_record(action=AuditAction.DATA_EXPORTED, actor=user, target=user)
    return export


# --- Deletion ---------------------------------------------------------------------------------


class ReauthenticationFailedError(ApplicationError):
    code = "accounts.reauthentication_failed"
    status_code = status.HTTP_403_FORBIDDEN


def deleted_email(user_id: int) -> str:
    """The address an anonymized account keeps: unique, and undeliverable by definition."""
    return f"deleted-{user_id}@deleted.invalid"


@transaction.atomic
def account_delete(*, user: User, password: str) -> None:
    """Delete ``user``'s account at their request: anonymize the row, drop the rest.

    The password is checked first, before any lock (hashing is slow), and a wrong one raises
    ``accounts.reauthentication_failed`` (403). Then the admin memberships of every
    organization the person belongs to are locked in primary-key order (the order
    ``services.membership_remove`` uses), then the user row. The last org admin of an
    organization that has other members is refused with ``accounts.last_org_admin`` (409,
    ``extra.organization_ids``); an organization where they are the only member is simply
    left, member-less, for staff to deal with.

    Writes ``accounts.deleted`` to the audit trail; each membership is removed with its own
    ``organizations.member_removed`` row and ``accounts.membership.deleted`` event. Sessions,
    the allauth session list, 2FA devices, verification codes, allauth email addresses and
    the profile's change history are deleted, refresh tokens blacklisted, and the avatar file
    deleted after commit. Signing out everywhere follows: the sessions are gone, and any left
    untracked no longer authenticate (inactive user, changed password hash). KYC submissions
    are left as they are: the identity checks behind payouts are records a payments business
    may be obliged to keep (LGPD Art. 16, I), which is for the business to settle, not code.

    The audit trail is kept untouched, including ``actor_label`` with the old email: it is
    the record of who did what that we are legally obliged to keep (LGPD Art. 16, I;
    Marco Civil da Internet Art. 15 for access logs), and the database refuses to change it.
    """
    if not user.check_password(password):
        raise ReauthenticationFailedError(_("The password is not right."))

    organization_ids = sorted(
        set(Membership.objects.filter(user=user).values_list("organization_id", flat=True))
    )
    list(
        Membership.objects.select_for_update()
        .filter(organization_id__in=organization_ids, role=Role.ORG_ADMIN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    locked = User.objects.select_for_update().get(pk=user.pk)
    memberships = list(
        Membership.objects.filter(user=locked).select_related("organization").order_by("pk")
    )
    sole_member_of = _check_not_last_admin(locked, memberships)

    services.audit_record(action=AuditAction.ACCOUNT_DELETED, actor=locked, target=locked)

    for membership in memberships:
        services.membership_remove(
            membership=membership,
            actor=locked,
            # An organization where they are the only member is left member-less.
            allow_emptying=membership.organization_id in sole_member_of,
        )

    # Invitations they sent stay: they are the organization's, made on its behalf, and name the
    # invitee, not the sender (who now shows as the anonymized address). Invitations they
    # accepted are tied to the account, so the address on them goes with it.
    Invitation.objects.filter(accepted_by=locked).update(
        email=deleted_email(locked.pk), updated_at=timezone.now()
    )

    _end_sessions(locked)
    outstanding = OutstandingToken.objects.filter(user=locked, blacklistedtoken__isnull=True)
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding], ignore_conflicts=True
    )
    TOTPDevice.objects.filter(user=locked).delete()
    StaticDevice.objects.filter(user=locked).delete()  # its recovery codes go with it
    VerificationCode.objects.filter(user=locked).delete()
    EmailAddress.objects.filter(user=locked).delete()

    if locked.avatar:
        # Deleting a file can be a network call (S3): not while the rows are locked, and not
        # at all if the deletion rolls back.
        storage, name = locked.avatar.storage, str(locked.avatar.name)
        transaction.on_commit(lambda: storage.delete(name), robust=True)

    _anonymize(locked)


def _check_not_last_admin(user: User, memberships: list[Membership]) -> set[int]:
    """Raise LastOrgAdminError where leaving would strand other members without an admin.

    Returns the organizations where the person is the only member (nobody is stranded).
    Runs with the admin memberships locked, so no admin can leave in between.
    """
    admin_of = [m.organization_id for m in memberships if m.role == Role.ORG_ADMIN]
    others = {
        row["organization_id"]: row
        for row in Membership.objects.filter(organization_id__in=admin_of)
        .exclude(user=user)
        .values("organization_id")
        .annotate(members=Count("pk"), admins=Count("pk", filter=Q(role=Role.ORG_ADMIN)))
    }
    stranded = sorted(
        organization_id
        for organization_id, row in others.items()
        if row["members"] > 0 and row["admins"] == 0
    )
    if stranded:
        raise services.LastOrgAdminError(extra={"organization_ids": stranded})
    return {organization_id for organization_id in admin_of if organization_id not in others}


def _end_sessions(user: User) -> None:
    """Delete the person's browser sessions that allauth lists, and the list itself.

    With the database session engine this is part of the transaction. A session allauth did
    not track is left to expire: it no longer authenticates anyone, because Django refuses
    an inactive user and a session whose password hash no longer matches.
    """
    store_class = import_module(settings.SESSION_ENGINE).SessionStore
    tracked = UserSession.objects.filter(user=user)
    for session_key in tracked.values_list("session_key", flat=True):
        store_class().delete(session_key)
    tracked.delete()


def _anonymize(user: User) -> None:
    """Strip the row of everything personal; keep it for the records that point at it."""
    user.email = deleted_email(user.pk)
    user.display_name = ""
    user.phone = ""
    user.avatar = ""  # type: ignore[assignment]
    user.language = settings.LANGUAGE_CODE
    user.time_zone = DEFAULT_TIME_ZONE
    user.email_verified_at = None
    user.phone_verified_at = None
    user.email_undeliverable_at = None
    user.email_undeliverable_reason = ""
    user.active_organization = None
    user.last_login = None
    user.is_active = False
    user.is_staff = False
    user.is_superuser = False
    user.set_unusable_password()
    user.save()
    # The change history keeps every earlier email, name and phone; it goes last, so the
    # entry the save above just wrote goes too.
    User.history.filter(id=user.pk).delete()
