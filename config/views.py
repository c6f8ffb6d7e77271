"""Views of the composition root: the web app shell and error pages in the API's shape."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.defaults import page_not_found, server_error

from core.exceptions import json_error_response

API_PREFIXES = ("/api/", "/_allauth/")


@ensure_csrf_cookie
def app_shell(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    """The single page of the web app; it fetches everything else from the API."""
    from accounts.api.views import _me_payload
    from accounts.two_factor import user_has_two_factor

    user_obj = request.user
    # A password-only session of a 2FA account learns nothing about the account yet.
    # django-otp's middleware adds is_verified() to the request's user.
    is_verified = getattr(user_obj, "is_verified", None)
    two_factor_pending = bool(
        user_obj.is_authenticated
        and user_has_two_factor(user_obj)
        and not (is_verified and is_verified())
    )
    user = (
        _me_payload(user_obj)  # type: ignore[arg-type]
        if user_obj.is_authenticated and not two_factor_pending
        else None
    )
    app_config = {
        "language": translation.get_language(),
        # Each language in its own words, so a person finds theirs whatever is showing now.
        "languages": [
            [code, translation.get_language_info(code)["name_local"]]
            for code, _name in settings.LANGUAGES
        ],
        "ws_path": "/ws/",
        "api_base": "/api/v1",
        "auth_base": "/_allauth/browser/v1",
        "set_language_url": "/i18n/setlang/",
        "user": user,
        "two_factor_pending": two_factor_pending,
        "chat_group_dm_max_members": settings.CHAT_GROUP_DM_MAX_MEMBERS,
        # The support widget the /support screen embeds in-app (the key is public anyway;
        # sent to anonymous pages too, since signing in does not reload the page).
        "support_widget_key": _support_widget_key(),
    }
    return render(request, "app.html", {"app_config": app_config})


def _support_widget_key() -> str | None:
    """The public key of the first enabled support widget (the demo organization's), or None."""
    from queueing.models import SupportWidget

    return (
        SupportWidget.objects.filter(enabled=True)
        .order_by("pk")
        .values_list("public_key", flat=True)
        .first()
    )


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIXES)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return json_error_response("not_found", _("Not found."), 404)
    return page_not_found(request, exception)  # type: ignore[arg-type]


def internal_error(request: HttpRequest) -> HttpResponse:
    if _is_api(request):
        return json_error_response("server_error", _("Something went wrong on our side."), 500)
    return server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return json_error_response(
        "csrf_failed", _("The request is missing a valid CSRF token. Reload the page."), 403
    )
