"""The attachments API: uploading to a room, and files served to the room's members only."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.utils import timezone
from PIL import Image
from rest_framework.settings import api_settings
from rest_framework.test import APIClient
from rest_framework.throttling import ScopedRateThrottle

from chat import services
from chat.models import Attachment, Message, RoomKind
from chat.tests.helpers import (
    Team,
    assert_error,
    channel,
    client_for,
    committed,
    direct,
    send,
    team,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "private"
    settings.PRIVATE_MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def world() -> Team:
    return team()


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()]


def png(size: tuple[int, int] = (64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 200, 90)).save(buffer, format="PNG")
    return buffer.getvalue()


def upload_url(room_id: int) -> str:
    return f"/api/v1/chat/rooms/{room_id}/attachments/"


def post_file(client: APIClient, room_id: int, name: str, content: bytes, **fields: Any) -> Any:
    file = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    return client.post(upload_url(room_id), {"file": file, **fields}, format="multipart")


def body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def test_a_member_uploads_an_image_and_gets_it_back(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)

    response = post_file(client_for(world.agent), room.pk, "Foto da fila.png", png())

    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get()
    assert response.json() == {
        "id": attachment.pk,
        "kind": "image",
        "name": "Foto da fila.png",
        "content_type": "image/png",
        "size": len(png()),
        "width": 64,
        "height": 48,
        "duration_ms": None,
        "url": f"/api/v1/chat/attachments/{attachment.pk}/file",
        "thumbnail_url": f"/api/v1/chat/attachments/{attachment.pk}/thumbnail",
    }


def test_a_voice_recording_is_uploaded_with_its_duration(world: Team) -> None:
    room = direct(world.organization, world.agent, world.agent2)

    response = post_file(
        client_for(world.agent), room.pk, "blob", b"\x1a\x45\xdf\xa3" + b"\x00" * 64,
        duration_ms="4200",
    )  # fmt: skip

    assert response.status_code == 201, response.content
    assert {key: response.json()[key] for key in ("kind", "name", "content_type")} == {
        "kind": "audio",
        "name": "blob.webm",
        "content_type": "audio/webm",
    }
    assert response.json()["duration_ms"] == 4200


def test_a_five_megabyte_file_goes_through_the_real_multipart_path(
    world: Team, settings: Any, private_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DATA_UPLOAD_MAX_MEMORY_SIZE (2 MiB) bounds the form fields, not the file; a file over
    # FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) is spooled to a temporary file by Django.
    assert settings.DATA_UPLOAD_MAX_MEMORY_SIZE == 2 * 1024 * 1024
    seen: list[type] = []
    from chat import attachments

    real_detect = attachments.detect_content_type

    def spy(file: Any, **kwargs: Any) -> str:
        seen.append(type(file))
        return real_detect(file, **kwargs)

    monkeypatch.setattr(attachments, "detect_content_type", spy)
    room = channel(world.organization, owner=world.agent)
    content = b"%PDF-1.7\n" + b"0" * (5 * 1024 * 1024)

    response = post_file(client_for(world.agent), room.pk, "manual.pdf", content)

    assert response.status_code == 201, response.content
    assert response.json()["size"] == len(content)
    assert seen == [TemporaryUploadedFile]
    (stored,) = stored_files(private_root)
    assert stored.stat().st_size == len(content)


def test_a_file_over_the_limit_is_refused_with_413(
    world: Team, settings: Any, private_root: Path
) -> None:
    settings.CHAT_ATTACHMENT_MAX_BYTES = 1024 * 1024
    room = channel(world.organization, owner=world.agent)

    response = post_file(
        client_for(world.agent), room.pk, "big.pdf", b"%PDF" + b"0" * (1024 * 1024)
    )

    assert_error(response, 413, "chat.attachment_too_large", {"max_bytes": 1024 * 1024})
    assert Attachment.objects.count() == 0
    assert stored_files(private_root) == []


def test_a_body_announced_as_too_large_is_refused_before_it_is_read(
    world: Team, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from chat import attachments

    settings.CHAT_ATTACHMENT_MAX_BYTES = 1024 * 1024
    room = channel(world.organization, owner=world.agent)
    inspected: list[Any] = []
    monkeypatch.setattr(attachments, "detect_content_type", lambda *a, **k: inspected.append(a))

    response = post_file(
        client_for(world.agent), room.pk, "big.pdf", b"%PDF" + b"0" * (1024 * 1024 + 20_000)
    )

    assert_error(response, 413, "chat.attachment_too_large", {"max_bytes": 1024 * 1024})
    assert inspected == []
    assert Attachment.objects.count() == 0


def test_a_program_named_like_an_image_is_refused_with_422(
    world: Team, settings: Any, private_root: Path
) -> None:
    room = channel(world.organization, owner=world.agent)

    response = post_file(client_for(world.agent), room.pk, "cute-cat.png", b"MZ\x90\x00" * 64)

    assert_error(
        response,
        422,
        "chat.attachment_type_forbidden",
        {
            "content_type": "application/octet-stream",
            "allowed": list(settings.CHAT_ATTACHMENT_TYPES),
        },
    )
    assert Attachment.objects.count() == 0
    assert stored_files(private_root) == []


def test_a_request_without_a_file_is_a_validation_error(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)

    response = client_for(world.agent).post(upload_url(room.pk), {}, format="multipart")

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert set(response.json()["extra"]["fields"]) == {"file"}


@pytest.mark.parametrize(
    ("who", "kind", "status", "code"),
    [
        ("anonymous", RoomKind.CHANNEL, 401, "not_authenticated"),
        ("outsider", RoomKind.CHANNEL, 404, "not_found"),
        ("agent2", RoomKind.PRIVATE, 404, "not_found"),
        ("agent2", RoomKind.CHANNEL, 403, "chat.permission_denied"),  # visible, not joined
        ("viewer", RoomKind.CHANNEL, 403, "chat.permission_denied"),  # joined, reads only
    ],
)
def test_who_may_not_upload(
    world: Team, private_root: Path, who: str, kind: str, status: int, code: str
) -> None:
    room = channel(world.organization, owner=world.agent, kind=kind, members=[world.viewer])
    user = None if who == "anonymous" else getattr(world, who)

    response = post_file(client_for(user), room.pk, "a.pdf", b"%PDF-1.4")

    assert response.status_code == status, response.content
    assert response.json()["code"] == code
    assert Attachment.objects.count() == 0
    assert stored_files(private_root) == []


def test_uploading_to_an_archived_room_is_a_conflict(world: Team) -> None:
    room = channel(world.organization, owner=world.agent, archived=True)

    response = post_file(client_for(world.agent), room.pk, "a.pdf", b"%PDF-1.4")

    assert response.status_code == 409
    assert response.json()["code"] == "chat.room_archived"


def test_uploads_are_throttled_with_the_chat_upload_rate(
    world: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DRF reads the rates once, at import: patch them where the throttle looks.
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "chat_upload": "2/min"}
    monkeypatch.setattr(ScopedRateThrottle, "THROTTLE_RATES", rates)
    room = channel(world.organization, owner=world.agent)
    client = client_for(world.agent)

    statuses = [post_file(client, room.pk, "a.txt", b"hi").status_code for _ in range(3)]

    assert statuses == [201, 201, 429]
    assert Attachment.objects.count() == 2


def _sent_attachment(world: Team, name: str, content: bytes) -> tuple[Any, Attachment]:
    room = channel(world.organization, owner=world.agent, members=[world.agent2, world.viewer])
    response = post_file(client_for(world.agent), room.pk, name, content)
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get(pk=response.json()["id"])
    send(room, world.agent, "see attached", attachment_ids=[attachment.pk])
    attachment.refresh_from_db()
    return room, attachment


def test_room_members_download_an_image_inline_with_safe_headers(world: Team) -> None:
    _room, attachment = _sent_attachment(world, "Relatório março.png", png())

    responses = [
        client_for(user).get(f"/api/v1/chat/attachments/{attachment.pk}/file")
        for user in (world.agent, world.agent2, world.viewer)
    ]

    for response in responses:
        assert response.status_code == 200
        assert body(response) == png()
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"] == (
            "inline; filename*=utf-8''Relat%C3%B3rio%20mar%C3%A7o.png"
        )
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"] == "private, max-age=3600"
        assert response["Content-Security-Policy"].startswith("sandbox;")
        assert "default-src 'none'" in response["Content-Security-Policy"]


def test_a_text_file_full_of_html_is_downloaded_never_rendered(world: Team) -> None:
    payload = b"<html><script>fetch('/api/v1/me/')</script></html>"
    _room, attachment = _sent_attachment(world, "page.html", payload)

    response = client_for(world.agent2).get(f"/api/v1/chat/attachments/{attachment.pk}/file")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/plain"
    assert response["Content-Disposition"] == 'attachment; filename="page.html.txt"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("sandbox;")
    assert body(response) == payload


def test_the_thumbnail_of_an_image_is_a_small_jpeg(world: Team) -> None:
    _room, attachment = _sent_attachment(world, "big.png", png((1000, 500)))

    response = client_for(world.agent2).get(f"/api/v1/chat/attachments/{attachment.pk}/thumbnail")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(body(response))) as thumbnail:
        assert thumbnail.size == (360, 180)


def test_a_file_without_a_thumbnail_answers_404_for_it(world: Team) -> None:
    _room, attachment = _sent_attachment(world, "a.pdf", b"%PDF-1.4")

    response = client_for(world.agent).get(f"/api/v1/chat/attachments/{attachment.pk}/thumbnail")

    assert_error(response, 404, "not_found")


@pytest.mark.parametrize("path", ["file", "thumbnail"])
def test_nobody_outside_the_room_gets_the_file(world: Team, path: str) -> None:
    room = channel(world.organization, owner=world.agent, kind=RoomKind.PRIVATE)
    response = post_file(client_for(world.agent), room.pk, "p.png", png())
    attachment_id = response.json()["id"]
    send(room, world.agent, "", attachment_ids=[attachment_id])
    url = f"/api/v1/chat/attachments/{attachment_id}/{path}"

    as_org_member = client_for(world.agent2).get(url)
    as_org_admin = client_for(world.admin).get(url)
    as_other_org = client_for(world.outsider).get(url)
    as_anonymous = APIClient().get(url)
    missing = client_for(world.agent).get(f"/api/v1/chat/attachments/{attachment_id + 99}/{path}")

    for response in (as_org_member, as_org_admin, as_other_org, missing):
        assert_error(response, 404, "not_found")
    assert as_anonymous.status_code == 401


def test_public_channel_files_are_for_its_members_only(world: Team) -> None:
    room, attachment = _sent_attachment(world, "a.pdf", b"%PDF-1.4")
    url = f"/api/v1/chat/attachments/{attachment.pk}/file"

    before_joining = client_for(world.admin).get(url)
    room.members.create(user=world.admin)
    after_joining = client_for(world.admin).get(url)

    assert before_joining.status_code == 404
    assert after_joining.status_code == 200


def test_someone_who_left_the_organization_loses_the_files(world: Team) -> None:
    _room, attachment = _sent_attachment(world, "a.pdf", b"%PDF-1.4")
    world.agent2.memberships.filter(organization=world.organization).delete()

    response = client_for(world.agent2).get(f"/api/v1/chat/attachments/{attachment.pk}/file")

    assert_error(response, 404, "not_found")


def test_an_upload_not_sent_yet_is_its_uploaders_alone(world: Team) -> None:
    room = channel(world.organization, owner=world.agent, members=[world.agent2])
    attachment_id = post_file(client_for(world.agent), room.pk, "draft.pdf", b"%PDF-1").json()["id"]
    url = f"/api/v1/chat/attachments/{attachment_id}/file"

    by_uploader = client_for(world.agent).get(url)
    by_member_before = client_for(world.agent2).get(url)
    send(room, world.agent, "now", attachment_ids=[attachment_id])
    by_member_after = client_for(world.agent2).get(url)

    assert by_uploader.status_code == 200
    assert by_uploader["Content-Disposition"] == 'attachment; filename="draft.pdf"'
    assert by_member_before.status_code == 404
    assert by_member_after.status_code == 200


def test_the_files_of_a_deleted_message_are_gone(world: Team, private_root: Path) -> None:
    _room, attachment = _sent_attachment(world, "a.png", png())
    assert len(stored_files(private_root)) == 2  # the image and its thumbnail

    with committed():
        services.message_delete(user=world.agent, message=attachment.message)

    for user in (world.agent, world.agent2):
        for path in ("file", "thumbnail"):
            response = client_for(user).get(f"/api/v1/chat/attachments/{attachment.pk}/{path}")
            assert_error(response, 404, "not_found")
    assert stored_files(private_root) == []


def test_a_file_whose_message_is_marked_deleted_is_not_served(world: Team) -> None:
    # The delete service removes the rows; should one ever survive, it is still not served.
    _room, attachment = _sent_attachment(world, "a.pdf", b"%PDF-1.4")
    Message.objects.filter(pk=attachment.message_id).update(deleted_at=timezone.now())

    response = client_for(world.agent).get(f"/api/v1/chat/attachments/{attachment.pk}/file")

    assert_error(response, 404, "not_found")
