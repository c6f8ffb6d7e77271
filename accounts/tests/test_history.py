"""Change history (django-simple-history): every change says who made it."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.test import Client
from rest_framework.test import APIClient

from accounts.models import Membership, User
from accounts.tests.conftest import Org
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User | None], APIClient]


def history_of(user: User) -> list[tuple[str, str, int | None]]:
    return list(
        User.history.filter(id=user.pk)
        .order_by("history_id")
        .values_list("history_type", "display_name", "history_user_id")
    )


def test_editing_my_name_with_a_token_records_me_as_the_author(client_for: ClientFor) -> None:
    ana = UserFactory(display_name="Ana")

    response = client_for(ana).patch("/api/v1/me/", {"display_name": "Ana Souza"}, format="json")

    assert response.status_code == 200
    # The factory creates the user and then saves its password: two entries without an author.
    assert history_of(ana) == [
        ("+", "Ana", None),
        ("~", "Ana", None),
        ("~", "Ana Souza", ana.pk),
    ]


def test_editing_my_name_in_a_session_records_me_as_the_author() -> None:
    ana = UserFactory(display_name="Ana")
    browser = Client()
    browser.force_login(ana)
    count = User.history.filter(id=ana.pk).count()

    response = browser.patch(
        "/api/v1/me/", json.dumps({"display_name": "Ana Souza"}), content_type="application/json"
    )

    assert response.status_code == 200
    assert history_of(ana)[count:] == [("~", "Ana Souza", ana.pk)]


def test_a_refused_edit_leaves_no_history(client_for: ClientFor) -> None:
    ana = UserFactory(display_name="Ana")
    before = history_of(ana)

    response = client_for(ana).patch("/api/v1/me/", {"time_zone": "Mars/Base"}, format="json")

    assert response.status_code == 400
    assert history_of(ana) == before


def test_a_role_change_records_the_admin_who_made_it(client_for: ClientFor, org: Org) -> None:
    response = client_for(org.admin.user).patch(
        f"/api/v1/organizations/{org.organization.pk}/members/{org.agent.pk}/",
        {"role": "viewer"},
        format="json",
    )

    assert response.status_code == 200
    assert list(
        Membership.history.filter(id=org.agent.pk)
        .order_by("history_id")
        .values_list("history_type", "role", "history_user_id")
    ) == [("+", "agent", None), ("~", "viewer", org.admin.user_id)]


def test_a_removed_member_keeps_a_history_with_who_removed_them(
    client_for: ClientFor, org: Org
) -> None:
    response = client_for(org.admin.user).delete(
        f"/api/v1/organizations/{org.organization.pk}/members/{org.viewer.pk}/"
    )

    assert response.status_code == 204
    assert list(
        Membership.history.filter(id=org.viewer.pk)
        .order_by("history_id")
        .values_list("history_type", "role", "history_user_id")
    ) == [("+", "viewer", None), ("-", "viewer", org.admin.user_id)]


def test_the_password_hash_is_not_kept_in_the_history() -> None:
    field_names = {field.name for field in User.history.model._meta.get_fields()}

    assert "password" not in field_names
    assert "last_login" not in field_names
