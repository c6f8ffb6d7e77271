"""Clients rate the calls they had: one rating per ended call, folded into the profile."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from calls.models import Call, CallRating, CallStatus, ProfessionalProfile
from core.exceptions import ConflictError, NotFoundError

COMMENT_MAX_LENGTH = 1000


class NotRateableError(ConflictError):
    code = "calls.not_rateable"


class AlreadyRatedError(ConflictError):
    code = "calls.already_rated"


def rating_average(*, rating_sum: int, rating_count: int) -> Decimal:
    """The average with two decimals, halves rounded up (4.125 → 4.13); 0.00 when unrated."""
    if rating_count == 0:
        return Decimal("0.00")
    return (Decimal(rating_sum) / Decimal(rating_count)).quantize(
        Decimal("0.01"), rounding=ROUND_HALF_UP
    )


def _validate(stars: Any, comment: Any) -> str:
    errors: dict[str, list[str]] = {}
    if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
        errors["stars"] = [_("Give 1 to 5 stars.")]
    if not isinstance(comment, str):
        errors["comment"] = [_("Give a text.")]
    elif len(comment.strip()) > COMMENT_MAX_LENGTH:
        errors["comment"] = [_("At most %(max)d characters.") % {"max": COMMENT_MAX_LENGTH}]
    if errors:
        raise ValidationError(errors)
    return str(comment).strip()


@transaction.atomic
def call_rate(*, call_id: int, user: Any, stars: int, comment: str = "") -> CallRating:
    """The client rates their ended call, once; the professional's average follows.

    Locks the call row, then the professional's profile row (the order every calls service
    uses), so two ratings of the same professional never lose an update of the counters.
    Raises ``not_found`` (404) when ``user`` is not the call's client (the professional of the
    call included: only clients rate), ``calls.not_rateable`` (409, extra ``status``) when the
    call has not ended, ``calls.already_rated`` (409) for a second rating (the one-to-one
    unique constraint is the backstop if two requests race), ``validation_error`` (400).
    """
    comment = _validate(stars, comment)
    call = Call.objects.select_for_update().filter(pk=call_id, client_id=user.pk).first()
    if call is None:
        raise NotFoundError()
    if call.status != CallStatus.ENDED:
        raise NotRateableError(
            _("Only a call that took place can be rated."), extra={"status": call.status}
        )
    if CallRating.objects.filter(call=call).exists():
        raise AlreadyRatedError(_("You already rated this call."))
    try:
        with transaction.atomic():
            rating = CallRating.objects.create(
                call=call,
                client_id=call.client_id,
                professional_id=call.professional_id,
                stars=stars,
                comment=comment,
            )
    except IntegrityError as exc:
        raise AlreadyRatedError(_("You already rated this call.")) from exc
    profile = (
        ProfessionalProfile.objects.select_for_update().filter(user_id=call.professional_id).first()
    )
    if profile is not None:
        profile.rating_count += 1
        profile.rating_sum += stars
        profile.rating_average = rating_average(
            rating_sum=profile.rating_sum, rating_count=profile.rating_count
        )
        profile.save(update_fields=["rating_count", "rating_sum", "rating_average", "updated_at"])
    return rating
