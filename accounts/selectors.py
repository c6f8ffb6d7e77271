"""Reads that apply visibility rules for users, organizations and memberships."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Invitation, KycStatus, KycSubmission, Membership, Organization, User
from accounts.roles import Capability, Role, role_can
from core.exceptions import NotFoundError


def membership_get(*, user: Any, organization_id: int) -> Membership | None:
    """The user's membership in the organization, or None (also for anonymous users)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Membership.objects.select_related("organization")
        .filter(user_id=user.pk, organization_id=organization_id)
        .first()
    )


def membership_get_or_404(*, user: Any, organization_id: int) -> Membership:
    """Like membership_get, but an outsider gets the same not-found as a missing org."""
    membership = membership_get(user=user, organization_id=organization_id)
    if membership is None:
        raise NotFoundError()
    return membership


def user_memberships(*, user: User) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(user=user)
        .select_related("organization")
        .order_by("organization__name", "organization_id")
    )


def organization_list_for_user(*, user: User) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user=user).order_by("name", "id")


def membership_list_for_organization(*, actor: User, organization_id: int) -> QuerySet[Membership]:
    """Members of an organization, for a member allowed to see them; otherwise not found."""
    membership = membership_get_or_404(user=actor, organization_id=organization_id)
    if not role_can(membership.role, Capability.VIEW_MEMBERS):
        raise NotFoundError()
    return (
        Membership.objects.filter(organization_id=organization_id)
        .select_related("user")
        .order_by("user__display_name", "user__email", "id")
    )


def membership_get_in_organization(*, organization_id: int, membership_id: int) -> Membership:
    try:
        return Membership.objects.select_related("user", "organization").get(
            pk=membership_id, organization_id=organization_id
        )
    except Membership.DoesNotExist as exc:
        raise NotFoundError() from exc


def membership_is_last_org_admin(*, membership_id: int) -> bool:
    """Whether this membership is its organization's only org admin (no lock: a hint)."""
    membership = Membership.objects.filter(pk=membership_id).only("organization_id", "role").first()
    if membership is None or membership.role != Role.ORG_ADMIN:
        return False
    return not (
        Membership.objects.filter(organization_id=membership.organization_id, role=Role.ORG_ADMIN)
        .exclude(pk=membership_id)
        .exists()
    )


def user_can_follow_organization(user: Any, key: str) -> bool:
    """Topic check for ``accounts.organization.<id>``: members with the capability."""
    if not key.isdigit():
        return False
    membership = membership_get(user=user, organization_id=int(key))
    return membership is not None and role_can(membership.role, Capability.FOLLOW_ORGANIZATION)


def user_kyc_approved(*, user: User) -> bool:
    """Whether the user's latest identity verification (KYC) is approved."""
    if user.pk is None:
        return False
    latest = KycSubmission.objects.filter(user=user).order_by("-created_at").first()
    return latest is not None and latest.status == KycStatus.APPROVED


def kyc_latest(*, user: User) -> KycSubmission | None:
    return KycSubmission.objects.filter(user=user).order_by("-created_at", "-id").first()


def kyc_get_for_viewer(*, viewer: Any, submission_id: int) -> KycSubmission:
    """A submission for its owner or for staff allowed to review KYC; otherwise not found."""
    submission = KycSubmission.objects.filter(pk=submission_id).first()
    allowed = submission is not None and (
        submission.user_id == getattr(viewer, "pk", None)
        or (viewer.is_staff and viewer.has_perm("accounts.review_kyc"))
    )
    if not allowed:
        raise NotFoundError()
    assert submission is not None
    return submission


def invitation_list_pending(*, organization_id: int) -> QuerySet[Invitation]:
    return (
        Invitation.objects.filter(
            organization_id=organization_id,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("invited_by")
        .order_by("-created_at", "-id")
    )


def invitation_get_in_organization(*, organization_id: int, invitation_id: int) -> Invitation:
    try:
        return Invitation.objects.get(pk=invitation_id, organization_id=organization_id)
    except Invitation.DoesNotExist as exc:
        raise NotFoundError() from exc


def invitation_get_by_token(*, token: str) -> Invitation:
    from accounts.services import invitation_token_hash

    invitation = (
        Invitation.objects.select_related("organization")
        .filter(token_hash=invitation_token_hash(token))
        .first()
    )
    if invitation is None:
        raise NotFoundError(code="accounts.invitation_not_found")
    return invitation
