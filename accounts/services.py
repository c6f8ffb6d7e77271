"""Writes for users, organizations and memberships."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import events
from accounts.models import Membership, Organization, User
from accounts.roles import Role
from core.exceptions import ApplicationError, ConflictError

PROFILE_FIELDS = frozenset({"display_name", "phone", "language", "time_zone"})


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
    membership_create(organization=organization, user=creator, role=Role.ORG_ADMIN)
    return organization


@transaction.atomic
def membership_create(*, organization: Organization, user: User, role: str) -> Membership:
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
def membership_change_role(*, membership: Membership, role: str) -> Membership:
    """Give a member another role; emits accounts.membership.updated.

    Locks the organization's admin memberships and then the member's row. Raises
    LastOrgAdminError when it would leave the organization without an org admin.
    """
    admin_ids = _lock_admins(membership.organization_id)
    locked = Membership.objects.select_for_update().select_related("user").get(pk=membership.pk)
    if locked.role == role:
        return locked
    if locked.role == Role.ORG_ADMIN and admin_ids == [locked.pk]:
        raise LastOrgAdminError()
    locked.role = role
    locked.save(update_fields=["role", "updated_at"])
    events.membership_updated(locked)
    return locked


@transaction.atomic
def membership_remove(*, membership: Membership) -> None:
    """Remove a member from the organization; emits accounts.membership.deleted.

    Same locks and LastOrgAdminError as membership_change_role.
    """
    admin_ids = _lock_admins(membership.organization_id)
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.role == Role.ORG_ADMIN and admin_ids == [locked.pk]:
        raise LastOrgAdminError()
    membership_id, user_id, organization_id = locked.pk, locked.user_id, locked.organization_id
    locked.delete()
    events.membership_deleted(
        organization_id=organization_id, membership_id=membership_id, user_id=user_id
    )
