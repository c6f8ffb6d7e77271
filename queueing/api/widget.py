"""The support widget's API, for visitors on the organization's own website.

Every request names the widget's public key (``X-Widget-Key`` header or ``?key=``) and comes
from one of its allowed origins (``queueing.widget.origin_check``); after the pre-chat form it
carries the visitor's token (``Authorization: Visitor <token>``). There are no cookies, so no
CSRF: a foreign page can only send what its visitor's browser holds in that page's storage.

CORS is answered here rather than by a middleware, because the allowed origins are the
widget's, not the site's: an allowed origin gets ``Access-Control-Allow-Origin`` with its own
name (on errors too, so the widget can read them); any other gets no CORS headers at all.
Views call one service or selector each; the inbox services hold the conversation rules.
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.http import FileResponse
from django.utils.cache import patch_vary_headers
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import exceptions, status
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle, SimpleRateThrottle
from rest_framework.views import APIView

from accounts.api.views import signed_in_user
from accounts.authentication import LocalizedJWTAuthentication, VerifiedSessionAuthentication
from chat.models import Attachment, AttachmentKind, Message
from chat.support import support_message_data
from queueing import inbox, inbox_selectors
from queueing import widget as widget_services
from queueing.api import widget_serializers as serializers
from queueing.models import Contact, Conversation, SupportWidget
from queueing.widget import VisitorIdentity

KEY_HEADER = "X-Widget-Key"
CORS_ALLOW_HEADERS = "Authorization, Content-Type, X-Widget-Key"
CORS_ALLOW_METHODS = "GET, POST, OPTIONS"
CORS_MAX_AGE_SECONDS = "600"
FILE_CONTENT_SECURITY_POLICY = (
    "sandbox; default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'"
)
MULTIPART_OVERHEAD_BYTES = 16 * 1024

KEY_PARAMETERS = [
    OpenApiParameter(
        KEY_HEADER,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=False,
        description="The widget's public key (`pk_...`); or the `key` query parameter.",
    ),
    OpenApiParameter(
        "key", OpenApiTypes.STR, description="The widget's public key, when no header is sent."
    ),
]


def own_origin(request: Request) -> str:
    return f"{request.scheme}://{request.get_host()}"


def _widget_key(request: Request) -> str | None:
    return request.headers.get(KEY_HEADER) or request.query_params.get("key") or None


def _request_widget(request: Request) -> SupportWidget | None:
    widget = getattr(request, "support_widget", None)
    return widget if isinstance(widget, SupportWidget) else None


class VisitorAuthentication(BaseAuthentication):
    """``Authorization: Visitor <token>`` for the widget named by the request's key.

    The user stays anonymous; ``request.auth`` is the ``VisitorIdentity``. A token that is
    not valid (expired, revoked, another organization's) is refused with 401
    ``widget.invalid_token``; ``lenient`` views (starting a session) treat it as absent.
    """

    keyword = "Visitor"
    lenient = False

    def authenticate(self, request: Request) -> tuple[Any, VisitorIdentity] | None:
        parts = get_authorization_header(request).split()
        if not parts or parts[0].decode("latin-1") != self.keyword:
            return None
        widget = _request_widget(request)
        contact = None
        if len(parts) == 2 and widget is not None:
            contact = widget_services.visitor_contact_from_token(
                widget=widget, token=parts[1].decode("latin-1")
            )
        if contact is None or widget is None:
            if self.lenient:
                return None
            raise exceptions.AuthenticationFailed(
                widget_services.invalid_token_message(), code="widget.invalid_token"
            )
        return AnonymousUser(), VisitorIdentity(widget=widget, contact=contact)

    def authenticate_header(self, request: Request) -> str:
        return self.keyword


class LenientVisitorAuthentication(VisitorAuthentication):
    lenient = True


class VisitorAuthenticationScheme(OpenApiAuthenticationExtension):
    """How the schema describes the visitor token."""

    target_class = VisitorAuthentication
    name = "visitorToken"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Visitor <token>`, from `POST /api/v1/widget/session/`.",
        }


class LenientVisitorAuthenticationScheme(VisitorAuthenticationScheme):
    """The same token where it is optional (starting a session)."""

    target_class = LenientVisitorAuthentication
    name = "visitorTokenOptional"


class IsWidgetVisitor(BasePermission):
    """The request carries a valid visitor token for the key's widget."""

    def has_permission(self, request: Any, view: Any) -> bool:
        return isinstance(request.auth, VisitorIdentity)


def visitor(request: Request) -> Contact:
    """The visitor's contact, for views whose permission class requires a token."""
    identity = request.auth
    assert isinstance(identity, VisitorIdentity)
    return identity.contact


def optional_visitor(request: Request) -> Contact | None:
    identity = request.auth
    return identity.contact if isinstance(identity, VisitorIdentity) else None


class WidgetThrottle(SimpleRateThrottle):
    """Per contact once the visitor has a token, per IP address before."""

    scope = "widget"

    def get_cache_key(self, request: Request, view: Any) -> str:
        identity = request.auth
        if isinstance(identity, VisitorIdentity):
            ident = f"contact-{identity.contact.pk}"
        else:
            ident = f"ip-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}


class WidgetMessageThrottle(WidgetThrottle):
    scope = "widget_message"


class WidgetApiView(APIView):
    """Key, origin and CORS handling shared by every widget view.

    Order: the key (404), the origin (403, before anything else is looked at), then DRF's
    authentication, permissions and throttles; then a same-site request whose origin the
    widget does not list is let through only for an in-app contact.
    """

    authentication_classes: Any = (VisitorAuthentication,)
    permission_classes: Any = (IsWidgetVisitor,)
    throttle_classes: Any = (WidgetThrottle,)
    cors_origin: str | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if request.method == "OPTIONS":
            # A CORS preflight carries none of our headers: answered without auth.
            self.format_kwarg = self.get_format_suffix(**kwargs)
            request.accepted_renderer, request.accepted_media_type = (
                self.perform_content_negotiation(request)
            )
            return
        widget = widget_services.widget_get_by_key(_widget_key(request))
        origin = request.headers.get("Origin")
        verdict = widget_services.origin_check(
            widget, origin=origin, own_origin=own_origin(request)
        )
        if verdict == "allowed" and origin:
            self.cors_origin = origin
        request.support_widget = widget  # type: ignore[attr-defined]
        super().initial(request, *args, **kwargs)
        self.check_same_site(request, verdict)

    def check_same_site(self, request: Request, verdict: str) -> None:
        widget_services.require_origin_for(optional_visitor(request), verdict)

    def options(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        return Response(status=status.HTTP_204_NO_CONTENT)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS":
            if origin and widget_services.preflight_allowed(
                origin=origin, key=request.query_params.get("key")
            ):
                response["Access-Control-Allow-Origin"] = origin
                response["Access-Control-Allow-Methods"] = CORS_ALLOW_METHODS
                response["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
                response["Access-Control-Max-Age"] = CORS_MAX_AGE_SECONDS
        elif self.cors_origin:
            response["Access-Control-Allow-Origin"] = self.cors_origin
        patch_vary_headers(response, ("Origin",))
        return response

    def throttled(self, request: Request, wait: float | None) -> NoReturn:
        raise exceptions.Throttled(wait=wait, code="widget.throttled")

    def base_url(self, request: Request) -> str:
        return widget_services.public_base(own_origin(request))


# --- payloads --------------------------------------------------------------------------------


def _conversation_payload(conversation: Conversation) -> dict[str, Any]:
    return dict(inbox_selectors.widget_conversation_data(conversation))


def _message_payload(message: Message, *, conversation: Conversation, base: str) -> dict[str, Any]:
    """The contact's shape of a message, with attachment URLs signed for ``<img src>``."""
    data: dict[str, Any] = dict(
        support_message_data(message, for_contact=True, conversation_id=conversation.pk)
    )
    data["attachments"] = [
        _attachment_payload(dict(item), contact_id=conversation.contact_id, base=base)
        for item in data["attachments"]
    ]
    return data


def _attachment_payload(item: dict[str, Any], *, contact_id: int, base: str) -> dict[str, Any]:
    signature = widget_services.attachment_sign(attachment_id=item["id"], contact_id=contact_id)
    url = f"{base}{widget_services.API_PATH}attachments/{item['id']}/?sig={signature}"
    return {
        **item,
        "url": url,
        "thumbnail_url": f"{url}&thumbnail=1" if item.get("thumbnail_url") else None,
    }


# --- views -----------------------------------------------------------------------------------


class WidgetConfigApi(WidgetApiView):
    """The widget's look, departments and whether anyone answers now (before any session)."""

    permission_classes = (AllowAny,)

    @extend_schema(
        parameters=KEY_PARAMETERS,
        responses={200: serializers.WidgetConfigOutput},
        summary="Widget configuration",
        description=(
            "`open_now`: some department has a queue within business hours and an available "
            "agent; when false the widget shows the offline form."
        ),
    )
    def get(self, request: Request) -> Response:
        data = widget_services.widget_config(
            widget=_request_widget(request),  # type: ignore[arg-type]
            own_origin=own_origin(request),
        )
        return Response(serializers.WidgetConfigOutput(data).data)


class WidgetSessionApi(WidgetApiView):
    """Start a visitor session (the pre-chat form), or renew one with its current token."""

    authentication_classes = (LenientVisitorAuthentication,)
    permission_classes = (AllowAny,)

    @extend_schema(
        parameters=KEY_PARAMETERS,
        request=serializers.WidgetSessionInput,
        responses={
            201: serializers.WidgetSessionOutput,
            200: OpenApiResponse(serializers.WidgetSessionOutput, description="The same contact."),
        },
        summary="Start or renew a visitor session",
        description=(
            "With a valid `Authorization: Visitor <token>` the same contact comes back (200) "
            "with a fresh token, its name and email updated when sent; an invalid or expired "
            "token is ignored and a new contact is created (201)."
        ),
    )
    def post(self, request: Request) -> Response:
        data = serializers.WidgetSessionInput(data=request.data)
        data.is_valid(raise_exception=True)
        contact, created = widget_services.visitor_session_start(
            widget=_request_widget(request),  # type: ignore[arg-type]
            contact=optional_visitor(request),
            **data.validated_data,
        )
        return Response(
            serializers.WidgetSessionOutput(
                {
                    "token": widget_services.visitor_token_make(contact),
                    "contact": widget_services.contact_data(contact),
                }
            ).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class WidgetSessionInAppApi(WidgetApiView):
    """A signed-in user of our own web app becomes the contact linked to their account."""

    authentication_classes = (LocalizedJWTAuthentication, VerifiedSessionAuthentication)
    permission_classes = (IsAuthenticated,)

    def check_same_site(self, request: Request, verdict: str) -> None:
        # Our own site (or an origin the widget lists) with the user's session: allowed.
        return None

    @extend_schema(
        parameters=KEY_PARAMETERS,
        request=None,
        responses={200: serializers.WidgetSessionOutput},
        summary="Start an in-app visitor session",
    )
    def post(self, request: Request) -> Response:
        contact = widget_services.visitor_session_in_app(
            widget=_request_widget(request),  # type: ignore[arg-type]
            user=signed_in_user(request),
        )
        return Response(
            serializers.WidgetSessionOutput(
                {
                    "token": widget_services.visitor_token_make(contact),
                    "contact": widget_services.contact_data(contact),
                }
            ).data
        )


class WidgetConversationsApi(WidgetApiView):
    """The visitor's conversations; start one (or post into the one still open)."""

    @extend_schema(
        parameters=KEY_PARAMETERS,
        responses={200: serializers.WidgetConversationOutput(many=True)},
        summary="My conversations",
    )
    def get(self, request: Request) -> Response:
        conversations = widget_services.visitor_conversations(contact=visitor(request))
        return Response(
            serializers.WidgetConversationOutput(
                [_conversation_payload(item) for item in conversations], many=True
            ).data
        )

    @extend_schema(
        parameters=KEY_PARAMETERS,
        request=serializers.WidgetConversationStartInput,
        responses={
            201: serializers.WidgetConversationOutput,
            200: OpenApiResponse(
                serializers.WidgetConversationOutput,
                description="The contact's unresolved conversation, which got the message.",
            ),
        },
        summary="Start a conversation",
    )
    def post(self, request: Request) -> Response:
        data = serializers.WidgetConversationStartInput(data=request.data)
        data.is_valid(raise_exception=True)
        contact = visitor(request)
        conversation, created = inbox.conversation_start(
            contact=contact, channel=widget_services.channel_for(contact), **data.validated_data
        )
        conversation = widget_services.visitor_conversation_get(
            contact=contact, conversation_id=conversation.pk
        )
        return Response(
            serializers.WidgetConversationOutput(_conversation_payload(conversation)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class WidgetConversationApi(WidgetApiView):
    """One of the visitor's conversations, with its place in line."""

    @extend_schema(
        parameters=KEY_PARAMETERS,
        responses={200: serializers.WidgetConversationOutput},
        summary="A conversation",
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        conversation = widget_services.visitor_conversation_get(
            contact=visitor(request), conversation_id=conversation_id
        )
        return Response(
            serializers.WidgetConversationOutput(_conversation_payload(conversation)).data
        )


class WidgetMessagesApi(WidgetApiView):
    """The conversation's messages (never an internal note); send one.

    Sending is throttled per contact (scope ``widget_message``): a flood gets 429
    ``widget.throttled`` and nothing is stored.
    """

    def get_throttles(self) -> list[BaseThrottle]:
        throttles = list(super().get_throttles())
        if self.request.method == "POST":
            throttles.append(WidgetMessageThrottle())
        return throttles

    @extend_schema(
        parameters=[
            *KEY_PARAMETERS,
            OpenApiParameter("after", OpenApiTypes.INT, description="Newer than this id."),
            OpenApiParameter("before", OpenApiTypes.INT, description="Older than this id."),
            OpenApiParameter("limit", OpenApiTypes.INT, description="1 to 100 (default 50)."),
        ],
        responses={200: serializers.WidgetMessagePageOutput},
        summary="Messages",
        description=(
            "Oldest first. With `after`: the next messages after that id (catching up after a "
            "reconnect); otherwise the newest `limit` (before `before`)."
        ),
    )
    def get(self, request: Request, conversation_id: int) -> Response:
        query = serializers.WidgetMessagesQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        conversation = widget_services.visitor_conversation_get(
            contact=visitor(request), conversation_id=conversation_id
        )
        messages, has_more = widget_services.visitor_messages(
            conversation=conversation,
            after_id=query.validated_data.get("after"),
            before_id=query.validated_data.get("before"),
            limit=query.validated_data["limit"],
        )
        base = self.base_url(request)
        return Response(
            serializers.WidgetMessagePageOutput(
                {
                    "results": [
                        _message_payload(item, conversation=conversation, base=base)
                        for item in messages
                    ],
                    "has_more": has_more,
                }
            ).data
        )

    @extend_schema(
        parameters=KEY_PARAMETERS,
        request=serializers.WidgetMessageSendInput,
        responses={201: serializers.WidgetMessageOutput},
        summary="Send a message",
        description="A retry with the same `client_id` answers with the first message.",
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        data = serializers.WidgetMessageSendInput(data=request.data)
        data.is_valid(raise_exception=True)
        contact = visitor(request)
        conversation = widget_services.visitor_conversation_get(
            contact=contact, conversation_id=conversation_id
        )
        message = inbox.contact_message_send(
            contact=contact, conversation=conversation, **data.validated_data
        )
        return Response(
            serializers.WidgetMessageOutput(
                _message_payload(message, conversation=conversation, base=self.base_url(request))
            ).data,
            status=status.HTTP_201_CREATED,
        )


class WidgetAttachmentUploadApi(WidgetApiView):
    """Upload a file to the visitor's open conversation, to be sent with a message."""

    parser_classes = (MultiPartParser,)

    @extend_schema(
        parameters=KEY_PARAMETERS,
        request={"multipart/form-data": serializers.WidgetAttachmentUploadInput},
        responses={201: serializers.WidgetAttachmentOutput},
        summary="Upload an attachment",
        description=(
            "The same size and type checks as chat uploads (`chat.attachment_too_large` 413, "
            "`chat.attachment_type_forbidden` 422). Send its id in `attachment_ids`."
        ),
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
        if declared > settings.CHAT_ATTACHMENT_MAX_BYTES + MULTIPART_OVERHEAD_BYTES:
            from chat.attachments import attachment_too_large

            raise attachment_too_large()
        data = serializers.WidgetAttachmentUploadInput(data=request.data)
        data.is_valid(raise_exception=True)
        contact = visitor(request)
        attachment = widget_services.visitor_attachment_upload(
            contact=contact, conversation_id=conversation_id, **data.validated_data
        )
        from chat.support import support_attachment_data

        return Response(
            serializers.WidgetAttachmentOutput(
                _attachment_payload(
                    dict(support_attachment_data(attachment, for_contact=True)),
                    contact_id=contact.pk,
                    base=self.base_url(request),
                )
            ).data,
            status=status.HTTP_201_CREATED,
        )


class WidgetAttachmentFileApi(WidgetApiView):
    """An attachment of the visitor's conversations: with the visitor's headers, or by a signed
    URL (``?sig=``, an hour) that ``<img src>`` can use without headers."""

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if request.method == "GET" and request.query_params.get("sig"):
            # A signed URL stands on its own: an <img> sends no key and no Origin.
            self.format_kwarg = self.get_format_suffix(**kwargs)
            request.accepted_renderer, request.accepted_media_type = (
                self.perform_content_negotiation(request)
            )
            self.check_throttles(request)
            return
        super().initial(request, *args, **kwargs)

    @extend_schema(
        parameters=[
            *KEY_PARAMETERS,
            OpenApiParameter("sig", OpenApiTypes.STR, description="A signed URL's signature."),
            OpenApiParameter("thumbnail", OpenApiTypes.INT, description="1: the thumbnail."),
        ],
        responses={
            (200, "application/octet-stream"): OpenApiResponse(
                OpenApiTypes.BINARY, description="The file, with the type detected at upload."
            ),
            404: OpenApiResponse(description="No such attachment, or not yours."),
        },
        summary="Download an attachment",
    )
    def get(self, request: Request, attachment_id: int) -> FileResponse:
        signature = request.query_params.get("sig")
        if signature:
            contact_id = widget_services.attachment_contact_from_signature(
                attachment_id=attachment_id, signature=signature
            )
            if contact_id is None:
                raise widget_services.WidgetNotFoundError()
        else:
            contact_id = visitor(request).pk
        attachment = widget_services.visitor_attachment_get(
            contact_id=contact_id, attachment_id=attachment_id
        )
        return _file_response(attachment, thumbnail=request.query_params.get("thumbnail") == "1")


def _file_response(attachment: Attachment, *, thumbnail: bool) -> FileResponse:
    stored = attachment.thumbnail if thumbnail else attachment.file
    if not stored:
        raise widget_services.WidgetNotFoundError()
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
    response["Cache-Control"] = "private, max-age=3600"
    response["Content-Security-Policy"] = FILE_CONTENT_SECURITY_POLICY
    # Shown inside the organization's own pages, which are another origin than ours.
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


class WidgetCsatApi(WidgetApiView):
    """Rate a resolved conversation, once (1 to 5 stars and a comment)."""

    @extend_schema(
        parameters=KEY_PARAMETERS,
        request=serializers.WidgetCsatInput,
        responses={201: serializers.WidgetCsatOutput},
        summary="Rate a conversation",
        description=(
            "409 `widget.not_resolved` before it is resolved, 409 `widget.already_rated` the "
            "second time."
        ),
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        data = serializers.WidgetCsatInput(data=request.data)
        data.is_valid(raise_exception=True)
        contact = visitor(request)
        conversation = widget_services.visitor_conversation_get(
            contact=contact, conversation_id=conversation_id
        )
        answer = inbox.csat_submit(
            contact=contact, conversation=conversation, **data.validated_data
        )
        return Response(
            serializers.WidgetCsatOutput({"rating": answer.rating, "comment": answer.comment}).data,
            status=status.HTTP_201_CREATED,
        )


class WidgetTranscriptApi(WidgetApiView):
    """Email the conversation's transcript (without internal notes) to the visitor."""

    @extend_schema(
        parameters=KEY_PARAMETERS,
        request=serializers.WidgetTranscriptInput,
        responses={202: serializers.WidgetTranscriptOutput},
        summary="Email me the transcript",
        description="To `email`, or to the contact's email when none is sent.",
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        data = serializers.WidgetTranscriptInput(data=request.data)
        data.is_valid(raise_exception=True)
        contact = visitor(request)
        conversation = widget_services.visitor_conversation_get(
            contact=contact, conversation_id=conversation_id
        )
        email = data.validated_data["email"] or None
        inbox.transcript_send(contact=contact, conversation=conversation, email=email)
        return Response(
            serializers.WidgetTranscriptOutput({"email": email or contact.email}).data,
            status=status.HTTP_202_ACCEPTED,
        )


class WidgetOfflineApi(WidgetApiView):
    """Leave a message when nobody answers: it becomes a conversation and is emailed to the
    organization."""

    authentication_classes = (LenientVisitorAuthentication,)
    permission_classes = (AllowAny,)

    @extend_schema(
        parameters=KEY_PARAMETERS,
        request=serializers.WidgetOfflineInput,
        responses={201: serializers.WidgetOfflineOutput},
        summary="Leave an offline message",
        description="With a valid visitor token the same contact is used; otherwise a new one.",
    )
    def post(self, request: Request) -> Response:
        data = serializers.WidgetOfflineInput(data=request.data)
        data.is_valid(raise_exception=True)
        contact, conversation = widget_services.visitor_offline_message(
            widget=_request_widget(request),  # type: ignore[arg-type]
            contact=optional_visitor(request),
            **data.validated_data,
        )
        conversation = widget_services.visitor_conversation_get(
            contact=contact, conversation_id=conversation.pk
        )
        return Response(
            serializers.WidgetOfflineOutput(
                {
                    "token": widget_services.visitor_token_make(contact),
                    "contact": widget_services.contact_data(contact),
                    "conversation": _conversation_payload(conversation),
                }
            ).data,
            status=status.HTTP_201_CREATED,
        )
