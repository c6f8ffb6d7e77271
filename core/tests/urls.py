"""Views that raise each kind of error, so the error shape is tested at the HTTP boundary."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import path
from rest_framework import serializers
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from core.exceptions import ApplicationError
from core.pagination import FeedCursorPagination
from core.serializers import InputSerializer


class EchoInput(InputSerializer):
    name = serializers.CharField(max_length=10)
    count = serializers.IntegerField(min_value=1)


class RaiseApi(APIView):
    permission_classes = (AllowAny,)

    def get(self, request: Request, kind: str) -> Response:
        if kind == "domain":
            raise ApplicationError(
                "The professional is busy.", code="calls.professional_busy", extra={"retry": 30}
            )
        if kind == "django-validation":
            raise DjangoValidationError({"cpf": ["Invalid CPF."]})
        if kind == "http404":
            raise Http404
        if kind == "django-permission":
            raise PermissionDenied
        if kind == "throttled":
            raise Throttled(wait=12.4)
        if kind == "crash":
            raise RuntimeError("secret connection string postgres://u:p@h/db")
        return Response({"ok": True})

    def post(self, request: Request, kind: str) -> Response:
        data = EchoInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(data.validated_data)


class UserFeedApi(APIView):
    permission_classes = (AllowAny,)

    def get(self, request: Request) -> Response:
        paginator = FeedCursorPagination()
        page = paginator.paginate_queryset(User.objects.all(), request, view=self)
        return paginator.get_paginated_response([user.email for user in page])


urlpatterns = [
    path("api/v1/test/raise/<str:kind>/", RaiseApi.as_view()),
    path("api/v1/test/feed/", UserFeedApi.as_view()),
]

handler404 = "config.views.not_found"
handler500 = "config.views.internal_error"
