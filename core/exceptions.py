"""Domain errors and the one DRF exception handler that gives every error the same shape.

Every error the API returns looks like ``{"code": "...", "message": "...", "extra": {}}``:
domain errors raised by services, validation errors, authentication and permission failures,
404/405/413/429 alike. Clients branch on ``code``, which is stable; ``message`` is for people
and is translated.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class ApplicationError(Exception):
    """A domain rule refused the operation. ``code`` is stable: ``<app>.<reason>``."""

    code: str = "application_error"
    status_code: int = status.HTTP_400_BAD_REQUEST
    default_message: Any = gettext_lazy("The operation could not be completed.")

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        extra: dict[str, Any] | None = None,
        status_code: int | None = None,
    ) -> None:
        self.message = message or str(self.default_message)
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.extra = extra or {}
        super().__init__(self.message)


class NotFoundError(ApplicationError):
    """The object does not exist, or the actor may not know that it does."""

    code = "not_found"
    status_code = status.HTTP_404_NOT_FOUND
    default_message = gettext_lazy("Not found.")


class PermissionDeniedError(ApplicationError):
    """The actor is known but may not do this."""

    code = "permission_denied"
    status_code = status.HTTP_403_FORBIDDEN
    default_message = gettext_lazy("You do not have permission to perform this action.")


class ConflictError(ApplicationError):
    """The request is valid but clashes with the current state."""

    code = "conflict"
    status_code = status.HTTP_409_CONFLICT
    default_message = gettext_lazy("The request conflicts with the current state.")


def error_body(code: str, message: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "extra": extra or {}}


def _validation_extra(detail: Any) -> dict[str, Any]:
    # DRF gives a dict of field -> messages, or a bare list for object-level errors.
    if isinstance(detail, dict):
        return {"fields": detail}
    if isinstance(detail, list):
        return {"fields": {"non_field_errors": detail}}
    return {"fields": {"non_field_errors": [detail]}}


def _first_message(detail: Any) -> str:
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_message(value)
    if isinstance(detail, list) and detail:
        return _first_message(detail[0])
    return str(detail)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Map any exception raised inside a DRF view to the error shape.

    Unexpected exceptions return None so Django's 500 handling (and logging) takes over;
    ``config.urls.handler500`` renders that in the same shape for API paths.
    """
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.extra), status=exc.status_code)
    if isinstance(exc, RequestDataTooBig):
        return Response(
            error_body("request_too_large", _("The request body is too large.")),
            status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
        )
    if isinstance(exc, Http404 | ObjectDoesNotExist):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )

    response = drf_exception_handler(exc, context)
    if response is None:
        return None

    assert isinstance(exc, exceptions.APIException)
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(
            "validation_error", _first_message(exc.detail), _validation_extra(exc.detail)
        )
        return response

    detail = exc.detail
    code = exc.default_code
    if isinstance(detail, dict):
        # simplejwt's InvalidToken carries {"detail", "code", "messages"}.
        code = str(detail.get("code", code))
        message = str(detail.get("detail", _first_message(detail)))
    else:
        codes = exc.get_codes()
        if isinstance(codes, str):
            code = codes
        message = _first_message(detail)
    extra: dict[str, Any] = {}
    wait = getattr(exc, "wait", None) if isinstance(exc, exceptions.Throttled) else None
    if wait is not None:
        extra["wait"] = int(wait)
    response.data = error_body(code, message, extra)
    return response


def json_error_response(code: str, message: str, status_code: int) -> JsonResponse:
    """The error shape for responses produced outside DRF (404/500 on API paths, CSRF)."""
    return JsonResponse(error_body(code, message), status=status_code)
