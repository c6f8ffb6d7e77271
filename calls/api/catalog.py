"""Calls API, catalog side: professionals, specialties, reviews, the professional's own
profile and dashboard, ratings, call history and receipts.

Anyone signed in browses the catalog; ``me/`` endpoints are for professionals
(``calls.not_professional``, 403, for anyone else); a call the user is not part of answers 404.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import signed_in_user
from calls import catalog, history, ratings
from calls.models import Call, CallRating, ProfessionalProfile
from core.exceptions import NotFoundError
from core.pagination import PagePagination
from core.serializers import InputSerializer


class IsProfessional(BasePermission):
    """Signed in, and a professional (anyone else: ``calls.not_professional``, 403)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        catalog.require_professional(request.user)
        return True


# --- Serializers -----------------------------------------------------------------------------


class SpecialtyOutput(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class ProfessionalCardOutput(serializers.Serializer):
    id = serializers.IntegerField(help_text="The professional's user id.")
    display_name = serializers.CharField()
    headline = serializers.CharField()
    photo_url = serializers.CharField(allow_null=True)
    specialties = SpecialtyOutput(many=True)
    languages = serializers.ListField(child=serializers.CharField())
    price_per_minute = serializers.IntegerField()
    status = serializers.CharField()
    accepting_calls = serializers.BooleanField()
    rating_average = serializers.DecimalField(max_digits=3, decimal_places=2)
    rating_count = serializers.IntegerField()
    calls_completed = serializers.IntegerField()


class AvailabilityOutput(serializers.Serializer):
    weekday = serializers.IntegerField(help_text="0 is Monday.")
    start = serializers.CharField(help_text="HH:MM in the professional's time zone.")
    end = serializers.CharField(help_text="HH:MM; 24:00 is midnight at the end of the day.")


class ReviewOutput(serializers.Serializer):
    id = serializers.IntegerField()
    stars = serializers.IntegerField()
    comment = serializers.CharField()
    client_name = serializers.CharField(help_text="The client's first name only.")
    created_at = serializers.DateTimeField()


class ProfessionalDetailOutput(ProfessionalCardOutput):
    bio = serializers.CharField()
    availability = AvailabilityOutput(many=True)
    time_zone = serializers.CharField()
    queue_length = serializers.IntegerField()
    minimum_fee = serializers.IntegerField()
    queue_fee = serializers.IntegerField()
    reviews = ReviewOutput(many=True, help_text="The latest five.")


class MyProfileOutput(serializers.Serializer):
    exists = serializers.BooleanField(help_text="False until the first save.")
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    headline = serializers.CharField()
    bio = serializers.CharField()
    photo_url = serializers.CharField(allow_null=True)
    price_per_minute = serializers.IntegerField(allow_null=True)
    specialties = SpecialtyOutput(many=True)
    languages = serializers.ListField(child=serializers.CharField())
    availability = AvailabilityOutput(many=True)
    time_zone = serializers.CharField()
    is_listed = serializers.BooleanField()
    accepting_calls = serializers.BooleanField()
    status = serializers.CharField()
    rating_average = serializers.DecimalField(max_digits=3, decimal_places=2)
    rating_count = serializers.IntegerField()
    max_price_per_minute = serializers.IntegerField()


class AvailabilityInput(InputSerializer):
    weekday = serializers.IntegerField(min_value=0, max_value=6)
    start = serializers.CharField(max_length=5)
    end = serializers.CharField(max_length=5)


class MyProfileInput(InputSerializer):
    headline = serializers.CharField(
        max_length=catalog.HEADLINE_MAX_LENGTH, allow_blank=True, required=False
    )
    bio = serializers.CharField(max_length=catalog.BIO_MAX_LENGTH, allow_blank=True, required=False)
    price_per_minute = serializers.IntegerField(required=False)
    specialties = serializers.ListField(
        child=serializers.CharField(max_length=60), max_length=50, required=False
    )
    languages = serializers.ListField(
        child=serializers.CharField(max_length=20), max_length=50, required=False
    )
    availability = AvailabilityInput(many=True, required=False)


class PhotoInput(InputSerializer):
    photo = serializers.FileField()


class DashboardTodayOutput(serializers.Serializer):
    calls = serializers.IntegerField()
    seconds = serializers.IntegerField()
    earned = serializers.IntegerField(help_text="Tokens credited to you today (your share).")


class DashboardOutput(serializers.Serializer):
    status = serializers.CharField()
    accepting_calls = serializers.BooleanField()
    queue_length = serializers.IntegerField()
    today = DashboardTodayOutput()
    rating_average = serializers.DecimalField(max_digits=3, decimal_places=2)
    rating_count = serializers.IntegerField()


class RatingInput(InputSerializer):
    stars = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(
        max_length=ratings.COMMENT_MAX_LENGTH, allow_blank=True, default=""
    )


class RatingOutput(serializers.Serializer):
    id = serializers.IntegerField()
    call_id = serializers.IntegerField()
    stars = serializers.IntegerField()
    comment = serializers.CharField()
    created_at = serializers.DateTimeField()


class CallHistoryPartyOutput(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()
    avatar_url = serializers.CharField(allow_null=True)


class HistoryRatingOutput(serializers.Serializer):
    stars = serializers.IntegerField()
    comment = serializers.CharField()


class HistoryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    other = CallHistoryPartyOutput()
    status = serializers.CharField()
    end_reason = serializers.CharField()
    requested_at = serializers.DateTimeField()
    connected_at = serializers.DateTimeField(allow_null=True)
    ended_at = serializers.DateTimeField(allow_null=True)
    duration_seconds = serializers.IntegerField()
    charged = serializers.IntegerField(
        allow_null=True, help_text="Client view: tokens charged (ledger); null otherwise."
    )
    earned = serializers.IntegerField(
        allow_null=True, help_text="Professional view: your share (ledger); null otherwise."
    )
    rating = HistoryRatingOutput(allow_null=True)
    receipt_url = serializers.CharField(allow_null=True)
    dispute_reference = serializers.CharField(allow_null=True)


# --- Payload builders ------------------------------------------------------------------------


def _slots(profile: ProfessionalProfile) -> list[dict[str, Any]]:
    return [
        {
            "weekday": slot.weekday,
            "start": catalog.format_minutes(slot.start_minute),
            "end": catalog.format_minutes(slot.end_minute),
        }
        for slot in profile.availability.all()
    ]


def _card(profile: ProfessionalProfile) -> dict[str, Any]:
    return {
        "id": profile.user_id,
        "display_name": profile.user.get_full_name(),
        "headline": profile.headline,
        "photo_url": catalog.photo_url(profile),
        "specialties": [{"slug": s.slug, "name": s.name} for s in profile.specialties.all()],
        "languages": [language.code for language in profile.languages.all()],
        "price_per_minute": profile.price_per_minute,
        "status": profile.status,
        "accepting_calls": profile.accepting_calls,
        "rating_average": profile.rating_average,
        "rating_count": profile.rating_count,
        "calls_completed": profile.calls_completed,
    }


def _review(rating: CallRating) -> dict[str, Any]:
    return {
        "id": rating.pk,
        "stars": rating.stars,
        "comment": rating.comment,
        "client_name": catalog.reviewer_name(rating.client),
        "created_at": rating.created_at,
    }


def _my_profile(user: Any) -> dict[str, Any]:
    profile = catalog.own_profile(user=user)
    base: dict[str, Any] = {
        "exists": profile is not None,
        "id": user.pk,
        "display_name": user.get_full_name(),
        "time_zone": user.time_zone,
        "max_price_per_minute": catalog.MAX_PRICE_PER_MINUTE,
    }
    if profile is None:
        return {
            **base,
            "headline": "",
            "bio": "",
            "photo_url": user.avatar.url if user.avatar else None,
            "price_per_minute": None,
            "specialties": [],
            "languages": [],
            "availability": [],
            "is_listed": True,
            "accepting_calls": False,
            "status": "offline",
            "rating_average": "0.00",
            "rating_count": 0,
        }
    card = _card(profile)
    return {
        **base,
        **{key: card[key] for key in ("headline", "photo_url", "specialties", "languages")},
        "bio": profile.bio,
        "price_per_minute": profile.price_per_minute,
        "availability": _slots(profile),
        "is_listed": profile.is_listed,
        "accepting_calls": profile.accepting_calls,
        "status": profile.status,
        "rating_average": profile.rating_average,
        "rating_count": profile.rating_count,
    }


def _participant_call(request: Request, call_id: int) -> Call:
    user = signed_in_user(request)
    call = (
        Call.objects.filter(Q(client_id=user.pk) | Q(professional_id=user.pk), pk=call_id)
        .select_related("client", "professional")
        .first()
    )
    if call is None:
        raise NotFoundError()
    return call


# --- Views -----------------------------------------------------------------------------------

CATALOG_PARAMETERS = [
    OpenApiParameter("search", OpenApiTypes.STR, description="Name, headline or specialty."),
    OpenApiParameter("specialty", OpenApiTypes.STR, description="A specialty slug."),
    OpenApiParameter("language", OpenApiTypes.STR, description="A language code (pt, pt-BR)."),
    OpenApiParameter("min_price", OpenApiTypes.INT),
    OpenApiParameter("max_price", OpenApiTypes.INT),
    OpenApiParameter("online", OpenApiTypes.BOOL, description="Only those who can be called now."),
    OpenApiParameter("min_rating", OpenApiTypes.DECIMAL),
    OpenApiParameter("ordering", OpenApiTypes.STR, enum=list(catalog.ORDERINGS)),
    OpenApiParameter("page", OpenApiTypes.INT),
    OpenApiParameter("page_size", OpenApiTypes.INT),
]


class ProfessionalListApi(APIView):
    """The catalog of professionals, filtered and ordered."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        parameters=CATALOG_PARAMETERS,
        responses=ProfessionalCardOutput(many=True),
        summary="Browse professionals",
    )
    def get(self, request: Request) -> Response:
        filters = catalog.catalog_filters_parse(request.query_params)
        paginator = PagePagination()
        page = paginator.paginate_queryset(
            catalog.professional_catalog(filters=filters), request, view=self
        )
        items = [_card(profile) for profile in page or []]
        return paginator.get_paginated_response(ProfessionalCardOutput(items, many=True).data)


class ProfessionalDetailApi(APIView):
    """A professional's page: profile, weekly availability, queue length, latest reviews."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=ProfessionalDetailOutput, summary="A professional's page")
    def get(self, request: Request, professional_id: int) -> Response:
        profile = catalog.professional_get_listed(professional_id=professional_id)
        reviews = catalog.reviews_for(professional_id=professional_id)[: catalog.LATEST_REVIEWS]
        data = {
            **_card(profile),
            "bio": profile.bio,
            "availability": _slots(profile),
            "time_zone": profile.user.time_zone,
            "queue_length": catalog.queue_length(professional_id=professional_id),
            "minimum_fee": settings.CALLS_MINIMUM_FEE,
            "queue_fee": settings.QUEUE_FEE,
            "reviews": [_review(rating) for rating in reviews],
        }
        return Response(ProfessionalDetailOutput(data).data)


class ProfessionalReviewListApi(APIView):
    """A professional's reviews, newest first."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        parameters=[
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses=ReviewOutput(many=True),
        summary="A professional's reviews",
    )
    def get(self, request: Request, professional_id: int) -> Response:
        paginator = PagePagination()
        page = paginator.paginate_queryset(
            catalog.reviews_for(professional_id=professional_id), request, view=self
        )
        items = [_review(rating) for rating in page or []]
        return paginator.get_paginated_response(ReviewOutput(items, many=True).data)


class SpecialtyListApi(APIView):
    """Every specialty, for the catalog's filter and the profile form."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=SpecialtyOutput(many=True), summary="Specialties")
    def get(self, request: Request) -> Response:
        items = [{"slug": s.slug, "name": s.name} for s in catalog.specialty_list()]
        return Response(SpecialtyOutput(items, many=True).data)


class MyProfileApi(APIView):
    """The professional's own page: read it, or save it (created on the first save)."""

    permission_classes = (IsProfessional,)

    @extend_schema(responses=MyProfileOutput, summary="My professional profile")
    def get(self, request: Request) -> Response:
        return Response(MyProfileOutput(_my_profile(signed_in_user(request))).data)

    @extend_schema(
        request=MyProfileInput,
        responses=MyProfileOutput,
        summary="Save my professional profile",
        description="Fields left out keep their value; lists given replace the old ones.",
    )
    def put(self, request: Request) -> Response:
        data = MyProfileInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "availability" in values:
            values["availability"] = [dict(slot) for slot in values["availability"]]
        user = signed_in_user(request)
        catalog.professional_profile_update(user=user, data=values)
        return Response(MyProfileOutput(_my_profile(user)).data)


class MyProfilePhotoApi(APIView):
    """Upload the professional's photo (JPEG, PNG or WebP, at most 5 MB)."""

    permission_classes = (IsProfessional,)
    parser_classes = (MultiPartParser, FormParser)

    @extend_schema(
        request={"multipart/form-data": PhotoInput},
        responses=MyProfileOutput,
        summary="Upload my professional photo",
    )
    def post(self, request: Request) -> Response:
        data = PhotoInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = signed_in_user(request)
        catalog.professional_photo_set(user=user, upload=data.validated_data["photo"])
        return Response(MyProfileOutput(_my_profile(user)).data)


class MyDashboardApi(APIView):
    """The professional's status, queue and today's figures (in their own time zone)."""

    permission_classes = (IsProfessional,)

    @extend_schema(responses=DashboardOutput, summary="My professional dashboard")
    def get(self, request: Request) -> Response:
        board = catalog.professional_dashboard(user=signed_in_user(request))
        data = {
            "status": board.status,
            "accepting_calls": board.accepting_calls,
            "queue_length": board.queue_length,
            "today": {
                "calls": board.calls_today,
                "seconds": board.seconds_today,
                "earned": board.earned_today,
            },
            "rating_average": board.rating_average,
            "rating_count": board.rating_count,
        }
        return Response(DashboardOutput(data).data)


class CallRateApi(APIView):
    """The client rates an ended call, once."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(request=RatingInput, responses={201: RatingOutput}, summary="Rate a call")
    def post(self, request: Request, call_id: int) -> Response:
        data = RatingInput(data=request.data)
        data.is_valid(raise_exception=True)
        rating = ratings.call_rate(
            call_id=call_id, user=signed_in_user(request), **data.validated_data
        )
        payload = {
            "id": rating.pk,
            "call_id": rating.call_id,
            "stars": rating.stars,
            "comment": rating.comment,
            "created_at": rating.created_at,
        }
        return Response(RatingOutput(payload).data, status=status.HTTP_201_CREATED)


class CallHistoryApi(APIView):
    """My calls, as a client (what each cost) or as a professional (what each earned)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        parameters=[
            OpenApiParameter("as", OpenApiTypes.STR, enum=list(history.Role.CHOICES)),
            OpenApiParameter("page", OpenApiTypes.INT),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses=HistoryOutput(many=True),
        summary="My call history",
    )
    def get(self, request: Request) -> Response:
        user = signed_in_user(request)
        as_role = request.query_params.get("as", history.Role.CLIENT)
        if as_role not in history.Role.CHOICES:
            raise serializers.ValidationError({"as": [_("Give client or professional.")]})
        if as_role == history.Role.PROFESSIONAL:
            catalog.require_professional(user)
        paginator = PagePagination()
        page = paginator.paginate_queryset(
            history.call_history(user=user, as_role=as_role), request, view=self
        )
        rows = history.history_rows(
            calls=list(page or []),
            user=user,
            as_role=as_role,
            receipt_url=lambda call_id: reverse("calls:call-receipt", args=[call_id]),
        )
        return paginator.get_paginated_response(HistoryOutput(rows, many=True).data)


class CallReceiptApi(APIView):
    """A call's receipt: what was charged and, for the professional, the shares."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=OpenApiTypes.OBJECT, summary="A call's receipt")
    def get(self, request: Request, call_id: int) -> Response:
        call = _participant_call(request, call_id)
        from calls.receipts import call_receipt  # written by the billing side

        return Response(call_receipt(call=call, viewer=signed_in_user(request)))


urlpatterns: list[URLPattern] = [
    path("calls/professionals/", ProfessionalListApi.as_view(), name="professional-list"),
    path(
        "calls/professionals/<int:professional_id>/",
        ProfessionalDetailApi.as_view(),
        name="professional-detail",
    ),
    path(
        "calls/professionals/<int:professional_id>/reviews/",
        ProfessionalReviewListApi.as_view(),
        name="professional-reviews",
    ),
    path("calls/specialties/", SpecialtyListApi.as_view(), name="specialty-list"),
    path("calls/me/profile/", MyProfileApi.as_view(), name="my-profile"),
    path("calls/me/profile/photo/", MyProfilePhotoApi.as_view(), name="my-profile-photo"),
    path("calls/me/dashboard/", MyDashboardApi.as_view(), name="my-dashboard"),
    path("calls/history/", CallHistoryApi.as_view(), name="call-history"),
    path("calls/<int:call_id>/rating/", CallRateApi.as_view(), name="call-rating"),
    path("calls/<int:call_id>/receipt/", CallReceiptApi.as_view(), name="call-receipt"),
]
