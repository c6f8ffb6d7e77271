"""Support-room messages: idempotent writes, visitor uploads, notes kept from contacts, and
chat's own reads never reaching a support room."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.roles import Role
from chat import support
from chat.attachments import attachment_get_for_download
from chat.models import Attachment, Message, MessageKind, MessageMention, RoomKind
from chat.search import message_search
from chat.selectors import room_get_visible
from core.exceptions import ApplicationError, NotFoundError
from queueing.tests import inbox_factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "private"
    settings.PRIVATE_MEDIA_ROOT = str(root)
    return root


def _text_file(name: str = "notes.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"hello support", content_type="text/plain")


def test_a_contact_retry_with_the_same_client_id_is_the_same_message() -> None:
    room = support.support_room_create(organization_id=f.organization().pk)

    first, created = support.support_message_create(
        room=room, author_id=None, by_contact=True, body=" Oi ", client_id="abc"
    )
    again, again_created = support.support_message_create(
        room=room, author_id=None, by_contact=True, body="Oi", client_id="abc"
    )

    assert (created, again_created, again.pk) == (True, False, first.pk)
    assert list(Message.objects.values_list("body", "by_contact", "author_id", "kind")) == [
        ("Oi", True, None, MessageKind.TEXT)
    ]
    room.refresh_from_db()
    assert room.kind == RoomKind.SUPPORT
    assert room.last_message_at == first.created_at


def test_a_staff_client_id_used_in_another_room_is_refused() -> None:
    org = f.organization()
    agent = f.member(org)
    one = support.support_room_create(organization_id=org.pk)
    two = support.support_room_create(organization_id=org.pk)
    support.support_message_create(
        room=one, author_id=agent.pk, by_contact=False, body="a", client_id="x"
    )

    with pytest.raises(ApplicationError) as refused:
        support.support_message_create(
            room=two, author_id=agent.pk, by_contact=False, body="b", client_id="x"
        )

    assert refused.value.code == "chat.client_id_reused"
    assert Message.objects.count() == 1


def test_a_contact_cannot_write_a_note_and_empty_messages_are_refused() -> None:
    room = support.support_room_create(organization_id=f.organization().pk)

    with pytest.raises(ApplicationError) as note:
        support.support_message_create(
            room=room, author_id=None, by_contact=True, body="x", kind=MessageKind.NOTE
        )
    with pytest.raises(ApplicationError) as empty:
        support.support_message_create(room=room, author_id=None, by_contact=True, body="  ")

    assert (note.value.code, empty.value.code) == ("chat.invalid_kind", "chat.message_empty")
    assert Message.objects.count() == 0


def test_a_visitor_upload_is_claimed_by_their_message_and_shown_with_widget_urls() -> None:
    org = f.organization()
    agent = f.member(org)
    room = support.support_room_create(organization_id=org.pk)
    upload = support.support_attachment_upload(room=room, uploaded_by_id=None, file=_text_file())
    staff_upload = support.support_attachment_upload(
        room=room, uploaded_by_id=agent.pk, file=_text_file()
    )

    with pytest.raises(ApplicationError) as not_theirs:
        support.support_message_create(
            room=room, author_id=None, by_contact=True, body="", attachment_ids=[staff_upload.pk]
        )
    message, _ = support.support_message_create(
        room=room, author_id=None, by_contact=True, body="", attachment_ids=[upload.pk]
    )

    assert not_theirs.value.code == "chat.invalid_attachments"
    assert list(Attachment.objects.order_by("pk").values_list("message_id", flat=True)) == [
        message.pk,
        None,
    ]
    data = support.support_message_data(message, for_contact=True)
    assert data["attachments"] == [
        {
            "id": upload.pk,
            "kind": "file",
            "name": "notes.txt",
            "content_type": "text/plain",
            "size": 13,
            "width": None,
            "height": None,
            "duration_ms": None,
            "url": f"/api/v1/widget/attachments/{upload.pk}/",
            "thumbnail_url": None,
        }
    ]
    assert support.support_message_data(message, for_contact=False)["attachments"][0]["url"] == (
        f"/api/v1/inbox/{org.pk}/attachments/{upload.pk}/"
    )


def test_only_validated_mentions_of_a_note_are_stored() -> None:
    org = f.organization()
    agent = f.member(org, display_name="Ana Souza")
    other = f.member(org, display_name="Bruno Lima")
    room = support.support_room_create(organization_id=org.pk)

    note, _ = support.support_message_create(
        room=room,
        author_id=agent.pk,
        by_contact=False,
        body=f"<@{other.pk}> see",
        kind=MessageKind.NOTE,
        mention_ids=[other.pk],
    )

    assert list(MessageMention.objects.values_list("message_id", "user_id")) == [
        (note.pk, other.pk)
    ]
    assert "Bruno Lima" in note.html
    with pytest.raises(support.NoteForContactError):
        support.support_message_data(note, for_contact=True)


def test_chat_reads_never_reach_a_support_room_even_for_org_admins() -> None:
    org = f.organization()
    admin = f.member(org, role=Role.ORG_ADMIN)
    room = support.support_room_create(organization_id=org.pk)
    message, _ = support.support_message_create(
        room=room, author_id=admin.pk, by_contact=False, body="secret words"
    )
    upload = support.support_attachment_upload(
        room=room, uploaded_by_id=admin.pk, file=_text_file()
    )
    support.support_message_create(
        room=room, author_id=admin.pk, by_contact=False, body="file", attachment_ids=[upload.pk]
    )

    with pytest.raises(NotFoundError):
        room_get_visible(user=admin, room_id=room.pk)
    with pytest.raises(NotFoundError):
        attachment_get_for_download(user=admin, attachment_id=upload.pk)
    assert list(message_search(user=admin, organization_id=org.pk, query="secret")) == []
    assert message.room_id == room.pk
