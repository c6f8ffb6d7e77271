"""KYC: professionals prove who they are before they can withdraw earnings.

A professional submits full name, CPF, birth date, both sides of an identity document and
a selfie. Staff with the ``accounts.review_kyc`` permission approve or reject (with a
reason) in the admin; the professional is told by email and may submit again after a
rejection. Documents live in private storage and are served only by a checked view.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status

from accounts.audit import AuditAction
from accounts.models import AccountType, KycStatus, KycSubmission, User
from accounts.services import audit_record
from accounts.validators import cpf_digits
from core.exceptions import ApplicationError, ConflictError

MINIMUM_AGE_YEARS = 18


def _age_on(birth_date: date, today: date) -> int:
    return (
        today.year
        - birth_date.year
        - ((today.month, today.day) < (birth_date.month, birth_date.day))
    )


@transaction.atomic
def kyc_submit(
    *,
    user: User,
    full_name: str,
    cpf: str,
    birth_date: date,
    document_front: Any,
    document_back: Any,
    selfie: Any,
) -> KycSubmission:
    """Store a new submission for review (files already validated at the edge).

    Locks the user row so two submissions cannot race. Raises ``accounts.not_professional``
    (403), ``accounts.kyc_pending`` / ``accounts.kyc_already_approved`` (409) and
    ``accounts.kyc_underage`` (400).
    """
    locked = User.objects.select_for_update().get(pk=user.pk)
    if locked.account_type != AccountType.PROFESSIONAL:
        raise ApplicationError(
            _("Only professionals verify their identity."),
            code="accounts.not_professional",
            status_code=status.HTTP_403_FORBIDDEN,
        )
    latest = KycSubmission.objects.filter(user=locked).order_by("-created_at").first()
    if latest is not None and latest.status == KycStatus.PENDING:
        raise ConflictError(
            _("Your documents are already being reviewed."), code="accounts.kyc_pending"
        )
    if latest is not None and latest.status == KycStatus.APPROVED:
        raise ConflictError(
            _("Your identity is already verified."), code="accounts.kyc_already_approved"
        )
    if _age_on(birth_date, timezone.localdate()) < MINIMUM_AGE_YEARS:
        raise ApplicationError(
            _("You must be at least 18 years old."), code="accounts.kyc_underage"
        )
    try:
        with transaction.atomic():
            submission = KycSubmission.objects.create(
                user=locked,
                full_name=full_name.strip(),
                cpf=cpf_digits(cpf),
                birth_date=birth_date,
                document_front=document_front,
                document_back=document_back,
                selfie=selfie,
            )
    except IntegrityError as exc:  # a concurrent pending submission won the race
        raise ConflictError(
            _("Your documents are already being reviewed."), code="accounts.kyc_pending"
        ) from exc
    audit_record(action=AuditAction.KYC_SUBMITTED, actor=locked, target=submission)
    return submission


def _lock_pending(submission: KycSubmission) -> KycSubmission:
    locked = KycSubmission.objects.select_for_update().get(pk=submission.pk)
    if locked.status != KycStatus.PENDING:
        raise ConflictError(
            _("This submission was already reviewed."), code="accounts.kyc_reviewed"
        )
    return locked


def _notify(submission: KycSubmission) -> None:
    from accounts.tasks import send_kyc_decision_email

    transaction.on_commit(lambda: send_kyc_decision_email.delay(submission.pk), robust=True)


@transaction.atomic
def kyc_approve(*, submission: KycSubmission, reviewer: User) -> KycSubmission:
    """Approve a pending submission; emails the professional. Raises ``accounts.kyc_reviewed``."""
    locked = _lock_pending(submission)
    locked.status = KycStatus.APPROVED
    locked.reviewed_by = reviewer
    locked.reviewed_at = timezone.now()
    locked.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
    audit_record(action=AuditAction.KYC_APPROVED, actor=reviewer, target=locked)
    _notify(locked)
    return locked


@transaction.atomic
def kyc_reject(*, submission: KycSubmission, reviewer: User, reason: str) -> KycSubmission:
    """Reject a pending submission with a reason shown to the professional; emails them."""
    reason = reason.strip()
    if not reason:
        raise ApplicationError(
            _("Say why the documents were rejected."), code="accounts.kyc_reason_missing"
        )
    locked = _lock_pending(submission)
    locked.status = KycStatus.REJECTED
    locked.rejection_reason = reason[:500]
    locked.reviewed_by = reviewer
    locked.reviewed_at = timezone.now()
    locked.save(
        update_fields=["status", "rejection_reason", "reviewed_by", "reviewed_at", "updated_at"]
    )
    audit_record(
        action=AuditAction.KYC_REJECTED, actor=reviewer, target=locked, data={"reason": reason}
    )
    _notify(locked)
    return locked
