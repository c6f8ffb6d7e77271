"""End-to-end encrypted in-call messages: stored and relayed, never read.

The two browsers agree on an AES-GCM key over the signaling channel (``call.signal`` of kind
``key``, which is never stored) and send the server only ciphertext and its 96-bit nonce, both
base64. The server checks their shape and who may post, stores them exactly as given and tells
both participants; it has no key, so it cannot read, search or moderate them.

Events: ``calls.message.created`` (CallMessagePayload) to both participants' user groups.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from typing import Any, TypedDict

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from calls.models import SIGNALING_STATUSES, Call, CallMessage, CallStatus
from core.exceptions import ApplicationError, ConflictError, NotFoundError
from realtime.publish import publish_on_commit
from realtime.registry import user_group

EVENT_MESSAGE_CREATED = "calls.message.created"
# Messages are posted while the two people can talk: from the professional's answer on.
MESSAGE_STATUSES = (CallStatus.ACCEPTED, CallStatus.ACTIVE)
MAX_CIPHERTEXT_CHARS = 16000
IV_BYTES = 12
MAX_CLIENT_ID_CHARS = 64
# A page of messages; a call is short, so a client reads the rest with ``after``.
LIST_LIMIT = 200
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class CallMessagePayload(TypedDict):
    id: int
    call_id: int
    sender_id: int
    ciphertext: str
    iv: str
    client_id: str
    created_at: datetime.datetime


class InvalidCallMessageError(ApplicationError):
    status_code = 422
    code = "calls.invalid_message"
    default_message = _("The message is not valid encrypted content.")


class CallNotLiveError(ConflictError):
    code = "calls.call_not_live"
    default_message = _("This call is not in progress.")


class ClientIdReusedError(ConflictError):
    code = "calls.client_id_reused"
    default_message = _("This message id was already used for another message.")


def message_payload(message: CallMessage) -> CallMessagePayload:
    return {
        "id": message.pk,
        "call_id": message.call_id,
        "sender_id": message.sender_id,
        "ciphertext": message.ciphertext,
        "iv": message.iv,
        "client_id": message.client_id,
        "created_at": message.created_at,
    }


def message_created(*, call: Call, message: CallMessage) -> None:
    """``calls.message.created`` to both participants (their other tabs included)."""
    data = dict(message_payload(message))
    publish_on_commit(user_group(call.client_id), EVENT_MESSAGE_CREATED, data)
    publish_on_commit(user_group(call.professional_id), EVENT_MESSAGE_CREATED, data)


def call_of_participant(*, call_id: int, user: Any) -> Call:
    """The call if ``user`` is its client or professional; NotFoundError otherwise."""
    call = (
        Call.objects.filter(pk=call_id)
        .filter(Q(client_id=user.pk) | Q(professional_id=user.pk))
        .first()
    )
    if call is None:
        raise NotFoundError()
    return call


def call_for_media(*, call_id: int, user: Any) -> Call:
    """The call if ``user`` takes part in it and it still carries media (ringing to active).

    NotFoundError for anyone else; CallNotLiveError (409, ``extra.status``) once it is over.
    """
    call = call_of_participant(call_id=call_id, user=user)
    if call.status not in SIGNALING_STATUSES:
        raise CallNotLiveError(extra={"status": call.status})
    return call


def _decoded_length(value: Any, *, field: str) -> int:
    """The byte length of strict standard base64 ``value``; InvalidCallMessageError if not."""
    if not isinstance(value, str) or not value:
        raise InvalidCallMessageError(extra={"field": field})
    try:
        return len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        raise InvalidCallMessageError(extra={"field": field}) from None


def _validate(*, ciphertext: Any, iv: Any, client_id: Any) -> None:
    if not isinstance(ciphertext, str) or len(ciphertext) > MAX_CIPHERTEXT_CHARS:
        raise InvalidCallMessageError(extra={"field": "ciphertext"})
    # AES-GCM output is at least its 16-byte tag.
    if _decoded_length(ciphertext, field="ciphertext") < 16:
        raise InvalidCallMessageError(extra={"field": "ciphertext"})
    if _decoded_length(iv, field="iv") != IV_BYTES:
        raise InvalidCallMessageError(extra={"field": "iv"})
    if not isinstance(client_id, str) or not _CLIENT_ID.match(client_id):
        raise InvalidCallMessageError(extra={"field": "client_id"})


def _same_message(message: CallMessage, *, call_id: int, ciphertext: str, iv: str) -> bool:
    return message.call_id == call_id and message.ciphertext == ciphertext and message.iv == iv


@transaction.atomic
def call_message_send(
    *, call_id: int, user: Any, ciphertext: str, iv: str, client_id: str
) -> tuple[CallMessage, bool]:
    """Store an encrypted message from ``user`` in a call and return ``(message, created)``.

    Only a participant may post (NotFoundError otherwise, the same as a call that does not
    exist), and only while the call is accepted or active (CallNotLiveError, 409). A retry with
    the same ``client_id`` returns the stored message with ``created`` False, even after the
    call ended (the first attempt was accepted); the same ``client_id`` with other content is
    ClientIdReusedError (409). Malformed base64, an iv that is not 12 bytes or ciphertext over
    16,000 characters is InvalidCallMessageError (422).

    Takes no lock: a message racing the hang-up is stored or refused, and either is fine (it
    was sent while the call was up). Emits ``calls.message.created`` after commit.
    """
    call = call_of_participant(call_id=call_id, user=user)
    _validate(ciphertext=ciphertext, iv=iv, client_id=client_id)
    existing = CallMessage.objects.filter(sender_id=user.pk, client_id=client_id).first()
    if existing is not None:
        if not _same_message(existing, call_id=call.pk, ciphertext=ciphertext, iv=iv):
            raise ClientIdReusedError()
        return existing, False
    if call.status not in MESSAGE_STATUSES:
        raise CallNotLiveError(extra={"status": call.status})
    try:
        with transaction.atomic():
            message = CallMessage.objects.create(
                call=call,
                sender_id=user.pk,
                ciphertext=ciphertext,
                iv=iv,
                client_id=client_id,
                created_at=timezone.now(),
            )
    except IntegrityError:
        # The same client_id sent twice at once: the other request stored it.
        existing = CallMessage.objects.get(sender_id=user.pk, client_id=client_id)
        if not _same_message(existing, call_id=call.pk, ciphertext=ciphertext, iv=iv):
            raise ClientIdReusedError() from None
        return existing, False
    message_created(call=call, message=message)
    return message, True


def call_messages_list(
    *, call_id: int, user: Any, after: int | None = None
) -> QuerySet[CallMessage]:
    """A participant's view of a call's messages, oldest first, after the id ``after``.

    Any status: the history of an ended call stays readable by its two participants (as
    ciphertext; only their browsers, if they kept the key, can read it). NotFoundError for
    anyone else.
    """
    call = call_of_participant(call_id=call_id, user=user)
    messages = CallMessage.objects.filter(call=call).order_by("id")
    if after is not None:
        messages = messages.filter(id__gt=after)
    return messages[:LIST_LIMIT]
