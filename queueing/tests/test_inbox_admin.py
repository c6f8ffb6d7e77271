"""The back office pages of the support inbox open for staff, and conversations are read-only."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.tests.test_admin import staff_client  # noqa: F401  (the fixture)
from queueing.tests import inbox_factories as f

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "model",
    [
        "department",
        "supportqueue",
        "supportagent",
        "contact",
        "conversation",
        "cannedresponse",
        "csatresponse",
        "supportwidget",
    ],
)
def test_staff_can_open_each_changelist(staff_client: Client, model: str) -> None:  # noqa: F811
    org = f.organization()
    f.conversation(f.queue(org))
    f.widget(org)

    response = staff_client.get(f"/admin/queueing/{model}/")

    assert response.status_code == 200


def test_a_conversation_opens_read_only_and_cannot_be_added(staff_client: Client) -> None:  # noqa: F811
    org = f.organization()
    conversation = f.conversation(f.queue(org))

    page = staff_client.get(f"/admin/queueing/conversation/{conversation.pk}/change/")
    add = staff_client.get("/admin/queueing/conversation/add/")

    assert page.status_code == 200
    assert b'name="status"' not in page.content
    assert add.status_code == 403
