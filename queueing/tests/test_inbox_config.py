"""Inbox configuration: departments, queues, members, canned responses, the widget."""

from __future__ import annotations

from typing import Any

import pytest

from accounts.roles import Role
from accounts.tests.helpers import rows
from core.exceptions import ApplicationError
from queueing import inbox_config
from queueing.inbox_selectors import canned_list
from queueing.models import CannedResponse, Department, QueueMember, SupportQueue, SupportWidget
from queueing.tests import inbox_factories as f

pytestmark = pytest.mark.django_db


def _code(call: Any, **kwargs: Any) -> tuple[str, int]:
    with pytest.raises(ApplicationError) as refused:
        call(**kwargs)
    return refused.value.code, refused.value.status_code


def test_only_org_admins_configure_and_outsiders_get_not_found() -> None:
    org = f.organization()
    agent = f.member(org, role=Role.AGENT)
    outsider = f.member(f.organization(), role=Role.ORG_ADMIN)

    assert _code(inbox_config.department_create, actor=agent, organization_id=org.pk, name="X") == (
        "inbox.permission_denied",
        403,
    )
    assert _code(
        inbox_config.department_create, actor=outsider, organization_id=org.pk, name="X"
    ) == ("inbox.not_found", 404)
    assert Department.objects.count() == 0


def test_queue_settings_are_validated_and_names_are_unique() -> None:
    org = f.organization()
    admin = f.member(org, role=Role.ORG_ADMIN)
    dept = inbox_config.department_create(actor=admin, organization_id=org.pk, name=" Suporte ")
    queue = inbox_config.queue_create(
        actor=admin,
        organization_id=org.pk,
        department_id=dept.pk,
        name="Geral",
        routing_strategy="load_balance",
        weekly_hours=[{"day": 0, "start": "09:00", "end": "18:00"}],
        time_zone="America/Sao_Paulo",
        first_response_minutes=15,
    )
    before = rows(SupportQueue)

    refusals = [
        _code(inbox_config.queue_update, actor=admin, queue=queue, routing_strategy="random"),
        _code(inbox_config.queue_update, actor=admin, queue=queue, time_zone="Mars/Base"),
        _code(inbox_config.queue_update, actor=admin, queue=queue, weekly_hours=[{"day": 9}]),
        _code(inbox_config.queue_update, actor=admin, queue=queue, priority=-1),
        _code(
            inbox_config.queue_create,
            actor=admin,
            organization_id=org.pk,
            department_id=dept.pk,
            name="Geral",
        ),
        _code(
            inbox_config.queue_create,
            actor=admin,
            organization_id=org.pk,
            department_id=f.department(f.organization()).pk,
            name="Outra",
        ),
    ]

    assert dept.name == "Suporte"
    assert (queue.routing_strategy, queue.first_response_minutes) == ("load_balance", 15)
    assert refusals == [
        ("inbox.invalid_field", 422),
        ("inbox.invalid_hours", 400),
        ("inbox.invalid_hours", 400),
        ("inbox.invalid_field", 422),
        ("inbox.name_taken", 409),
        ("inbox.department_not_found", 404),
    ]
    assert rows(SupportQueue) == before

    updated = inbox_config.queue_update(actor=admin, queue=queue, first_response_minutes=None)
    assert updated.first_response_minutes is None


def test_a_queue_with_conversations_cannot_be_deleted() -> None:
    org = f.organization()
    admin = f.member(org, role=Role.ORG_ADMIN)
    queue = f.queue(org)
    f.conversation(queue)

    assert _code(inbox_config.queue_delete, actor=admin, queue=queue) == ("inbox.queue_in_use", 409)
    assert _code(inbox_config.department_delete, actor=admin, department=queue.department) == (
        "inbox.department_in_use",
        409,
    )
    assert SupportQueue.objects.count() == 1


