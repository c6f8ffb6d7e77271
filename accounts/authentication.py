"""API authentication: JWT in the profile's language, and sessions that honour 2FA."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django_otp import user_has_device
from drf_spectacular.authentication import SessionScheme
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication


class LocalizedJWTAuthentication(JWTAuthentication):
    """simplejwt's authentication, plus the profile language for the rest of the request.

    Browser sessions get the same from UserLanguageMiddleware; JWT clients are only known
    once DRF authenticates them, after every middleware has run. An API client that asks
    for a language with Accept-Language gets that one: it asked on purpose.
    """

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is not None and "HTTP_ACCEPT_LANGUAGE" not in request.META:
            language = getattr(result[0], "language", None)
            if language in {code for code, _name in settings.LANGUAGES}:
                translation.activate(language)
                request._request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        return result


class LocalizedJWTScheme(SimpleJWTScheme):
    """Documents LocalizedJWTAuthentication in the OpenAPI schema as the bearer JWT it is."""

    target_class = "accounts.authentication.LocalizedJWTAuthentication"


class TwoFactorRequired(APIException):
    """The session signed in with a password but has not passed its second factor yet."""

    status_code = 403
    default_detail = _("Enter the code from your authenticator app to continue.")
    default_code = "accounts.otp_required"


class VerifiedSessionAuthentication(SessionAuthentication):
    """Session authentication (CSRF enforced) that stops at a missing second factor.

    A user with 2FA whose session has not been verified by django-otp is refused everywhere
    except by views that set ``allows_unverified_session`` (the one that verifies it).
    """

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        view = (request.parser_context or {}).get("view")
        if result is None or getattr(view, "allows_unverified_session", False):
            return result
        user = result[0]
        if user_has_device(user, confirmed=True) and not _session_verified(request):
            raise TwoFactorRequired()
        return result


def _session_verified(request: Request) -> bool:
    verified = getattr(request._request.user, "is_verified", None)
    return bool(verified and verified())


class VerifiedSessionScheme(SessionScheme):
    """Documents VerifiedSessionAuthentication in the OpenAPI schema: the session cookie."""

    target_class = "accounts.authentication.VerifiedSessionAuthentication"
