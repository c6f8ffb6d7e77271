"""JWT authentication that also serves the user in their profile's language."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation
from drf_spectacular.contrib.rest_framework_simplejwt import SimpleJWTScheme
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