def test_members_are_org_agents_and_the_supervisor_flag_changes() -> None:
    org = f.organization()
    admin = f.member(org, role=Role.ORG_ADMIN)
    queue = f.queue(org)
    agent = f.member(org)
    viewer = f.member(org, role=Role.VIEWER)
    stranger = f.member(f.organization())

    inbox_config.queue_member_add(actor=admin, queue=queue, user_id=agent.pk)
    inbox_config.queue_member_add(actor=admin, queue=queue, user_id=agent.pk, is_supervisor=True)
    refused = [
        _code(inbox_config.queue_member_add, actor=admin, queue=queue, user_id=viewer.pk),
        _code(inbox_config.queue_member_add, actor=admin, queue=queue, user_id=stranger.pk),
    ]

    assert list(QueueMember.objects.values_list("user_id", "is_supervisor")) == [(agent.pk, True)]
    assert refused == [("inbox.agent_not_found", 404)] * 2
    inbox_config.queue_member_remove(actor=admin, queue=queue, user_id=agent.pk)
    assert QueueMember.objects.count() == 0
    assert _code(inbox_config.queue_member_remove, actor=admin, queue=queue, user_id=agent.pk) == (
        "inbox.member_not_found",
        404,
    )


def test_canned_responses_have_unique_shortcuts_and_agents_list_them() -> None:
    org = f.organization()
    admin = f.member(org, role=Role.ORG_ADMIN)
    agent = f.member(org)
    other = f.organization()
    hello = inbox_config.canned_create(
        actor=admin,
        organization_id=org.pk,
        shortcut="/Hello",
        title="Hello",
        body="Olá! Como posso ajudar?",
    )
    inbox_config.canned_create(
        actor=f.member(other, role=Role.ORG_ADMIN),
        organization_id=other.pk,
        shortcut="hello",
        title="Other org",
        body="x",
    )
    before = rows(CannedResponse)

    refusals = [
        _code(
            inbox_config.canned_create,
            actor=admin,
            organization_id=org.pk,
            shortcut="hello",
            title="Again",
            body="x",
        ),
        _code(
            inbox_config.canned_create,
            actor=admin,
            organization_id=org.pk,
            shortcut="no spaces",
            title="Bad",
            body="x",
        ),
        _code(
            inbox_config.canned_create,
            actor=agent,
            organization_id=org.pk,
            shortcut="bye",
            title="Bye",
            body="x",
        ),
    ]

    assert hello.shortcut == "hello"
    assert refusals == [
        ("inbox.shortcut_taken", 409),
        ("inbox.invalid_shortcut", 422),
        ("inbox.permission_denied", 403),
    ]
    assert rows(CannedResponse) == before
    assert [item.pk for item in canned_list(org.pk, "/hel")] == [hello.pk]
    assert [item.pk for item in canned_list(org.pk, "ajudar")] == [hello.pk]
    assert list(canned_list(org.pk, "nothing")) == []


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (["https://WWW.Example.com/"], ["https://www.example.com"]),
        (["http://localhost:8000", "http://localhost:8000"], ["http://localhost:8000"]),
        (["https://example.com:443"], ["https://example.com"]),
    ],
)
def test_widget_origins_are_normalized(given: list[str], stored: list[str]) -> None:
    assert inbox_config.origins_validate(given) == stored


@pytest.mark.parametrize(
    "bad",
    [
        "example.com",
        "ftp://example.com",
        "https://example.com/page",
        "https://example.com?x=1",
        "https://user@example.com",
        "https://",
        "https://exa mple.com",
    ],
)
def test_widget_refuses_origins_that_are_not_scheme_host_port(bad: str) -> None:
    org = f.organization()
    admin = f.member(org, role=Role.ORG_ADMIN)
    widget = f.widget(org)
    before = rows(SupportWidget)

    assert _code(
        inbox_config.widget_update,
        actor=admin,
        organization_id=org.pk,
        allowed_origins=["https://ok.example.com", bad],
    ) == ("inbox.invalid_origins", 422)
    assert rows(SupportWidget) == before
    assert widget.allowed_origins == ["https://example.com"]


def test_widget_settings_and_key_rotation() -> None:
    org = f.organization()
    admin = f.member(org, role=Role.ORG_ADMIN)
    old_key = inbox_config.widget_get_or_create(organization_id=org.pk).public_key

    widget = inbox_config.widget_update(
        actor=admin, organization_id=org.pk, color="#ABCDEF", title="Fale conosco", enabled=False
    )
    rotated = inbox_config.widget_rotate_key(actor=admin, organization_id=org.pk)

    assert (widget.color, widget.title, widget.enabled) == ("#abcdef", "Fale conosco", False)
    assert rotated.public_key != old_key
    assert rotated.public_key.startswith("pk_")
    assert _code(inbox_config.widget_update, actor=admin, organization_id=org.pk, color="red") == (
        "inbox.invalid_field",
        422,
    )
