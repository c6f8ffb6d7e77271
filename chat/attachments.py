"""Chat attachments: files, images and voice messages uploaded to a room, served to its members.

An upload is stored first, with no message (``Attachment.message`` empty); the message that
sends it claims it (``chat.services.message_send``). Uploads never sent are purged after a day.

What a file *is* comes from its own first bytes (magic numbers), never from the name or the
``Content-Type`` the browser sent: a ``.png`` name on an executable is refused. Images are
decoded with Pillow (a file that only starts like a PNG is refused) and get a small thumbnail
that is re-encoded from pixels, so no metadata or trailing payload of the original reaches it.
Stored names are random (``chat/<org>/<uuid><ext>``) with the extension of the detected type;
the original name is kept, cleaned, in a column.

Errors (all ``{"code", "message", "extra"}``):

- ``chat.attachment_too_large`` (413), extra ``max_bytes``;
- ``chat.attachment_empty`` (422);
- ``chat.attachment_type_forbidden`` (422), extra ``content_type`` (what the bytes are, or
  ``application/octet-stream`` when unknown) and ``allowed``;
- ``chat.attachment_invalid`` (422): an image Pillow cannot decode, or one with too many pixels;
- ``chat.voice_too_long`` (422), extra ``max_seconds``;
- not found (404) for a room the user cannot see; ``chat.permission_denied`` (403) for a
  viewer or someone not in the room; ``chat.room_archived`` (409): as for posting a message.
"""

from __future__ import annotations

import codecs
import datetime
import io
import logging
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import status

from chat.models import Attachment, AttachmentKind, Room
from core.exceptions import ApplicationError, NotFoundError, PermissionDeniedError

logger = logging.getLogger(__name__)

THUMBNAIL_MAX_PX = 360
# Decoding a 40-megapixel image takes up to 160 MB; anything bigger is refused before decoding
# (Pillow's own bomb guard only starts at ~89 megapixels).
MAX_IMAGE_PIXELS = 40_000_000
NAME_MAX_LENGTH = 200
# MediaRecorder stops a little after the limit the page set; a second of slack is accepted
# and clamped, more than that is refused.
VOICE_GRACE_MS = 1000
UNSENT_MAX_AGE = datetime.timedelta(days=1)
SNIFF_BYTES = 64
EXIF_ORIENTATION = 0x0112

UNKNOWN_TYPE = "application/octet-stream"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The extension a stored file gets, from what its bytes are.
EXTENSIONS = {
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "audio/webm": ".webm",
    "audio/ogg": ".ogg",
    "audio/mpeg": ".mp3",
    "audio/mp4": ".m4a",
    "application/pdf": ".pdf",
    "application/zip": ".zip",
    DOCX: ".docx",
    XLSX: ".xlsx",
    "text/plain": ".txt",
    "text/csv": ".csv",
}
# Extensions a file of each type may keep in its name (the first above is added otherwise).
NAME_EXTENSIONS = {
    "image/jpeg": {".jpg", ".jpeg", ".jfif", ".jpe"},
    "audio/webm": {".webm", ".weba"},
    "audio/ogg": {".ogg", ".oga", ".opus"},
    "audio/mp4": {".m4a", ".mp4"},
    "text/plain": {".txt", ".text", ".log", ".md", ".json", ".yaml", ".yml", ".ini"},
}
PILLOW_FORMATS = {
    "PNG": "image/png",
    "JPEG": "image/jpeg",
    "GIF": "image/gif",
    "WEBP": "image/webp",
}


# --- Detecting what a file is --------------------------------------------------------------


def _is_mp3_frame(head: bytes) -> bool:
    # An MPEG audio frame header: 11 sync bits, a version that is not "reserved" (01), a
    # layer that is not "reserved" (00), and a bitrate index that is not "bad" (1111).
    if len(head) < 3 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    version = (head[1] >> 3) & 0b11
    layer = (head[1] >> 1) & 0b11
    bitrate = head[2] >> 4
    return version != 0b01 and layer != 0b00 and bitrate != 0b1111


