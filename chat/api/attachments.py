"""Chat API: uploading attachments to a room and downloading them (room members only).

Files are served from private storage by these views only, with headers that keep a browser
from treating an upload as part of our site: the type we detected from the bytes (never
sniffed: ``nosniff``), ``Content-Disposition: attachment`` for anything but images and audio,
and a ``Content-Security-Policy`` sandbox, so even an HTML file opened directly runs no
script with our origin.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import FileResponse
from django.urls import URLPattern, path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.api.views import signed_in_user
from chat import attachments, selectors
from chat.api import serializers as chat_serializers
from chat.models import Attachment, AttachmentKind
from core import serializers as core_serializers
from core.exceptions import NotFoundError

# The file is its own document when opened directly: no script, no plugin, no form, no
# same-origin access; it may show itself (an image or a player) and nothing else.
FILE_CONTENT_SECURITY_POLICY = (
    "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'"
)
# Room for the multipart boundaries, headers and the duration field around the file.
MULTIPART_OVERHEAD_BYTES = 16 * 1024
# Files never change under an id; an hour in the person's own browser cache, never shared.
FILE_CACHE_CONTROL = "private, max-age=3600"


class AttachmentUploadApi(APIView):
    """Upload a file, image or voice recording to a room, to be sent with a message."""

    permission_classes = (IsAuthenticated,)
    parser_classes = (MultiPartParser,)
    throttle_classes = (ScopedRateThrottle,)
    throttle_scope = "chat_upload"

    class InputSerializer(core_serializers.InputSerializer):
        file = serializers.FileField(allow_empty_file=True)
        # Sent by the recorder for voice messages; ignored for other files.
        duration_ms = serializers.IntegerField(required=False, allow_null=True, min_value=0)

    @extend_schema(
        request={"multipart/form-data": InputSerializer},
        responses={201: chat_serializers.MessageAttachmentOutput},
        summary="Upload an attachment",
        description=(
            "Checks the room (member, writing role, not archived), the size "
            "(`chat.attachment_too_large`, 413) and the type detected from the file's bytes "
            "(`chat.attachment_type_forbidden`, 422). The upload is sent by posting a message "
            "with its id in `attachment_ids`; uploads never sent are deleted after a day."
        ),
    )
    def post(self, request: Request, room_id: int) -> Response:
        user = signed_in_user(request)
        room = selectors.room_get_visible(user=user, room_id=room_id)
        # Refuse a body announced as too large before reading it (the multipart wrapping
        # adds a little around the file); what slips past is measured after parsing.
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > settings.CHAT_ATTACHMENT_MAX_BYTES + MULTIPART_OVERHEAD_BYTES:
            raise attachments.attachment_too_large()
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        attachment = attachments.attachment_upload(
            user=user,
            room=room,
            file=data.validated_data["file"],
            duration_ms=data.validated_data.get("duration_ms"),
        )
        return Response(
            chat_serializers.MessageAttachmentOutput(selectors.attachment_data(attachment)).data,
            status=status.HTTP_201_CREATED,
        )


def _file_response(attachment: Attachment, *, thumbnail: bool) -> FileResponse:
    stored = attachment.thumbnail if thumbnail else attachment.file
    if not stored:
        raise NotFoundError()
    if thumbnail:
        content_type = "image/png" if (stored.name or "").endswith(".png") else "image/jpeg"
    else:
        content_type = attachment.content_type
    inline = thumbnail or attachment.kind in (AttachmentKind.IMAGE, AttachmentKind.AUDIO)
    response = FileResponse(
        stored.open("rb"),
        content_type=content_type,
        as_attachment=not inline,
        filename=attachment.name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = FILE_CACHE_CONTROL
    response["Content-Security-Policy"] = FILE_CONTENT_SECURITY_POLICY
    # Other sites cannot embed it in their pages, even for a signed-in visitor.
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    return response


FILE_RESPONSES: dict[Any, Any] = {
    (200, "application/octet-stream"): OpenApiResponse(
        OpenApiTypes.BINARY, description="The file, with the type detected at upload."
    ),
    404: OpenApiResponse(description="No such attachment, or not in one of your rooms."),
}


class AttachmentFileApi(APIView):
    """An attachment's file, for the members of its room (an unsent upload: its uploader)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=FILE_RESPONSES, summary="Download an attachment")
    def get(self, request: Request, attachment_id: int) -> FileResponse:
        attachment = attachments.attachment_get_for_download(
            user=signed_in_user(request), attachment_id=attachment_id
        )
        return _file_response(attachment, thumbnail=False)


class AttachmentThumbnailApi(APIView):
    """An image attachment's thumbnail (at most 360 px), for the same people as its file."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=FILE_RESPONSES, summary="Download an image's thumbnail")
    def get(self, request: Request, attachment_id: int) -> FileResponse:
        attachment = attachments.attachment_get_for_download(
            user=signed_in_user(request), attachment_id=attachment_id
        )
        return _file_response(attachment, thumbnail=True)


urlpatterns: list[URLPattern] = [
    path(
        "chat/rooms/<int:room_id>/attachments/",
        AttachmentUploadApi.as_view(),
        name="room-attachments",
    ),
    path(
        "chat/attachments/<int:attachment_id>/file",
        AttachmentFileApi.as_view(),
        name="attachment-file",
    ),
    path(
        "chat/attachments/<int:attachment_id>/thumbnail",
        AttachmentThumbnailApi.as_view(),
        name="attachment-thumbnail",
    ),
    # Search lives in its own module; chat/api/urls.py lists four modules, so it rides here.
]
