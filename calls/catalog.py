"""The professionals' catalog: profile writes (the professional's own page) and catalog reads.

Writes:

- ``professional_profile_update``: headline, bio, price, specialties, languages and weekly
  availability, validated as a whole before anything is written; the profile is created on
  the first save. Errors: ``calls.not_professional`` (403) for anyone who is not a
  professional; ``validation_error`` (400) with ``extra.fields`` naming each bad field, and
  nothing written.
- ``professional_photo_set``: an uploaded photo, decoded and re-encoded from its pixels with
  Pillow (no metadata or trailing payload survives). Errors: ``calls.not_professional`` (403),
  ``calls.profile_required`` (409, save the profile first), ``calls.photo_too_large`` (413),
  ``calls.photo_invalid`` (422).

Reads keep a constant number of queries per page: the user is joined, specialties and
languages are prefetched (see ``professional_catalog``).
"""

from __future__ import annotations

import datetime
import io
import itertools
import re
import uuid
import warnings
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import IO, Any

from django.conf import settings
from django.conf.locale import LANG_INFO
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status

from accounts.models import AccountType, User
from calls.models import (
    AvailabilitySlot,
    Call,
    CallRating,
    CallStatus,
    ProfessionalLanguage,
    ProfessionalProfile,
    ProfessionalStatus,
    Specialty,
)
from core.exceptions import ApplicationError, ConflictError, NotFoundError, PermissionDeniedError

# A sane ceiling: a typo (2000 for 20) must not put an absurd price on a public page.
MAX_PRICE_PER_MINUTE = 1000
MAX_SPECIALTIES = 10
MAX_LANGUAGES = 10
MAX_AVAILABILITY_SLOTS = 50
HEADLINE_MAX_LENGTH = 120
BIO_MAX_LENGTH = 4000
MAX_PHOTO_BYTES = 5 * 1024 * 1024
# Decoding is refused above this many pixels (Pillow's own guard starts much later).
MAX_PHOTO_PIXELS = 40_000_000
PHOTO_MAX_PX = 800
PHOTO_FORMATS = {"JPEG", "PNG", "WEBP"}
LATEST_REVIEWS = 5

ORDERINGS: dict[str, tuple[str, ...]] = {
    "rating": ("-rating_average", "-rating_count", "id"),
    "price": ("price_per_minute", "id"),
    "-price": ("-price_per_minute", "id"),
    "popularity": ("-calls_completed", "id"),
}
DEFAULT_ORDERING = "rating"

_TIME = re.compile(r"^(\d{2}):(\d{2})$")
_LANGUAGE = re.compile(r"^([a-zA-Z]{2,3})(?:-([a-zA-Z]{2}|\d{3}))?$")


class NotProfessionalError(PermissionDeniedError):
    code = "calls.not_professional"

    def __init__(self) -> None:
        super().__init__(_("Only professionals can do this."))


def require_professional(user: Any) -> None:
    """Raise ``calls.not_professional`` unless ``user`` is an active professional."""
    if not user.is_active or user.account_type != AccountType.PROFESSIONAL:
        raise NotProfessionalError()


# --- Validation ------------------------------------------------------------------------------


def normalize_language(code: str) -> str | None:
    """``pt-br`` → ``pt-BR``; None when ``code`` is not a language Django knows."""
    match = _LANGUAGE.match(code.strip()) if isinstance(code, str) else None
    if match is None:
        return None
    language, region = match.group(1).lower(), match.group(2)
    if language not in LANG_INFO:
        return None
    return f"{language}-{region.upper()}" if region else language


def _minutes(value: Any, *, allow_midnight_end: bool) -> int | None:
    match = _TIME.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    hours, minutes = int(match.group(1)), int(match.group(2))
    if allow_midnight_end and (hours, minutes) == (24, 0):
        return 24 * 60
    if hours > 23 or minutes > 59:
        return None
    return hours * 60 + minutes