def _zip_type(file: IO[bytes]) -> str:
    """A ZIP archive, or the Office Open XML document inside one (named by its parts)."""
    try:
        with zipfile.ZipFile(file) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return UNKNOWN_TYPE
    finally:
        file.seek(0)
    if any(name.endswith("vbaProject.bin") for name in names):
        return UNKNOWN_TYPE  # a macro-enabled Office document: never accepted
    if "[Content_Types].xml" in names:
        if "word/document.xml" in names:
            return DOCX
        if "xl/workbook.xml" in names:
            return XLSX
    return "application/zip"


def _is_text(file: IO[bytes]) -> bool:
    """Valid UTF-8 from start to end, with no NUL byte (binary files nearly always have one)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while chunk := file.read(64 * 1024):
            if b"\x00" in chunk:
                return False
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        file.seek(0)
    return True


def detect_content_type(file: IO[bytes], *, name: str = "") -> str:
    """What the file's own bytes say it is (``application/octet-stream`` when unknown).

    ``name`` only tells CSV from plain text, both of which are just UTF-8 text; it never
    makes binary content acceptable.
    """
    file.seek(0)
    head = file.read(SNIFF_BYTES)
    file.seek(0)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_type(file)
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: WebM / Matroska (Chrome's MediaRecorder)
        return "audio/webm"
    if head.startswith(b"OggS"):  # Firefox's MediaRecorder
        return "audio/ogg"
    if head.startswith(b"ID3") or _is_mp3_frame(head):
        return "audio/mpeg"
    if head[4:8] == b"ftyp":  # ISO media: Safari's MediaRecorder records audio/mp4
        return "audio/mp4"
    if head and _is_text(file):
        return "text/csv" if name.lower().endswith(".csv") else "text/plain"
    return UNKNOWN_TYPE


def kind_for(content_type: str) -> str:
    if content_type.startswith("image/"):
        return AttachmentKind.IMAGE
    if content_type.startswith("audio/"):
        return AttachmentKind.AUDIO
    return AttachmentKind.FILE


def clean_name(name: str, *, content_type: str) -> str:
    """The name to show and to download as: no folders, no control characters, at most 200
    characters, and an extension that matches what the bytes are.

    A name whose extension does not belong to the detected type gets the right one added
    ("run.bat" with text inside becomes "run.bat.txt"), so a downloaded file never opens on
    someone's computer as something other than what we checked. An empty name becomes
    ``file`` with that extension.
    """
    # Browsers send a bare name, but old ones (and scripts) send "C:\\fakepath\\x.png".
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(
        " " if unicodedata.category(char).startswith(("C", "Z")) else char for char in name
    )
    name = " ".join(name.split()).strip(" .") or "file"
    extension = EXTENSIONS.get(content_type, "")
    suffix = PurePosixPath(name).suffix.lower()
    if suffix not in NAME_EXTENSIONS.get(content_type, {extension}):
        suffix = extension
        name += extension
    if len(name) > NAME_MAX_LENGTH:
        stem = name[: len(name) - len(suffix)] if suffix else name
        name = stem[: NAME_MAX_LENGTH - len(suffix)].rstrip(" .") + suffix
    return name


# --- Images ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    thumbnail: bytes
    thumbnail_extension: str


def _invalid_image() -> ApplicationError:
    return ApplicationError(
        _("This image could not be read."),
        code="chat.attachment_invalid",
        status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
    )


def image_inspect(file: IO[bytes], *, content_type: str) -> ImageInfo:
    """Decode the image fully, check it is what its bytes claimed, and draw its thumbnail.

    Width and height are as shown (after the EXIF orientation). The thumbnail (at most
    360 px on its longer side) is a JPEG, or a PNG when the image has transparency.
    Raises ``chat.attachment_invalid``.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            file.seek(0)
            with Image.open(file) as probe:
                if PILLOW_FORMATS.get(probe.format or "") != content_type:
                    raise _invalid_image()
                if probe.width * probe.height > MAX_IMAGE_PIXELS:
                    raise _invalid_image()
                probe.verify()  # structure and checksums, without decoding every pixel
            file.seek(0)
            with Image.open(file) as image:
                width, height = image.size
                # EXIF orientations 5 to 8 turn the picture a quarter: it shows tall for wide.
                if image.getexif().get(EXIF_ORIENTATION, 1) in (5, 6, 7, 8):
                    width, height = height, width
                # JPEGs can be decoded straight at a fraction of their size: much less work.
                image.draft("RGB", (THUMBNAIL_MAX_PX * 2, THUMBNAIL_MAX_PX * 2))
                shown = ImageOps.exif_transpose(image)
                has_alpha = shown.mode in ("RGBA", "LA", "PA") or (
                    shown.mode == "P" and "transparency" in shown.info
                )
                thumb = shown.convert("RGBA" if has_alpha else "RGB")
                thumb.thumbnail((THUMBNAIL_MAX_PX, THUMBNAIL_MAX_PX))
                out = io.BytesIO()
                if has_alpha:
                    thumb.save(out, format="PNG", optimize=True)
                else:
                    thumb.save(out, format="JPEG", quality=82, optimize=True)
    except ApplicationError:
        raise
    except (
        UnidentifiedImageError,
        OSError,
        SyntaxError,
        ValueError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
    ) as exc:
        raise _invalid_image() from exc
    finally:
        file.seek(0)
    return ImageInfo(
        width=width,
        height=height,
        thumbnail=out.getvalue(),
        thumbnail_extension=".png" if has_alpha else ".jpg",
    )


