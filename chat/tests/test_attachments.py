"""Attachments: what may be uploaded where, what a file is (by its bytes), thumbnails, purge."""

from __future__ import annotations

import datetime
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from chat import attachments
from chat.attachments import attachment_upload, attachments_purge_unsent, clean_name
from chat.models import Attachment, AttachmentKind, RoomKind
from chat.tests.helpers import Team, channel, direct, send, team
from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def private_root(settings: Any, tmp_path: Path) -> Path:
    root = tmp_path / "private"
    settings.PRIVATE_MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def world() -> Team:
    return team()


def stored_files(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


def image_bytes(image_format: str, size: tuple[int, int] = (40, 30), mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    color: Any = (200, 120, 40, 128) if mode == "RGBA" else (200, 120, 40)
    Image.new(mode, size, color).save(buffer, format=image_format)
    return buffer.getvalue()


def zip_bytes(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> Any:
    return SimpleUploadedFile(name, content, content_type=content_type)


MP4_HEADER = b"\x00\x00\x00\x1cftypM4A \x00\x00\x00\x00M4A isommp42" + b"\x00" * 64
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200

ALLOWED = [
    ("photo.png", image_bytes("PNG"), "image/png", AttachmentKind.IMAGE),
    ("photo.jpg", image_bytes("JPEG"), "image/jpeg", AttachmentKind.IMAGE),
    ("anim.gif", image_bytes("GIF"), "image/gif", AttachmentKind.IMAGE),
    ("sticker.webp", image_bytes("WEBP"), "image/webp", AttachmentKind.IMAGE),
    ("voice.webm", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm" + b"\x00" * 50, "audio/webm",
     AttachmentKind.AUDIO),
    ("voice.ogg", b"OggS\x00\x02" + b"\x00" * 60, "audio/ogg", AttachmentKind.AUDIO),
    ("song.mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\x00" * 60, "audio/mpeg",
     AttachmentKind.AUDIO),
    ("frames.mp3", b"\xff\xfb\x90\x64" + b"\x00" * 60, "audio/mpeg", AttachmentKind.AUDIO),
    ("voice.m4a", MP4_HEADER, "audio/mp4", AttachmentKind.AUDIO),
    ("report.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "application/pdf",
     AttachmentKind.FILE),
    ("archive.zip", zip_bytes("a.txt"), "application/zip", AttachmentKind.FILE),
    ("letter.docx", zip_bytes("[Content_Types].xml", "word/document.xml"),
     attachments.DOCX, AttachmentKind.FILE),
    ("sheet.xlsx", zip_bytes("[Content_Types].xml", "xl/workbook.xml"),
     attachments.XLSX, AttachmentKind.FILE),
    ("notes.txt", "Atendimento às 9h, café ☕\n".encode(), "text/plain", AttachmentKind.FILE),
    ("data.csv", b"name,total\nAna,3\n", "text/csv", AttachmentKind.FILE),
]  # fmt: skip


@pytest.mark.parametrize(("name", "content", "content_type", "kind"), ALLOWED)
def test_each_allowed_type_is_recognised_by_its_bytes(
    world: Team, private_root: Path, name: str, content: bytes, content_type: str, kind: str
) -> None:
    room = channel(world.organization, owner=world.agent)

    # The browser's claimed type is always a lie here: only the bytes count.
    attachment = attachment_upload(
        user=world.agent, room=room, file=upload(name, content, "application/x-whatever")
    )

    attachment.refresh_from_db()
    assert (attachment.content_type, attachment.kind, attachment.name, attachment.size) == (
        content_type,
        kind,
        name,
        len(content),
    )
    assert (attachment.room_id, attachment.uploaded_by_id, attachment.message_id) == (
        room.pk,
        world.agent.pk,
        None,
    )
    assert attachment.organization_id == world.organization.pk
    assert attachment.file.name.startswith(f"chat/{world.organization.pk}/")
    assert attachment.file.name.endswith(attachments.EXTENSIONS[content_type])
    assert (private_root / attachment.file.name).read_bytes() == content


def test_an_image_gets_its_size_and_a_jpeg_thumbnail(world: Team, private_root: Path) -> None:
    room = channel(world.organization, owner=world.agent)

    attachment = attachment_upload(
        user=world.agent, room=room, file=upload("wide.jpg", image_bytes("JPEG", (1200, 600)))
    )

    assert (attachment.width, attachment.height) == (1200, 600)
    assert attachment.thumbnail.name.endswith(".jpg")
    with Image.open(private_root / attachment.thumbnail.name) as thumbnail:
        assert (thumbnail.format, thumbnail.size) == ("JPEG", (360, 180))


def test_a_transparent_image_gets_a_png_thumbnail(world: Team, private_root: Path) -> None:
    room = channel(world.organization, owner=world.agent)

    attachment = attachment_upload(
        user=world.agent,
        room=room,
        file=upload("logo.png", image_bytes("PNG", (300, 900), mode="RGBA")),
    )

    with Image.open(private_root / attachment.thumbnail.name) as thumbnail:
        assert (thumbnail.format, thumbnail.mode, thumbnail.size) == ("PNG", "RGBA", (120, 360))


def test_a_photo_turned_by_exif_reports_the_size_it_is_shown_at(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated a quarter turn: stored 800x200, shown 200x800
    Image.new("RGB", (800, 200), "red").save(buffer, format="JPEG", exif=exif)

    attachment = attachment_upload(
        user=world.agent, room=room, file=upload("phone.jpg", buffer.getvalue())
    )

    assert (attachment.width, attachment.height) == (200, 800)
    with Image.open(attachment.thumbnail.open("rb")) as thumbnail:
        assert thumbnail.size == (90, 360)


def test_files_other_than_images_get_no_thumbnail_and_no_size(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)

    attachment = attachment_upload(
        user=world.agent, room=room, file=upload("report.pdf", b"%PDF-1.4 hello")
    )

    assert (attachment.thumbnail.name, attachment.width, attachment.height) == ("", None, None)


def test_a_voice_recording_keeps_the_duration_the_recorder_sent(world: Team) -> None:
    room = direct(world.organization, world.agent, world.agent2)

    attachment = attachment_upload(
        user=world.agent, room=room, file=upload("voice.ogg", b"OggS" + b"\x00" * 40),
        duration_ms=12_345,
    )  # fmt: skip

    assert (attachment.kind, attachment.duration_ms) == (AttachmentKind.AUDIO, 12_345)


def test_a_duration_sent_with_a_file_that_is_not_audio_is_ignored(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)

    attachment = attachment_upload(
        user=world.agent, room=room, file=upload("a.pdf", b"%PDF-1.4"), duration_ms=5000
    )

    assert attachment.duration_ms is None


def test_a_recording_just_over_the_limit_is_clamped_to_it(world: Team, settings: Any) -> None:
    settings.CHAT_VOICE_MAX_SECONDS = 60
    room = channel(world.organization, owner=world.agent)

    attachment = attachment_upload(
        user=world.agent, room=room, file=upload("v.webm", b"\x1a\x45\xdf\xa3" + b"\x00" * 9),
        duration_ms=60_400,
    )  # fmt: skip

    assert attachment.duration_ms == 60_000


def test_a_recording_longer_than_the_limit_is_refused(
    world: Team, settings: Any, private_root: Path
) -> None:
    settings.CHAT_VOICE_MAX_SECONDS = 60
    room = channel(world.organization, owner=world.agent)

    with pytest.raises(ApplicationError) as refused:
        attachment_upload(
            user=world.agent, room=room, file=upload("v.webm", b"\x1a\x45\xdf\xa3" + b"\x00" * 9),
            duration_ms=61_001,
        )  # fmt: skip

    assert (refused.value.code, refused.value.status_code, refused.value.extra) == (
        "chat.voice_too_long",
        422,
        {"max_seconds": 60},
    )
    assert Attachment.objects.count() == 0
    assert stored_files(private_root) == []


@pytest.mark.parametrize(
    ("name", "content", "detected"),
    [
        ("cat.png", EXE, "application/octet-stream"),  # a program wearing an image's name
        ("invoice.pdf", b"\x7fELF\x02\x01\x01" + b"\x00" * 40, "application/octet-stream"),
        ("page.html", b"<html>\x00</html>", "application/octet-stream"),
        ("latin1.txt", "café".encode("latin-1"), "application/octet-stream"),
        ("movie.avi", b"RIFF\x00\x00\x00\x00AVI LIST" + b"\x00" * 20, "application/octet-stream"),
        ("icon.bmp", b"BM" + b"\x00" * 60, "application/octet-stream"),
        (
            "macros.docx",
            zip_bytes("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"),
            "application/octet-stream",
        ),
    ],
)
def test_a_forbidden_type_is_refused_whatever_its_name(
    world: Team, private_root: Path, name: str, content: bytes, detected: str
) -> None:
    room = channel(world.organization, owner=world.agent)

    with pytest.raises(ApplicationError) as refused:
        attachment_upload(user=world.agent, room=room, file=upload(name, content, "image/png"))

    assert (refused.value.code, refused.value.status_code) == (
        "chat.attachment_type_forbidden",
        422,
    )
    assert refused.value.extra["content_type"] == detected
    assert Attachment.objects.count() == 0
    assert stored_files(private_root) == []


def test_a_type_left_out_of_the_setting_is_refused(world: Team, settings: Any) -> None:
    settings.CHAT_ATTACHMENT_TYPES = ["image/png"]
    room = channel(world.organization, owner=world.agent)

    with pytest.raises(ApplicationError) as refused:
        attachment_upload(user=world.agent, room=room, file=upload("a.pdf", b"%PDF-1.4"))

    assert refused.value.code == "chat.attachment_type_forbidden"
    assert refused.value.extra == {"content_type": "application/pdf", "allowed": ["image/png"]}


def test_a_file_that_only_starts_like_an_image_is_refused(world: Team, private_root: Path) -> None:
    room = channel(world.organization, owner=world.agent)
    truncated = image_bytes("PNG", (50, 50))[:40] + b"<script>alert(1)</script>"

    with pytest.raises(ApplicationError) as refused:
        attachment_upload(user=world.agent, room=room, file=upload("x.png", truncated))

    assert (refused.value.code, refused.value.status_code) == ("chat.attachment_invalid", 422)
    assert Attachment.objects.count() == 0
    assert stored_files(private_root) == []


def test_an_image_with_too_many_pixels_is_refused_before_decoding(
    world: Team, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(attachments, "MAX_IMAGE_PIXELS", 100 * 100)
    room = channel(world.organization, owner=world.agent)

    with pytest.raises(ApplicationError) as refused:
        attachment_upload(
            user=world.agent, room=room, file=upload("big.png", image_bytes("PNG", (101, 100)))
        )

    assert refused.value.code == "chat.attachment_invalid"


def test_a_file_over_the_limit_is_refused(world: Team, settings: Any, private_root: Path) -> None:
    settings.CHAT_ATTACHMENT_MAX_BYTES = 1000
    room = channel(world.organization, owner=world.agent)

    with pytest.raises(ApplicationError) as refused:
        attachment_upload(user=world.agent, room=room, file=upload("a.pdf", b"%PDF" + b"0" * 997))

    assert (refused.value.code, refused.value.status_code, refused.value.extra) == (
        "chat.attachment_too_large",
        413,
        {"max_bytes": 1000},
    )
    assert Attachment.objects.count() == 0
    assert stored_files(private_root) == []


def test_a_file_exactly_at_the_limit_is_accepted(world: Team, settings: Any) -> None:
    settings.CHAT_ATTACHMENT_MAX_BYTES = 1000
    room = channel(world.organization, owner=world.agent)

    attachment = attachment_upload(
        user=world.agent, room=room, file=upload("a.pdf", b"%PDF" + b"0" * 996)
    )

    assert attachment.size == 1000


def test_an_empty_file_is_refused(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)

    with pytest.raises(ApplicationError) as refused:
        attachment_upload(user=world.agent, room=room, file=upload("empty.txt", b""))

    assert (refused.value.code, refused.value.status_code) == ("chat.attachment_empty", 422)
    assert Attachment.objects.count() == 0


def test_uploading_to_an_archived_room_is_refused(world: Team, private_root: Path) -> None:
    room = channel(world.organization, owner=world.agent, archived=True)

    with pytest.raises(ApplicationError) as refused:
        attachment_upload(user=world.agent, room=room, file=upload("a.pdf", b"%PDF-1.4"))

    assert (refused.value.code, refused.value.status_code) == ("chat.room_archived", 409)
    assert Attachment.objects.count() == 0
    assert stored_files(private_root) == []


def test_a_viewer_cannot_upload_even_to_a_room_they_are_in(world: Team, private_root: Path) -> None:
    room = channel(world.organization, owner=world.agent, members=[world.viewer])

    with pytest.raises(PermissionDeniedError) as refused:
        attachment_upload(user=world.viewer, room=room, file=upload("a.pdf", b"%PDF-1.4"))

    assert refused.value.code == "chat.permission_denied"
    assert Attachment.objects.count() == 0
    assert stored_files(private_root) == []


def test_someone_who_has_not_joined_a_public_channel_cannot_upload_to_it(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)

    with pytest.raises(PermissionDeniedError):
        attachment_upload(user=world.agent2, room=room, file=upload("a.pdf", b"%PDF-1.4"))

    assert Attachment.objects.count() == 0


@pytest.mark.parametrize("who", ["agent2", "outsider"])
def test_a_private_room_or_another_organizations_room_is_not_found(
    world: Team, private_root: Path, who: str
) -> None:
    room = channel(world.organization, owner=world.agent, kind=RoomKind.PRIVATE)

    with pytest.raises(NotFoundError):
        attachment_upload(user=getattr(world, who), room=room, file=upload("a.pdf", b"%PDF-1"))

    assert Attachment.objects.count() == 0
    assert stored_files(private_root) == []


def test_a_failing_insert_leaves_no_file_behind(
    world: Team, private_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    room = channel(world.organization, owner=world.agent)

    def broken_save(self: Attachment, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(Attachment, "save", broken_save)

    with pytest.raises(RuntimeError):
        attachment_upload(
            user=world.agent, room=room, file=upload("p.png", image_bytes("PNG", (500, 500)))
        )

    monkeypatch.undo()
    assert Attachment.objects.count() == 0
    assert stored_files(private_root) == []


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("C:\\fakepath\\photo.png", "photo.png"),
        ("../../etc/passwd", "passwd.txt"),
        ("  relatório\u202efdp.exe  ", "relatório fdp.exe.txt"),  # no right-to-left trick
        ("run.bat", "run.bat.txt"),
        ("notes.md", "notes.md"),
        ("", "file.txt"),
        ("...", "file.txt"),
        ("a" * 300 + ".txt", "a" * 196 + ".txt"),
    ],
)
def test_names_are_cleaned_and_end_in_what_the_file_is(sent: str, kept: str) -> None:
    content_type = "image/png" if kept.endswith(".png") else "text/plain"

    assert clean_name(sent, content_type=content_type) == kept


def test_a_jpeg_named_png_keeps_its_name_and_gains_the_right_extension(world: Team) -> None:
    room = channel(world.organization, owner=world.agent)

    attachment = attachment_upload(
        user=world.agent, room=room, file=upload("photo.png", image_bytes("JPEG"))
    )

    assert (attachment.content_type, attachment.name) == ("image/jpeg", "photo.png.jpg")


def test_uploads_never_sent_are_purged_after_a_day_with_their_files(
    world: Team, private_root: Path
) -> None:
    room = channel(world.organization, owner=world.agent, members=[world.agent2])
    old_unsent = attachment_upload(
        user=world.agent, room=room, file=upload("old.png", image_bytes("PNG"))
    )
    fresh_unsent = attachment_upload(
        user=world.agent, room=room, file=upload("new.pdf", b"%PDF-1.4")
    )
    old_sent = attachment_upload(user=world.agent, room=room, file=upload("s.pdf", b"%PDF-1.4"))
    send(room, world.agent, "here", attachment_ids=[old_sent.pk])
    two_days_ago = timezone.now() - datetime.timedelta(days=2)
    Attachment.objects.filter(pk__in=[old_unsent.pk, old_sent.pk]).update(created_at=two_days_ago)
    old_files = {old_unsent.file.name, old_unsent.thumbnail.name}
    assert old_files <= set(stored_files(private_root))

    with _on_commit():
        purged = attachments_purge_unsent()

    assert purged == 1
    assert set(Attachment.objects.values_list("pk", flat=True)) == {fresh_unsent.pk, old_sent.pk}
    assert set(stored_files(private_root)) == {fresh_unsent.file.name, old_sent.file.name}
    with _on_commit():
        assert attachments_purge_unsent() == 0


def test_the_purge_task_runs_the_purge(world: Team, private_root: Path) -> None:
    from chat.tasks import purge_unsent_attachments

    room = channel(world.organization, owner=world.agent)
    attachment = attachment_upload(user=world.agent, room=room, file=upload("a.txt", b"hi"))
    Attachment.objects.filter(pk=attachment.pk).update(
        created_at=timezone.now() - datetime.timedelta(hours=25)
    )

    with _on_commit():
        result = purge_unsent_attachments.delay()

    assert result.get() == 1
    assert Attachment.objects.count() == 0
    assert stored_files(private_root) == []


def _on_commit() -> Any:
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)