def format_minutes(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class SlotInput:
    weekday: int
    start_minute: int
    end_minute: int


def _validate_availability(value: Any) -> tuple[list[SlotInput], list[str]]:
    if not isinstance(value, list):
        return [], [_("Send a list of weekly time slots.")]
    if len(value) > MAX_AVAILABILITY_SLOTS:
        return [], [_("At most %(count)d time slots.") % {"count": MAX_AVAILABILITY_SLOTS}]
    slots: list[SlotInput] = []
    errors: list[str] = []
    for index, item in enumerate(value, start=1):
        if not isinstance(item, Mapping) or set(item) != {"weekday", "start", "end"}:
            errors.append(_("Slot %(n)d: give weekday, start and end.") % {"n": index})
            continue
        weekday = item["weekday"]
        if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
            errors.append(_("Slot %(n)d: the weekday is 0 (Monday) to 6.") % {"n": index})
            continue
        start = _minutes(item["start"], allow_midnight_end=False)
        end = _minutes(item["end"], allow_midnight_end=True)
        if start is None or end is None:
            errors.append(_("Slot %(n)d: times are HH:MM.") % {"n": index})
            continue
        if start >= end:
            errors.append(_("Slot %(n)d: the start must come before the end.") % {"n": index})
            continue
        slots.append(SlotInput(weekday, start, end))
    if errors:
        return [], errors
    slots.sort(key=lambda slot: (slot.weekday, slot.start_minute))
    for previous, current in itertools.pairwise(slots):
        if previous.weekday == current.weekday and current.start_minute < previous.end_minute:
            errors.append(
                _("Time slots on the same day overlap (%(start)s to %(end)s).")
                % {
                    "start": format_minutes(current.start_minute),
                    "end": format_minutes(previous.end_minute),
                }
            )
    return (slots, []) if not errors else ([], errors)


def _validate_price(value: Any) -> tuple[int | None, list[str]]:
    if not isinstance(value, int) or isinstance(value, bool):
        return None, [_("Give a whole number of tokens.")]
    if not 0 < value <= MAX_PRICE_PER_MINUTE:
        return None, [
            _("The price per minute is 1 to %(max)d tokens.") % {"max": MAX_PRICE_PER_MINUTE}
        ]
    return value, []


def _validate_text(value: Any, *, max_length: int) -> tuple[str, list[str]]:
    if not isinstance(value, str):
        return "", [_("Give a text.")]
    value = value.strip()
    if len(value) > max_length:
        return "", [_("At most %(max)d characters.") % {"max": max_length}]
    return value, []


def _validate_specialties(value: Any) -> tuple[list[Specialty], list[str]]:
    if not isinstance(value, list) or not all(isinstance(slug, str) for slug in value):
        return [], [_("Send a list of specialty slugs.")]
    slugs = list(dict.fromkeys(value))
    if len(slugs) > MAX_SPECIALTIES:
        return [], [_("At most %(count)d specialties.") % {"count": MAX_SPECIALTIES}]
    found = {s.slug: s for s in Specialty.objects.filter(slug__in=slugs)}
    unknown = [slug for slug in slugs if slug not in found]
    if unknown:
        return [], [_("Unknown specialty: %(slugs)s.") % {"slugs": ", ".join(unknown)}]
    return [found[slug] for slug in slugs], []


def _validate_languages(value: Any) -> tuple[list[str], list[str]]:
    if not isinstance(value, list):
        return [], [_("Send a list of language codes.")]
    codes: list[str] = []
    bad: list[str] = []
    for code in value:
        normalized = normalize_language(code)
        if normalized is None:
            bad.append(str(code))
        elif normalized not in codes:
            codes.append(normalized)
    if bad:
        return [], [_("Unknown language: %(codes)s.") % {"codes": ", ".join(bad)}]
    if len(codes) > MAX_LANGUAGES:
        return [], [_("At most %(count)d languages.") % {"count": MAX_LANGUAGES}]
    return codes, []


# --- Writes ----------------------------------------------------------------------------------

PROFILE_FIELDS = ("headline", "bio", "price_per_minute", "specialties", "languages", "availability")


@transaction.atomic
def professional_profile_update(*, user: User, data: Mapping[str, Any]) -> ProfessionalProfile:
    """Save the professional's page: the profile is created on the first save.

    Fields left out keep their value (``price_per_minute`` is required the first time);
    ``specialties``, ``languages`` and ``availability`` given are replaced as a whole. Every
    field is validated before anything is written. Locks the profile row (the rating and
    call services update its counters under the same lock). Raises ``calls.not_professional``
    (403) and ``validation_error`` (400, ``extra.fields``).
    """
    require_professional(user)
    unknown = sorted(str(name) for name in data if name not in PROFILE_FIELDS)
    errors: dict[str, list[str]] = {name: [_("Unknown field.")] for name in unknown}
    profile = ProfessionalProfile.objects.select_for_update().filter(user=user).first()
    values: dict[str, Any] = {}
    if "headline" in data:
        values["headline"], errors["headline"] = _validate_text(
            data["headline"], max_length=HEADLINE_MAX_LENGTH
        )
    if "bio" in data:
        values["bio"], errors["bio"] = _validate_text(data["bio"], max_length=BIO_MAX_LENGTH)
    if "price_per_minute" in data:
        values["price_per_minute"], errors["price_per_minute"] = _validate_price(
            data["price_per_minute"]
        )
    elif profile is None:
        errors["price_per_minute"] = [_("Set your price per minute.")]
    specialties = languages = slots = None
    if "specialties" in data:
        specialties, errors["specialties"] = _validate_specialties(data["specialties"])
    if "languages" in data:
        languages, errors["languages"] = _validate_languages(data["languages"])
    if "availability" in data:
        slots, errors["availability"] = _validate_availability(data["availability"])
    errors = {field: messages for field, messages in errors.items() if messages}
    if errors:
        raise ValidationError(errors)

    if profile is None:
        profile = ProfessionalProfile.objects.create(user=user, **values)
    elif values:
        for name, value in values.items():
            setattr(profile, name, value)
        profile.save(update_fields=[*values, "updated_at"])
    if specialties is not None:
        profile.specialties.set(specialties)
    if languages is not None:
        ProfessionalLanguage.objects.filter(profile=profile).exclude(code__in=languages).delete()
        have = set(
            ProfessionalLanguage.objects.filter(profile=profile).values_list("code", flat=True)
        )
        ProfessionalLanguage.objects.bulk_create(
            [
                ProfessionalLanguage(profile=profile, code=code)
                for code in languages
                if code not in have
            ]
        )
    if slots is not None:
        AvailabilitySlot.objects.filter(profile=profile).delete()
        AvailabilitySlot.objects.bulk_create(
            [
                AvailabilitySlot(
                    profile=profile,
                    weekday=slot.weekday,
                    start_minute=slot.start_minute,
                    end_minute=slot.end_minute,
                )
                for slot in slots
            ]
        )
    return profile


def _photo_invalid() -> ApplicationError:
    return ApplicationError(
        _("Send a photo: JPEG, PNG or WebP."),
        code="calls.photo_invalid",
        status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
    )


def _reencode_photo(file: IO[bytes]) -> bytes:
    """Decode the image and draw it again (at most 800 px a side) as a JPEG."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            file.seek(0)
            with Image.open(file) as probe:
                if probe.format not in PHOTO_FORMATS:
                    raise _photo_invalid()
                if probe.width * probe.height > MAX_PHOTO_PIXELS:
                    raise _photo_invalid()
                probe.verify()
            file.seek(0)
            with Image.open(file) as image:
                image.draft("RGB", (PHOTO_MAX_PX * 2, PHOTO_MAX_PX * 2))
                shown = ImageOps.exif_transpose(image)
                if shown.mode in ("RGBA", "LA", "PA") or "transparency" in shown.info:
                    # A photo has no business being transparent: flatten it on white.
                    rgba = shown.convert("RGBA")
                    flat = Image.new("RGB", rgba.size, (255, 255, 255))
                    flat.paste(rgba, mask=rgba.getchannel("A"))
                    shown = flat
                picture = shown.convert("RGB")
                picture.thumbnail((PHOTO_MAX_PX, PHOTO_MAX_PX))
                out = io.BytesIO()
                picture.save(out, format="JPEG", quality=85, optimize=True)
    except ApplicationError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise _photo_invalid() from exc
    finally:
        file.seek(0)
    return out.getvalue()


def professional_photo_set(*, user: User, upload: Any) -> ProfessionalProfile:
    """Replace the professional's photo with a re-encoded copy of ``upload``.

    The image is decoded and re-encoded before the transaction (no lock held while Pillow
    works); the old file is deleted after commit. Raises ``calls.not_professional`` (403),
    ``calls.profile_required`` (409), ``calls.photo_too_large`` (413), ``calls.photo_invalid``
    (422).
    """
    require_professional(user)
    if not ProfessionalProfile.objects.filter(user=user).exists():
        raise ConflictError(
            _("Save your profile before adding a photo."), code="calls.profile_required"
        )
    if upload.size > MAX_PHOTO_BYTES:
        raise ApplicationError(
            _("The photo is larger than 5 MB."),
            code="calls.photo_too_large",
            status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
            extra={"max_bytes": MAX_PHOTO_BYTES},
        )
    if upload.size == 0:
        raise _photo_invalid()
    content = _reencode_photo(upload)
    new_name = ""
    try:
        with transaction.atomic():
            profile = ProfessionalProfile.objects.select_for_update().get(user=user)
            old_name = profile.photo.name
            profile.photo.save(f"{uuid.uuid4().hex}.jpg", ContentFile(content), save=False)
            new_name = profile.photo.name or ""
            profile.save(update_fields=["photo", "updated_at"])
            if old_name:
                storage = profile.photo.storage
                transaction.on_commit(lambda: storage.delete(old_name))
    except BaseException:
        # The file is written before the row: a failed save must not leave it behind.
        if new_name:
            ProfessionalProfile._meta.get_field("photo").storage.delete(new_name)  # type: ignore[attr-defined]
        raise
    return profile


# --- Reads -----------------------------------------------------------------------------------


def specialty_list() -> QuerySet[Specialty]:
    return Specialty.objects.order_by("name", "id")


def _listed() -> QuerySet[ProfessionalProfile]:
    return ProfessionalProfile.objects.filter(
        is_listed=True, user__is_active=True, user__account_type=AccountType.PROFESSIONAL
    )


def _with_card_relations(queryset: QuerySet[ProfessionalProfile]) -> QuerySet[ProfessionalProfile]:
    return queryset.select_related("user").prefetch_related(
        Prefetch("specialties", queryset=Specialty.objects.order_by("name", "id")),
        Prefetch("languages", queryset=ProfessionalLanguage.objects.order_by("code", "id")),
    )


@dataclass(frozen=True)
class CatalogFilters:
    search: str = ""
    specialty: str = ""
    language: str = ""
    min_price: int | None = None
    max_price: int | None = None
    online: bool = False
    min_rating: Decimal | None = None
    ordering: str = DEFAULT_ORDERING


def catalog_filters_parse(params: Mapping[str, Any]) -> CatalogFilters:
    """Read the catalog's query parameters; a bad one is a 400 naming it."""
    errors: dict[str, list[str]] = {}

    def integer(name: str) -> int | None:
        raw = str(params.get(name, "")).strip()
        if not raw:
            return None
        if not raw.isdigit():
            errors[name] = [_("Give a whole number.")]
            return None
        return int(raw)

    min_rating: Decimal | None = None
    raw_rating = str(params.get("min_rating", "")).strip()
    if raw_rating:
        try:
            min_rating = Decimal(raw_rating)
        except InvalidOperation:
            min_rating = None
        if min_rating is None or not min_rating.is_finite() or not 0 <= min_rating <= 5:
            errors["min_rating"] = [_("Give a rating from 0 to 5.")]
            min_rating = None
    ordering = str(params.get("ordering", "")).strip() or DEFAULT_ORDERING
    if ordering not in ORDERINGS:
        errors["ordering"] = [
            _("Order by one of: %(choices)s.") % {"choices": ", ".join(ORDERINGS)}
        ]
    online = str(params.get("online", "")).strip().lower()
    if online not in ("", "true", "false", "1", "0"):
        errors["online"] = [_("Give true or false.")]
    filters = CatalogFilters(
        search=str(params.get("search", "")).strip()[:100],
        specialty=str(params.get("specialty", "")).strip()[:60],
        language=str(params.get("language", "")).strip()[:10],
        min_price=integer("min_price"),
        max_price=integer("max_price"),
        online=online in ("true", "1"),
        min_rating=min_rating,
        ordering=ordering,
    )
    if errors:
        raise ValidationError(errors)
    return filters


def professional_catalog(*, filters: CatalogFilters) -> QuerySet[ProfessionalProfile]:
    """Listed profiles of active professionals, filtered and ordered.

    Specialty and language filters are ``EXISTS`` subqueries, not joins, so a professional
    with two matching specialties is still one row and no ``DISTINCT`` is needed. With the
    user joined and specialties and languages prefetched, a page costs the same few queries
    whatever its size (the count, the page, two prefetches).
    """
    queryset = _listed()
    if filters.search:
        term = filters.search
        queryset = queryset.filter(
            Q(user__display_name__icontains=term)
            | Q(headline__icontains=term)
            | Exists(Specialty.objects.filter(professionals=OuterRef("pk"), name__icontains=term))
        )
    if filters.specialty:
        queryset = queryset.filter(
            Exists(Specialty.objects.filter(professionals=OuterRef("pk"), slug=filters.specialty))
        )
    if filters.language:
        code = filters.language
        queryset = queryset.filter(
            Exists(
                ProfessionalLanguage.objects.filter(profile=OuterRef("pk")).filter(
                    Q(code__iexact=code) | Q(code__istartswith=f"{code}-")
                )
            )
        )
    if filters.min_price is not None:
        queryset = queryset.filter(price_per_minute__gte=filters.min_price)
    if filters.max_price is not None:
        queryset = queryset.filter(price_per_minute__lte=filters.max_price)
    if filters.online:
        queryset = queryset.filter(status=ProfessionalStatus.ONLINE, accepting_calls=True)
    if filters.min_rating is not None:
        queryset = queryset.filter(rating_average__gte=filters.min_rating)
    return _with_card_relations(queryset).order_by(*ORDERINGS[filters.ordering])


def professional_get_listed(*, professional_id: int) -> ProfessionalProfile:
    """A listed professional's profile (by user id), with availability; else 404."""
    profile = (
        _with_card_relations(_listed())
        .prefetch_related(
            Prefetch(
                "availability",
                queryset=AvailabilitySlot.objects.order_by("weekday", "start_minute"),
            )
        )
        .filter(user_id=professional_id)
        .first()
    )
    if profile is None:
        raise NotFoundError()
    return profile


def queue_length(*, professional_id: int) -> int:
    """How many clients are in the professional's marketplace queue now."""
    from queueing.models import OPEN_STATUSES, MarketplaceQueueEntry

    return MarketplaceQueueEntry.objects.filter(
        professional_id=professional_id, status__in=OPEN_STATUSES
    ).count()


def reviews_for(*, professional_id: int) -> QuerySet[CallRating]:
    """The ratings a professional received, newest first (404 if not listed)."""
    if not _listed().filter(user_id=professional_id).exists():
        raise NotFoundError()
    return (
        CallRating.objects.filter(professional_id=professional_id)
        .select_related("client")
        .order_by("-created_at", "-id")
    )


def reviewer_name(user: User) -> str:
    """Reviews show the client's first name only."""
    first = user.display_name.split()[0] if user.display_name.strip() else ""
    return first or _("Client")


def own_profile(*, user: User) -> ProfessionalProfile | None:
    require_professional(user)
    return (
        _with_card_relations(ProfessionalProfile.objects.filter(user=user))
        .prefetch_related(
            Prefetch(
                "availability",
                queryset=AvailabilitySlot.objects.order_by("weekday", "start_minute"),
            )
        )
        .first()
    )


def local_midnight(*, time_zone: str, now: datetime.datetime | None = None) -> datetime.datetime:
    """The start of today in ``time_zone`` (an aware datetime)."""
    now = now or timezone.now()
    try:
        zone = zoneinfo.ZoneInfo(time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    local = now.astimezone(zone)
    return datetime.datetime.combine(local.date(), datetime.time(), tzinfo=zone)


@dataclass(frozen=True)
class Dashboard:
    status: str
    accepting_calls: bool
    queue_length: int
    calls_today: int
    seconds_today: int
    earned_today: int
    rating_average: Decimal
    rating_count: int


def professional_dashboard(*, user: User, now: datetime.datetime | None = None) -> Dashboard:
    """The professional's figures for today (since midnight in their own time zone).

    ``calls`` and ``seconds``: calls that ended today and their connected time; ``earned``:
    the professional's share of every charge credited to their clearing account today (the
    ledger, not the calls' billed amounts, so it matches their statement).
    """
    from wallet.models import AccountKind, Transfer, TransferKind

    require_professional(user)
    now = now or timezone.now()
    midnight = local_midnight(time_zone=user.time_zone, now=now)
    profile = ProfessionalProfile.objects.filter(user=user).first()
    calls = Call.objects.filter(
        professional=user, status=CallStatus.ENDED, ended_at__gte=midnight, ended_at__lte=now
    ).aggregate(count=Count("id"), seconds=Sum("connected_seconds"))
    earned = Transfer.objects.filter(
        credit_account__user=user,
        credit_account__kind=AccountKind.EARNINGS_PENDING,
        kind=TransferKind.CHARGE,
        created_at__gte=midnight,
        created_at__lte=now,
    ).aggregate(total=Sum("amount"))["total"]
    return Dashboard(
        status=profile.status if profile else ProfessionalStatus.OFFLINE,
        accepting_calls=profile.accepting_calls if profile else False,
        queue_length=queue_length(professional_id=user.pk),
        calls_today=calls["count"] or 0,
        seconds_today=calls["seconds"] or 0,
        earned_today=earned or 0,
        rating_average=profile.rating_average if profile else Decimal("0.00"),
        rating_count=profile.rating_count if profile else 0,
    )


def photo_url(profile: ProfessionalProfile) -> str | None:
    """The profile's photo, else the user's avatar, else None."""
    if profile.photo:
        return profile.photo.url
    return profile.user.avatar.url if profile.user.avatar else None
