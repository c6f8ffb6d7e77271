"""The BotConversa settings API: org admins only; the key is never returned."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.tests.helpers import assert_error, client_for, committed
from core.crypto import encrypt
from crm.models import (
    BotConversaConnection,
    BotConversaDispatch,
    BotConversaRule,
    BotConversaRuleKind,
    DispatchStatus,
)
from crm.tests import factories as crm_make
from crm.tests.fake_botconversa import API_KEY, FakeBotConversa, fake_botconversa_fixture
from queueing.tests import inbox_factories as make

__all__ = ["fake_botconversa_fixture"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def people() -> dict[str, Any]:
    return crm_make.team()


def url(people: dict[str, Any], rest: str = "") -> str:
    return f"/api/v1/crm/{people['org'].pk}/botconversa/{rest}"


def test_settings_never_show_the_key(people: dict, settings: Any) -> None:
    settings.CRM_PUBLIC_URL = "https://atende.example.com"
    queue = make.queue(people["org"])
    client = client_for(people["admin"])

    response = client.put(
        url(people),
        {"api_key": "secret-key-abcd1234", "enabled": True, "queue_id": queue.pk},
        format="json",
    )

    assert response.status_code == 200
    connection = BotConversaConnection.objects.get()
    body = response.json()
    assert body == {
        "api_key_set": True,
        "api_key_last4": "1234",
        "api_url": "https://backend.botconversa.com.br/api/v1/webhook/",
        "enabled": True,
        "queue_id": queue.pk,
        "inbound_url": (
            f"https://atende.example.com/webhooks/botconversa/{people['org'].pk}/"
            f"{connection.inbound_token}/"
        ),
        "last_checked_at": None,
        "last_check_ok": None,
        "last_error": "",
    }
    assert "secret-key-abcd1234" not in response.content.decode()
    again = client.get(url(people))
    assert again.json() == body
    assert "secret-key-abcd1234" not in again.content.decode()


def test_the_inbound_url_uses_the_request_host_without_a_public_url(people: dict) -> None:
    response = client_for(people["admin"]).get(url(people))

    token = BotConversaConnection.objects.get().inbound_token
    assert response.json()["inbound_url"] == (
        f"http://testserver/webhooks/botconversa/{people['org'].pk}/{token}/"
    )
    assert response.json()["api_key_set"] is False


def test_a_queue_of_another_organization_is_refused(people: dict) -> None:
    other_queue = make.queue(people["other_org"])

    response = client_for(people["admin"]).put(
        url(people), {"queue_id": other_queue.pk}, format="json"
    )

    assert_error(response, 422, "crm.invalid_reference", {"field": "queue_id"})
    assert BotConversaConnection.objects.count() == 0


def test_the_connection_test_lists_tags_and_flows(
    people: dict, fake_botconversa: FakeBotConversa
) -> None:
    BotConversaConnection.objects.create(
        organization=people["org"], api_url=fake_botconversa.url, api_key_encrypted=encrypt(API_KEY)
    )

    # The message is read in English (the API answers in the Accept-Language's language).
    response = client_for(people["admin"]).post(url(people, "test/"), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "message": "Connected to BotConversa.",
        "tags": [{"id": "11", "name": "lead"}, {"id": "12", "name": "Qualificado"}],
        "flows": [{"id": "21", "name": "Boas-vindas"}, {"id": "22", "name": "Proposta"}],
    }
    connection = BotConversaConnection.objects.get()
    assert (connection.last_check_ok, connection.last_error) == (True, "")
    assert connection.last_checked_at is not None


def test_a_refused_key_is_reported(people: dict, fake_botconversa: FakeBotConversa) -> None:
    BotConversaConnection.objects.create(
        organization=people["org"],
        api_url=fake_botconversa.url,
        api_key_encrypted=encrypt("wrong-key-0000"),
    )

    # The message is read in English (the API answers in the Accept-Language's language).
    response = client_for(people["admin"]).post(url(people, "test/"), HTTP_ACCEPT_LANGUAGE="en")

    assert response.json() == {
        "ok": False,
        "message": "BotConversa refused the API key.",
        "tags": [],
        "flows": [],
    }
    connection = BotConversaConnection.objects.get()
    assert (connection.last_check_ok, connection.last_error) == (
        False,
        "BotConversa refused the API key.",
    )


def test_rotating_the_token_changes_the_inbound_url(people: dict) -> None:
    client = client_for(people["admin"])
    before = client.get(url(people)).json()["inbound_url"]

    after = client.post(url(people, "rotate-token/")).json()["inbound_url"]

    assert after != before
    assert after.endswith(f"/{BotConversaConnection.objects.get().inbound_token}/")


def test_rules_are_created_listed_and_deleted(people: dict) -> None:
    stage = crm_make.stages(crm_make.pipeline(people["org"]))[1]
    client = client_for(people["admin"])

    created = client.post(
        url(people, "rules/"),
        {"kind": "stage_adds_tag", "stage_id": stage.pk, "tag_name": " qualificado "},
        format="json",
    )

    assert created.status_code == 201
    rule = BotConversaRule.objects.get()
    assert created.json() == {
        "id": rule.pk,
        "kind": "stage_adds_tag",
        "stage": {"id": stage.pk, "name": "Qualified", "pipeline_id": stage.pipeline_id},
        "tag_name": "qualificado",
        "flow_id": "",
        "created_at": created.json()["created_at"],
    }
    assert client.get(url(people, "rules/")).json() == [created.json()]
    assert client.delete(url(people, f"rules/{rule.pk}/")).status_code == 204
    assert BotConversaRule.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "code", "field"),
    [
        ({"kind": "whatever"}, "crm.botconversa_invalid_rule", "kind"),
        ({"kind": "stage_starts_flow"}, "crm.botconversa_invalid_rule", "flow_id"),
        ({"kind": "tag_moves_to_stage"}, "crm.botconversa_invalid_rule", "tag_name"),
        (
            {"kind": "stage_adds_tag", "tag_name": "x", "other": True},
            "crm.invalid_reference",
            "stage_id",
        ),
    ],
)
def test_a_bad_rule_is_refused(people: dict, body: dict, code: str, field: str) -> None:
    stage = crm_make.stages(crm_make.pipeline(people["org"]))[0]
    other_stage = crm_make.stages(crm_make.pipeline(people["other_org"]))[0]
    stage_id = other_stage.pk if body.pop("other", False) else stage.pk

    response = client_for(people["admin"]).post(
        url(people, "rules/"), {**body, "stage_id": stage_id}, format="json"
    )

    assert_error(response, 422, code, {"field": field})
    assert BotConversaRule.objects.count() == 0


def test_another_organizations_rule_is_not_found(people: dict) -> None:
    other_stage = crm_make.stages(crm_make.pipeline(people["other_org"]))[0]
    rule = BotConversaRule.objects.create(
        organization=people["other_org"],
        kind=BotConversaRuleKind.STAGE_ADDS_TAG,
        stage=other_stage,
        tag_name="x",
    )

    response = client_for(people["admin"]).delete(url(people, f"rules/{rule.pk}/"))

    assert_error(response, 404, "crm.not_found")
    assert BotConversaRule.objects.count() == 1


def test_dispatches_are_listed_and_a_failed_one_retried(
    people: dict, fake_botconversa: FakeBotConversa
) -> None:
    BotConversaConnection.objects.create(
        organization=people["org"], api_url=fake_botconversa.url, api_key_encrypted=encrypt(API_KEY)
    )
    fake_botconversa.add_subscriber("+5511999998888", 77)
    sent = BotConversaDispatch.objects.create(
        organization=people["org"], action="send_message", key="message:1", status="sent"
    )
    failed = BotConversaDispatch.objects.create(
        organization=people["org"],
        action="send_message",
        key="message:2",
        payload={"phone": "+5511999998888", "name": "Ana", "text": "Olá"},
        status=DispatchStatus.FAILED,
        attempts=5,
        last_error="BotConversa failed (HTTP 500, send a message).",
    )
    client = client_for(people["admin"])

    listed = client.get(url(people, "dispatches/"))
    only_failed = client.get(url(people, "dispatches/?status=failed"))
    with committed():
        retried = client.post(url(people, f"dispatches/{failed.pk}/retry/"))
    refused = client.post(url(people, f"dispatches/{sent.pk}/retry/"))

    assert [item["id"] for item in listed.json()] == [failed.pk, sent.pk]
    assert [item["id"] for item in only_failed.json()] == [failed.pk]
    assert only_failed.json()[0]["last_error"] == "BotConversa failed (HTTP 500, send a message)."
    assert retried.status_code == 200
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (DispatchStatus.SENT, 1, "")
    assert_error(refused, 409, "crm.botconversa_not_failed")


ROUTES = [
    ("get", ""),
    ("put", ""),
    ("post", "test/"),
    ("post", "rotate-token/"),
    ("get", "rules/"),
    ("post", "rules/"),
    ("delete", "rules/1/"),
    ("get", "dispatches/"),
    ("post", "dispatches/1/retry/"),
]


@pytest.mark.parametrize(("method", "rest"), ROUTES)
@pytest.mark.parametrize(
    ("who", "status", "code"),
    [
        ("outsider", 404, "crm.not_found"),
        ("agent", 403, "crm.permission_denied"),
        ("viewer", 403, "crm.permission_denied"),
        (None, 401, "not_authenticated"),
    ],
)
def test_only_org_admins_reach_the_settings(
    people: dict, method: str, rest: str, who: str | None, status: int, code: str
) -> None:
    client = client_for(people[who] if who else None)

    response = getattr(client, method)(url(people, rest), {}, format="json")

    assert_error(response, status, code)
    assert BotConversaConnection.objects.count() == 0
