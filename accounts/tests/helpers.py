"""Assertions shared by the accounts tests."""

from __future__ import annotations

from typing import Any

from django.db.models import Model

from accounts.models import Membership, Organization, User


def assert_error(
    response: Any, status: int, code: str, extra: dict[str, Any] | None = None
) -> None:
    """The response is the API's error shape with this status, code and extra."""
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"code", "message", "extra"}
    assert body["code"] == code
    assert body["extra"] == (extra or {})
    assert isinstance(body["message"], str)
    assert body["message"].strip() != ""


def rows(model: type[Model]) -> list[dict[str, Any]]:
    """Every row of ``model`` as plain values, to compare before and after a refused write."""
    return list(model.objects.order_by("pk").values())


def accounts_rows() -> dict[str, list[dict[str, Any]]]:
    return {
        "users": rows(User),
        "organizations": rows(Organization),
        "memberships": rows(Membership),
    }