# --- Upload, download, purge ----------------------------------------------------------------


def _ensure_may_upload(*, user: Any, room: Room) -> None:
    # The same rules and errors as posting a message (chat.services.message_send).
    from chat import permissions
    from chat.services import RoomArchivedError

    access = permissions.room_access(user, room)
    if not permissions.can_see(user, room, access=access):
        raise NotFoundError()
    if not permissions.can_upload(user, room, access=access):
        raise PermissionDeniedError(
            _("You cannot send files to this room."), code="chat.permission_denied"
        )
    if room.is_archived:
        raise RoomArchivedError()


def attachment_too_large() -> ApplicationError:
    max_bytes = settings.CHAT_ATTACHMENT_MAX_BYTES
    return ApplicationError(
        _("The file is larger than %(size)s.") % {"size": filesizeformat(max_bytes)},
        code="chat.attachment_too_large",
        extra={"max_bytes": max_bytes},
        status_code=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


def _voice_duration(duration_ms: int | None) -> int | None:
    if duration_ms is None:
        return None
    limit_ms = settings.CHAT_VOICE_MAX_SECONDS * 1000
    if duration_ms > limit_ms + VOICE_GRACE_MS:
        raise ApplicationError(
            _("Voice messages last at most %(seconds)d seconds.")
            % {"seconds": settings.CHAT_VOICE_MAX_SECONDS},
            code="chat.voice_too_long",
            extra={"max_seconds": settings.CHAT_VOICE_MAX_SECONDS},
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    return max(0, min(duration_ms, limit_ms))


def attachment_upload(
    *, user: Any, room: Room, file: Any, duration_ms: int | None = None
) -> Attachment:
    """Store a file for ``user`` to send in ``room``, not yet attached to any message.

    Everything is checked before anything is written: the room (the user is a member whose
    organization role writes; the room is not archived), the size, the type from the file's
    own bytes, and an image's pixels. Then the file (and an image's thumbnail) go to private
    storage and the row is created; if creating the row fails, the stored files are deleted
    again, so a refused upload leaves neither row nor file. ``duration_ms`` (sent by the
    recorder) is kept for audio only. No locks, no events: the upload is private to its
    uploader until a message claims it.

    Raises not found, ``chat.permission_denied`` (403), ``chat.room_archived`` (409),
    ``chat.attachment_too_large`` (413), ``chat.attachment_empty``,
    ``chat.attachment_type_forbidden``, ``chat.attachment_invalid``, ``chat.voice_too_long``
    (422).
    """
    _ensure_may_upload(user=user, room=room)
    return attachment_store(room=room, uploaded_by_id=user.pk, file=file, duration_ms=duration_ms)


def attachment_store(
    *, room: Room, uploaded_by_id: int | None, file: Any, duration_ms: int | None = None
) -> Attachment:
    """The checks and storage of ``attachment_upload``, without asking who may upload.

    For callers that decided that themselves (support conversations: the assignee, or a
    widget visitor, who has no user row: ``uploaded_by_id`` None). Raises the size, type and
    image errors of ``attachment_upload``.
    """
    size = int(file.size)
    if size > settings.CHAT_ATTACHMENT_MAX_BYTES:
        raise attachment_too_large()
    if size == 0:
        raise ApplicationError(
            _("The file is empty."),
            code="chat.attachment_empty",
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    original_name = str(getattr(file, "name", "") or "")
    content_type = detect_content_type(file, name=original_name)
    if content_type not in settings.CHAT_ATTACHMENT_TYPES:
        raise ApplicationError(
            _("Files of this type cannot be sent."),
            code="chat.attachment_type_forbidden",
            extra={"content_type": content_type, "allowed": list(settings.CHAT_ATTACHMENT_TYPES)},
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    kind = kind_for(content_type)
    image = image_inspect(file, content_type=content_type) if kind == AttachmentKind.IMAGE else None
    duration = _voice_duration(duration_ms) if kind == AttachmentKind.AUDIO else None

    attachment = Attachment(
        organization_id=room.organization_id,
        room=room,
        uploaded_by_id=uploaded_by_id,
        kind=kind,
        name=clean_name(original_name, content_type=content_type),
        content_type=content_type,
        size=size,
        width=image.width if image else None,
        height=image.height if image else None,
        duration_ms=duration,
    )
    file.seek(0)
    try:
        # The storage name's extension is the detected type's, never the one the client sent.
        attachment.file.save("upload" + EXTENSIONS[content_type], file, save=False)
        if image is not None:
            attachment.thumbnail.save(
                "thumbnail" + image.thumbnail_extension, ContentFile(image.thumbnail), save=False
            )
        attachment.save()
    except BaseException:
        _delete_files(attachment.file.name, attachment.thumbnail.name)
        raise
    return attachment


def _delete_files(*names: str | None) -> None:
    storage = Attachment._meta.get_field("file").storage  # type: ignore[attr-defined]
    for name in names:
        if not name:
            continue
        try:
            storage.delete(name)
        except OSError:  # already gone, or the disk refuses: the row is what matters
            logger.warning("chat attachment file not deleted", extra={"file": name})


def attachment_get_for_download(*, user: Any, attachment_id: int) -> Attachment:
    """An attachment whose file ``user`` may download; not found otherwise.

    Files are served to the members of the attachment's room only (a public channel's files
    too: joining is one click, but the files stay with the room's members). A sent file
    whose message was deleted is gone; an upload not sent yet is its uploader's alone. The
    person must still belong to the organization. One query.
    """
    if not getattr(user, "is_authenticated", False):
        raise NotFoundError()
    attachment = (
        Attachment.objects.filter(
            pk=attachment_id,
            room__members__user_id=user.pk,
            organization__memberships__user_id=user.pk,
        )
        .filter(
            Q(message__isnull=False, message__deleted_at__isnull=True)
            | Q(message__isnull=True, uploaded_by_id=user.pk)
        )
        .first()
    )
    if attachment is None:
        raise NotFoundError()
    return attachment


def attachments_purge_unsent(*, older_than: datetime.timedelta = UNSENT_MAX_AGE) -> int:
    """Delete uploads never sent within ``older_than`` (a day), rows and files.

    Rows are locked and re-checked (``skip_locked``: an upload a message is claiming right
    now is left for the next run), deleted in one transaction, and their files removed after
    commit. Returns how many were deleted.
    """
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        doomed = list(
            Attachment.objects.select_for_update(skip_locked=True)
            .filter(message__isnull=True, created_at__lt=cutoff)
            .order_by("pk")
            .values_list("pk", "file", "thumbnail")
        )
        if not doomed:
            return 0
        # The rows are locked: no message can claim one before this transaction ends.
        Attachment.objects.filter(pk__in=[pk for pk, _file, _thumbnail in doomed]).delete()
        names = [name for _pk, file, thumbnail in doomed for name in (file, thumbnail)]
        transaction.on_commit(lambda: _delete_files(*names))
    return len(doomed)
