"""Serve signed-in users in the language saved on their profile."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core.exceptions import json_error_response


class UserLanguageMiddleware:
    """After authentication: the profile's language wins over cookies and Accept-Language.

    LocaleMiddleware ran earlier for anonymous visitors; this overrides it for signed-in
    users, so a person sees the same language on every device.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.languages = {code for code, _ in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        language = getattr(user, "language", None) if user and user.is_authenticated else None
        if language in self.languages:
            translation.activate(language)
            request.LANGUAGE_CODE = language  # type: ignore[attr-defined]
        return self.get_response(request)


# allauth's browser endpoints a password-only session of a 2FA account may still use: reading
# or ending its own session, and the sign-in, sign-up and password-reset steps themselves.
_OPEN_ALLAUTH_ENDPOINTS = (
    "/_allauth/browser/v1/config",
    "/_allauth/browser/v1/auth/session",
    "/_allauth/browser/v1/auth/login",
    "/_allauth/browser/v1/auth/signup",
    "/_allauth/browser/v1/auth/password/request",
    "/_allauth/browser/v1/auth/password/reset",
)


class SecondFactorGateMiddleware:
    """Keeps a password-only session of a 2FA account out of allauth's other endpoints.

    Our API refuses such sessions in its authentication class; allauth's headless views
    (the list of signed-in devices, ending sessions, email management) would not, so a
    stolen password alone could see the owner's devices and sign them out.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path.rstrip("/")
        if path.startswith("/_allauth/") and path not in _OPEN_ALLAUTH_ENDPOINTS:
            from accounts.two_factor import user_has_two_factor

            user = getattr(request, "user", None)
            verified = getattr(user, "is_verified", None)
            if user is not None and user_has_two_factor(user) and not (verified and verified()):
                return json_error_response(
                    "accounts.otp_required",
                    str(_("Enter the code from your authenticator app to continue.")),
                    403,
                )
        return self.get_response(request)
