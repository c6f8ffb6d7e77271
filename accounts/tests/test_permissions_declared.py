"""Every API view states who may use it; only the token endpoints are open to anyone."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

OPEN_TO_ANYONE = {
    "api/v1/auth/token/": "TokenObtainApi",
    "api/v1/auth/token/refresh/": "TokenRefreshApi",
    "api/v1/auth/token/revoke/": "TokenRevokeApi",
    # An invitation link shows what it invites to before the person signs in (or up).
    "api/v1/invitations/<str:token>/": "InvitationPublicApi",
    # The support widget before a visitor has a token: its look and departments, starting a
    # session, and the offline form. Each checks the public key and the page's origin itself
    # (queueing.widget.origin_check), and the rest of the widget needs the visitor's token.
    "api/v1/widget/config/": "WidgetConfigApi",
    "api/v1/widget/session/": "WidgetSessionApi",
    "api/v1/widget/offline/": "WidgetOfflineApi",
}


def api_views(resolver: URLResolver, prefix: str = "") -> Iterator[tuple[str, type[APIView]]]:
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from api_views(pattern, route)
        elif isinstance(pattern, URLPattern):
            view: Any = getattr(pattern.callback, "cls", None)
            if view is not None and issubclass(view, APIView) and route.startswith("api/v1/"):
                yield route, view


def test_the_walk_finds_every_accounts_endpoint() -> None:
    routes = {route for route, _view in api_views(get_resolver())}

    assert {
        "api/v1/auth/token/",
        "api/v1/auth/token/refresh/",
        "api/v1/auth/token/revoke/",
        "api/v1/me/",
        "api/v1/organizations/",
        "api/v1/organizations/<int:organization_id>/members/",
        "api/v1/organizations/<int:organization_id>/members/<int:membership_id>/",
    } <= routes


def declares_permissions(view: type[APIView]) -> bool:
    # The project default would fill the attribute in; the view itself must set it.
    return any(
        "permission_classes" in vars(klass) for klass in view.__mro__ if klass is not APIView
    )


def test_every_api_view_declares_its_permission_classes() -> None:
    undeclared = [
        route
        for route, view in api_views(get_resolver())
        if not declares_permissions(view) or not tuple(view.permission_classes)
    ]

    assert undeclared == []


def test_only_the_token_endpoints_are_open_to_anyone() -> None:
    open_views = {
        route: view.__name__
        for route, view in api_views(get_resolver())
        if AllowAny in tuple(view.permission_classes)
    }

    assert open_views == OPEN_TO_ANYONE
