"""The web app shell: one page for every app route, none for API and file paths."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.tests.factories import UserFactory


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/signin", "/profile", "/organizations/3/members"])
def test_every_app_route_gets_the_shell_with_a_csrf_cookie(path: str) -> None:
    response = Client().get(path)

    assert response.status_code == 200
    assert response.templates[0].name == "app.html"
    assert "csrftoken" in response.cookies


@pytest.mark.django_db
def test_the_shell_tells_the_app_who_is_signed_in_without_any_token() -> None:
    user = UserFactory(email="ana@example.com", display_name="Ana")
    client = Client()
    client.force_login(user)

    response = client.get("/", headers={"Accept-Language": "en"})

    config = json.loads(
        response.content.decode()
        .split('<script id="app-config" type="application/json">')[1]
        .split("</script>")[0]
    )
    assert config["user"]["email"] == "ana@example.com"
    assert config["language"] == "pt-br"  # the profile's language wins over the browser's
    assert config["languages"] == [["pt-br", "Português Brasileiro"], ["en", "English"]]
    assert config["chat_group_dm_max_members"] == 8  # the group DM picker's limit
    # No JWT (they all start with the base64 of '{"') and no token fields reach the page.
    page_config = json.dumps(config)
    assert "eyJ" not in page_config
    assert {"access", "refresh", "token"} & (set(config) | set(config["user"])) == set()


@pytest.mark.django_db
def test_the_browser_language_is_used_for_anonymous_visitors() -> None:
    response = Client().get("/signin", headers={"Accept-Language": "en-US,en;q=0.9"})

    assert '<html lang="en"' in response.content.decode()


def test_the_favicon_points_at_the_real_icon() -> None:
    response = Client().get("/favicon.ico")

    assert (response.status_code, response["Location"]) == (301, "/static/app/icon.svg")
