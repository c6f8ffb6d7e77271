"""Chat API: searching messages in an organization (see chat/search.py for what is searched)."""

from __future__ import annotations

import datetime
from typing import Any

from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import signed_in_user
from chat import search
from chat.api.serializers import MessageOutput
from core.pagination import PagePagination


class MomentField(serializers.Field):
    """A date (``2025-03-01``: that day's midnight in the person's time zone) or a datetime.

    ``end_of_day`` makes a bare date mean the *next* midnight, so ``until=2025-03-01``
    includes all of the first of March.
    """

    default_error_messages = {"invalid": _("Use a date (YYYY-MM-DD) or a date and time.")}

    def __init__(self, *, end_of_day: bool = False, **kwargs: Any) -> None:
        self.end_of_day = end_of_day
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> datetime.datetime:
        text = str(data).strip()
        try:
            day = parse_date(text)
            moment = None if day is not None else parse_datetime(text)
        except ValueError:
            self.fail("invalid")
        if day is not None:
            if self.end_of_day:
                day += datetime.timedelta(days=1)
            return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
        if moment is None:
            self.fail("invalid")
        assert moment is not None
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment)

    def to_representation(self, value: Any) -> Any:
        return value


class SearchRoomOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()


class SearchResultOutput(serializers.Serializer):
    message = MessageOutput()
    room = SearchRoomOutput()
    headline = serializers.CharField(help_text="Safe HTML: the matched text, matches in <mark>.")


class SearchPageOutput(serializers.Serializer):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = SearchResultOutput(many=True)


class MessageSearchApi(APIView):
    """Search the messages I may read in the organization, best matches first."""

    permission_classes = (IsAuthenticated,)

    class FilterSerializer(serializers.Serializer):
        q = serializers.CharField(required=False, allow_blank=True, default="")
        room = serializers.IntegerField(required=False, min_value=1)
        author = serializers.IntegerField(required=False, min_value=1)
        since = MomentField(required=False)
        until = MomentField(required=False, end_of_day=True)

    @extend_schema(
        parameters=[
            OpenApiParameter("q", str, required=True, description="Words to find (2+ letters)."),
            OpenApiParameter("room", int, description="Only this room."),
            OpenApiParameter("author", int, description="Only this author's messages."),
            OpenApiParameter("since", str, description="From this date or moment (inclusive)."),
            OpenApiParameter("until", str, description="Up to this date (inclusive) or moment."),
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
        ],
        responses=SearchPageOutput,
        summary="Search messages",
        description=(
            "Messages in my rooms and in the organization's public channels. PostgreSQL: "
            "Portuguese full-text search (web-search syntax); SQLite: every word must appear. "
            "A query without a word of two letters is `chat.search_query_invalid` (422)."
        ),
    )
    def get(self, request: Request, organization_id: int) -> Response:
        filters = self.FilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        messages = search.message_search(
            user=signed_in_user(request),
            organization_id=organization_id,
            query=data["q"],
            room_id=data.get("room"),
            author_id=data.get("author"),
            since=data.get("since"),
            until=data.get("until"),
        )
        paginator = PagePagination()
        page = paginator.paginate_queryset(
            search.with_search_relations(messages), request, view=self
        )
        assert page is not None
        results = search.search_results(page, query=data["q"])
        return paginator.get_paginated_response(SearchResultOutput(results, many=True).data)


urlpatterns: list[URLPattern] = [
    path(
        "organizations/<int:organization_id>/chat/search/",
        MessageSearchApi.as_view(),
        name="message-search",
    ),
]
