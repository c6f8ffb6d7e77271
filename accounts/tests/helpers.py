"""Assertions shared by the accounts tests."""

from __future__ import annotations

import re
from typing import Any

from django.db.models import Model
from rest_framework.test import APIClient

from accounts.models import AuditEvent, Membership, Organization, User


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
        # A refused change leaves no trace in the audit trail either.
        "audit_events": rows(AuditEvent),
    }


AUDIT_FIELDS = (
    "action",
    "actor_id",
    "actor_label",
    "organization_id",
    "target_type",
    "target_id",
    "ip_address",
    "user_agent",
    "data",
)


def audit_rows() -> list[dict[str, Any]]:
    """Every audit event, oldest first, without its id and timestamp."""
    return list(AuditEvent.objects.order_by("pk").values(*AUDIT_FIELDS))


def audit_row(
    action: str,
    *,
    actor: User | None = None,
    target: Model | None = None,
    organization: Organization | None = None,
    data: dict[str, Any] | None = None,
    ip_address: str | None = None,
    user_agent: str = "",
) -> dict[str, Any]:
    """One audit event as ``audit_rows`` shows it."""
    return {
        "action": action,
        "actor_id": actor.pk if actor is not None else None,
        "actor_label": actor.email if actor is not None else "",
        "organization_id": organization.pk if organization is not None else None,
        "target_type": target._meta.label_lower if target is not None else "",
        "target_id": str(target.pk) if target is not None else "",
        "ip_address": ip_address,
        "user_agent": user_agent,
        "data": data or {},
    }


def six_digit_code(text: str) -> str:
    """The one six-digit code in ``text`` (an email or an SMS)."""
    codes = set(re.findall(r"(?<!\d)\d{6}(?!\d)", text))
    assert len(codes) == 1, text
    return codes.pop()


def client_for(user: User | None) -> APIClient:
    """An API client signed in as ``user`` (anonymous for None)."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def committed() -> Any:
    """Run what the block schedules for after commit (tasks, events) when the block ends.

    Tests run inside a transaction that never commits, so ``on_commit`` work (a webhook's
    settle task, a message's notification task, every socket event) would otherwise never
    happen.
    """
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)
