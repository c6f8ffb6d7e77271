"""BotConversa sync: an organization's connection, the inbound endpoint its flows call, and the
calls we make to its API (dispatches).

Inbound (``inbound_handle``): BotConversa has no event subscription, so its flows call
``/webhooks/botconversa/<organization_id>/<token>/`` with HTTP-request steps. The token is the
connection's secret (compared in constant time); each event is recorded once in
``core.InboundWebhook`` (provider ``botconversa:<org>``, the event id or the message id) in the
same transaction as its effects, so a replay changes nothing. The JSON a flow sends::

    {"type": "message", "event_id": "...optional...",
     "subscriber": {"id": "123", "phone": "+5511999998888", "name": "Ana Souza"},
     "message": {"id": "wamid-1", "text": "Olá!"}}
    {"type": "status", "subscriber": {...}, "status": "resolved" | "closed" | "open"}
    {"type": "tag", "subscriber": {...}, "tag": "qualificado"}

(``contact`` is read as ``subscriber``, and ``message.content`` as ``message.text``: the shape
one third-party page shows for BotConversa's own webhooks.) A message opens or updates the
contact's WhatsApp conversation in the connection's queue and links the CRM contact and the
subscriber; a status resolves or reopens it; a tag applies the TAG_MOVES_TO_STAGE rules.

Outbound: staff replies in WhatsApp conversations and deals entering a stage with rules become
``BotConversaDispatch`` rows (unique key per message, or per rule, deal and version), sent by the
``crm.botconversa_dispatch`` task after commit: never inside a transaction, at least once,
retried with a growing delay up to ``BOTCONVERSA_MAX_ATTEMPTS``; failures stay for the org
admins, who are notified and may retry them.
"""

from __future__ import annotations

import datetime
import hmac
import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from rest_framework import status as http

from accounts.models import User
from accounts.roles import Role
from chat.models import NotificationKind
from core.crypto import DecryptionError, decrypt, encrypt
from core.exceptions import ApplicationError, ConflictError, PermissionDeniedError
from core.models import InboundWebhook
from core.providers import load_provider
from crm import access
from crm.models import (
    ActivityKind,
    BotConversaConnection,
    BotConversaDispatch,
    BotConversaRule,
    BotConversaRuleKind,
    BotConversaSubscriber,
    Contact,
    Deal,
    DealStatus,
    DispatchStatus,
    Lead,
    LeadStatus,
    Stage,
    SupportContactLink,
)
from crm.providers.botconversa import (
    BotConversaAuthError,
    BotConversaCredentials,
    BotConversaError,
    BotConversaPermanentError,
    BotConversaRetryableError,
)

logger = logging.getLogger(__name__)

PROVIDER = "crm.botconversa"
SOURCE = "BotConversa"
# A pending dispatch untouched this long was lost (a worker died, an eager run gave up).
STUCK_AFTER = datetime.timedelta(minutes=2)
STUCK_BATCH = 200
DISPATCH_LIST_LIMIT = 200
MAX_TAG_LENGTH = 100
MAX_FLOW_ID_LENGTH = 40
MAX_EVENT_ID_LENGTH = 200
MAX_EXTERNAL_ID_LENGTH = 60

ACTION_SEND_MESSAGE = "send_message"
ACTION_ADD_TAG = "add_tag"
ACTION_SEND_FLOW = "send_flow"

INBOUND_STATUSES = {
    "open": "open",
    "opened": "open",
    "reopen": "open",
    "reopened": "open",
    "resolved": "resolved",
    "closed": "resolved",
}


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Any = _Unchanged()


class RetryableError(Exception):
    """A call that may succeed later (a timeout, a 5xx, a 429): the task retries it."""


# --- Errors ----------------------------------------------------------------------------------


def _forbidden() -> PermissionDeniedError:
    return PermissionDeniedError(
        _("This BotConversa address is not valid."), code="crm.botconversa_forbidden"
    )


def _invalid_payload(field: str) -> ApplicationError:
    return ApplicationError(
        _("BotConversa sent a value we cannot read: %(field)s.") % {"field": field},
        code="crm.botconversa_invalid_payload",
        extra={"field": field},
        status_code=http.HTTP_422_UNPROCESSABLE_ENTITY,
    )


def _invalid(code: str, message: str, field: str) -> ApplicationError:
    return ApplicationError(
        message, code=code, extra={"field": field}, status_code=http.HTTP_422_UNPROCESSABLE_ENTITY
    )


# --- The connection --------------------------------------------------------------------------


def _provider() -> Any:
    return load_provider(PROVIDER)


def _api_key(connection: BotConversaConnection) -> str:
    try:
        return decrypt(connection.api_key_encrypted)
    except DecryptionError:
        # Encrypted with a key no longer configured: as good as none; the admin saves it again.
        return ""


def _credentials(connection: BotConversaConnection) -> BotConversaCredentials:
    return BotConversaCredentials(api_url=connection.api_url, api_key=_api_key(connection))


def inbound_path(connection: BotConversaConnection) -> str:
    return f"/webhooks/botconversa/{connection.organization_id}/{connection.inbound_token}/"


def connection_data(connection: BotConversaConnection, *, base_url: str = "") -> dict[str, Any]:
    """The settings as admins see them: the key only as ``api_key_set`` and its last 4."""
    key = _api_key(connection)
    public = (settings.CRM_PUBLIC_URL or base_url).rstrip("/")
    return {
        "api_key_set": bool(connection.api_key_encrypted),
        "api_key_last4": key[-4:] if len(key) >= 8 else "",
        "api_url": connection.api_url,
        "enabled": connection.enabled,
        "queue_id": connection.queue_id,
        "inbound_url": public + inbound_path(connection),
        "last_checked_at": connection.last_checked_at,
        "last_check_ok": connection.last_check_ok,
        "last_error": connection.last_error,
    }


def _connection(organization_id: int, *, lock: bool = False) -> BotConversaConnection:
    connection, _created = BotConversaConnection.objects.get_or_create(
        organization_id=organization_id
    )
    if lock:
        return BotConversaConnection.objects.select_for_update().get(pk=connection.pk)
    return connection


def connection_get(*, actor: Any, organization_id: int, base_url: str = "") -> dict[str, Any]:
    """The organization's BotConversa settings (made on the first look, without a key).

    Raises ``crm.not_found`` (404, outsiders), ``crm.permission_denied`` (403, non-admins).
    """
    access.require_manage(actor, organization_id)
    return connection_data(_connection(organization_id), base_url=base_url)


@transaction.atomic
def connection_save(
    *,
    actor: Any,
    organization_id: int,
    api_key: str | None = None,
    api_url: str | None = None,
    enabled: bool | None = None,
    queue_id: Any = UNCHANGED,
    base_url: str = "",
) -> dict[str, Any]:
    """Change the settings; None (or UNCHANGED for ``queue_id``) keeps a value.

    ``api_key`` is stored encrypted (``core.crypto``); "" removes it. A new key or address
    forgets the last connection test. ``queue_id`` None means the organization's first queue.
    Locks the connection row.

    Raises ``crm.not_found``/``crm.permission_denied``, ``crm.botconversa_invalid_url`` (422),
    ``crm.invalid_reference`` (422, extra {"field": "queue_id"}).
    """
    from queueing.models import SupportQueue

    access.require_manage(actor, organization_id)
    connection = _connection(organization_id, lock=True)
    fields = ["updated_at"]
    forget_check = False
    if api_key is not None:
        connection.api_key_encrypted = encrypt(api_key.strip())
        fields.append("api_key_encrypted")
        forget_check = True
    if api_url is not None:
        url = api_url.strip()
        if not url.startswith(("https://", "http://")) or len(url) > 200:
            raise _invalid(
                "crm.botconversa_invalid_url",
                _("Enter the address of BotConversa's API (https://...)."),
                "api_url",
            )
        connection.api_url = url if url.endswith("/") else url + "/"
        fields.append("api_url")
        forget_check = True
    if enabled is not None:
        connection.enabled = bool(enabled)
        fields.append("enabled")
    if queue_id is not UNCHANGED:
        if queue_id is not None and not (
            SupportQueue.objects.filter(pk=queue_id, organization_id=organization_id).exists()
        ):
            raise _invalid(
                "crm.invalid_reference", _("Choose one of the organization's queues."), "queue_id"
            )
        connection.queue_id = queue_id
        fields.append("queue")
    if forget_check:
        connection.last_checked_at = None
        connection.last_check_ok = None
        connection.last_error = ""
        fields += ["last_checked_at", "last_check_ok", "last_error"]
    connection.save(update_fields=fields)
    return connection_data(connection, base_url=base_url)


def _check_message(error: BotConversaError) -> str:
    if isinstance(error, BotConversaAuthError):
        return _("BotConversa refused the API key.")
    if isinstance(error, BotConversaRetryableError):
        return _("BotConversa could not be reached. Try again in a moment.")
    return _("BotConversa refused the request. Check the API address.")


def connection_test(*, actor: Any, organization_id: int) -> dict[str, Any]:
    """List the account's tags and flows with the saved key; record the outcome on the
    connection (``last_checked_at``, ``last_check_ok``, ``last_error``). The calls are made
    outside any transaction. Returns ``{"ok", "message", "tags", "flows"}``.

    Raises ``crm.not_found``/``crm.permission_denied``.
    """
    access.require_manage(actor, organization_id)
    connection = _connection(organization_id)
    tags: list[dict[str, str]] = []
    flows: list[dict[str, str]] = []
    credentials = _credentials(connection)
    if not credentials.api_key:
        ok, message = False, _("Save an API key first.")
    else:
        provider = _provider()
        try:
            tags = provider.list_tags(credentials)
            flows = provider.list_flows(credentials)
        except BotConversaError as exc:
            ok, message = False, _check_message(exc)
            tags, flows = [], []
        else:
            ok, message = True, _("Connected to BotConversa.")
    BotConversaConnection.objects.filter(pk=connection.pk).update(
        last_checked_at=timezone.now(),
        last_check_ok=ok,
        last_error="" if ok else message[:500],
        updated_at=timezone.now(),
    )
    return {"ok": ok, "message": message, "tags": tags, "flows": flows}


@transaction.atomic
def token_rotate(*, actor: Any, organization_id: int, base_url: str = "") -> dict[str, Any]:
    """A new inbound secret: the old address stops working at once (flows must be updated).

    Raises ``crm.not_found``/``crm.permission_denied``.
    """
    from crm.models import new_inbound_token

    access.require_manage(actor, organization_id)
    connection = _connection(organization_id, lock=True)
    connection.inbound_token = new_inbound_token()
    connection.save(update_fields=["inbound_token", "updated_at"])
    return connection_data(connection, base_url=base_url)


# --- Rules -----------------------------------------------------------------------------------


def rule_data(rule: BotConversaRule) -> dict[str, Any]:
    stage = rule.stage
    return {
        "id": rule.pk,
        "kind": rule.kind,
        "stage": {"id": stage.pk, "name": stage.name, "pipeline_id": stage.pipeline_id},
        "tag_name": rule.tag_name,
        "flow_id": rule.flow_id,
        "created_at": rule.created_at,
    }


def rules_list(*, actor: Any, organization_id: int) -> list[dict[str, Any]]:
    access.require_manage(actor, organization_id)
    rules = BotConversaRule.objects.filter(organization_id=organization_id).select_related("stage")
    return [rule_data(rule) for rule in rules.order_by("pk")]


@transaction.atomic
def rule_create(
    *,
    actor: Any,
    organization_id: int,
    kind: str,
    stage_id: int,
    tag_name: str = "",
    flow_id: str = "",
) -> BotConversaRule:
    """A rule: a stage adds a tag or starts a flow, or a tag moves deals to a stage.

    Raises ``crm.not_found``/``crm.permission_denied``, 422 ``crm.botconversa_invalid_rule``
    (extra {"field"}: kind, tag_name, flow_id) and ``crm.invalid_reference`` (stage_id: not a
    stage of the organization).
    """
    access.require_manage(actor, organization_id)
    if kind not in BotConversaRuleKind.values:
        raise _invalid("crm.botconversa_invalid_rule", _("Choose what the rule does."), "kind")
    stage = (
        Stage.objects.filter(pk=stage_id, pipeline__organization_id=organization_id)
        .select_related("pipeline")
        .first()
    )
    if stage is None:
        raise _invalid(
            "crm.invalid_reference", _("Choose a stage of this organization."), "stage_id"
        )
    tag_name = (tag_name or "").strip()
    flow_id = str(flow_id or "").strip()
    if kind == BotConversaRuleKind.STAGE_STARTS_FLOW:
        if not flow_id or len(flow_id) > MAX_FLOW_ID_LENGTH:
            raise _invalid("crm.botconversa_invalid_rule", _("Choose a flow."), "flow_id")
        tag_name = ""
    else:
        if not tag_name or len(tag_name) > MAX_TAG_LENGTH:
            raise _invalid("crm.botconversa_invalid_rule", _("Enter a tag name."), "tag_name")
        flow_id = ""
    return BotConversaRule.objects.create(
        organization_id=organization_id,
        kind=kind,
        stage=stage,
        tag_name=tag_name,
        flow_id=flow_id,
    )


@transaction.atomic
def rule_delete(*, actor: Any, organization_id: int, rule_id: int) -> None:
    """Delete a rule. Raises ``crm.not_found`` (also for another organization's rule) and
    ``crm.permission_denied``."""
    access.require_manage(actor, organization_id)
    deleted, _rows = BotConversaRule.objects.filter(
        pk=rule_id, organization_id=organization_id
    ).delete()
    if not deleted:
        raise access.not_found()


# --- Inbound ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class InboundEvent:
    type: str
    event_id: str
    phone: str
    name: str
    subscriber_id: str
    message_id: str = ""
    text: str = ""
    status: str = ""
    tag: str = ""


def _identifier(value: Any, field: str, *, required: bool, max_length: int) -> str:
    if value is None or value == "":
        if required:
            raise _invalid_payload(field)
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _invalid_payload(field)
    text = str(value).strip()
    if (required and not text) or len(text) > max_length:
        raise _invalid_payload(field)
    return text


def _text(value: Any, field: str, *, max_length: int) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > max_length:
        raise _invalid_payload(field)
    return value.strip()


def inbound_parse(payload: Any) -> InboundEvent:
    """The event in a flow's JSON; 422 ``crm.botconversa_invalid_payload`` extra {"field"}."""
    from crm.phones import InvalidPhoneError, normalize_phone

    if not isinstance(payload, dict):
        raise _invalid_payload("body")
    kind = payload.get("type")
    if kind not in ("message", "status", "tag"):
        raise _invalid_payload("type")
    subscriber = payload.get("subscriber", payload.get("contact"))
    if not isinstance(subscriber, dict):
        raise _invalid_payload("subscriber")
    raw_phone = subscriber.get("phone")
    if not isinstance(raw_phone, str | int) or isinstance(raw_phone, bool):
        raise _invalid_payload("subscriber.phone")
    try:
        phone = normalize_phone(str(raw_phone))
    except InvalidPhoneError:
        raise _invalid_payload("subscriber.phone") from None
    if not phone:
        raise _invalid_payload("subscriber.phone")
    name = subscriber.get("name")
    if name is None:
        parts = [subscriber.get("first_name"), subscriber.get("last_name")]
        name = " ".join(part for part in parts if isinstance(part, str) and part.strip())
    if not isinstance(name, str):
        raise _invalid_payload("subscriber.name")
    subscriber_id = _identifier(
        subscriber.get("id"), "subscriber.id", required=False, max_length=40
    )
    event_id = _identifier(
        payload.get("event_id"), "event_id", required=False, max_length=MAX_EVENT_ID_LENGTH
    )
    common = {
        "type": kind,
        "phone": phone,
        "name": name.strip()[:150],
        "subscriber_id": subscriber_id,
    }
    if kind == "message":
        message = payload.get("message")
        if not isinstance(message, dict):
            raise _invalid_payload("message")
        message_id = _identifier(
            message.get("id"), "message.id", required=True, max_length=MAX_EXTERNAL_ID_LENGTH
        )
        text = message.get("text", message.get("content"))
        return InboundEvent(
            **common,
            event_id=event_id or f"message:{message_id}",
            message_id=message_id,
            text=_text(text, "message.text", max_length=settings.CHAT_MESSAGE_MAX_LENGTH),
        )
    if kind == "status":
        raw_status = payload.get("status")
        if not isinstance(raw_status, str) or raw_status.strip().lower() not in INBOUND_STATUSES:
            raise _invalid_payload("status")
        return InboundEvent(
            **common, event_id=event_id, status=INBOUND_STATUSES[raw_status.strip().lower()]
        )
    tag = payload.get("tag")
    if isinstance(tag, dict):
        tag = tag.get("name")
    return InboundEvent(**common, event_id=event_id, tag=_text(tag, "tag", max_length=100))


def _authorized(organization_id: int, token: str) -> BotConversaConnection:
    connection = BotConversaConnection.objects.filter(organization_id=organization_id).first()
    # Compare even without a connection, so the time taken does not tell which part was wrong.
    expected = connection.inbound_token if connection is not None else "-" * 43
    same = hmac.compare_digest(token.encode(), expected.encode())
    if connection is None or not same or not connection.enabled:
        raise _forbidden()
    return connection


def inbound_handle(*, organization_id: int, token: str, payload: Any) -> dict[str, Any]:
    """Apply one call of a BotConversa flow; ``{"ok": True, "conversation_id": id | None}``.

    Checks the token (constant time) and the payload before writing anything, then in one
    transaction records the event (``InboundWebhook``; a replay returns the first answer and
    changes nothing) and applies it: a message through ``queueing.external`` (contact, CRM
    contact link, subscriber), a status through ``external.external_status_set``, a tag through
    the TAG_MOVES_TO_STAGE rules (``deals.deal_move``, ``contacts.lead_convert`` or
    ``deals.deal_create``).

    Raises 403 ``crm.botconversa_forbidden`` (unknown organization, wrong token, disabled),
    422 ``crm.botconversa_invalid_payload`` (extra {"field"}), 409 ``crm.botconversa_no_queue``.
    """
    connection = _authorized(organization_id, token)
    event = inbound_parse(payload)
    with transaction.atomic():
        record = None
        if event.event_id:
            try:
                with transaction.atomic():
                    record = InboundWebhook.objects.create(
                        provider=f"botconversa:{organization_id}",
                        event_id=event.event_id,
                        payload={"event": payload},
                    )
            except IntegrityError:
                first = InboundWebhook.objects.get(
                    provider=f"botconversa:{organization_id}", event_id=event.event_id
                )
                return {"ok": True, "conversation_id": first.payload.get("conversation_id")}
        conversation_id: int | None
        if event.type == "message":
            conversation_id = _inbound_message(connection, event)
        elif event.type == "status":
            conversation_id = _inbound_status(connection, event)
        else:
            conversation_id = _inbound_tag(connection, event)
        if record is not None:
            record.payload = {**record.payload, "conversation_id": conversation_id}
            record.save(update_fields=["payload"])
    return {"ok": True, "conversation_id": conversation_id}


def _queue_id(connection: BotConversaConnection) -> int:
    from queueing.models import SupportQueue

    if connection.queue_id is not None:
        return connection.queue_id
    queue_id = (
        SupportQueue.objects.filter(
            organization_id=connection.organization_id, department__is_active=True
        )
        .order_by("-priority", "pk")
        .values_list("pk", flat=True)
        .first()
    )
    if queue_id is None:
        raise ConflictError(
            _("Create a support queue for WhatsApp conversations first."),
            code="crm.botconversa_no_queue",
        )
    return queue_id


def crm_contact_for(support_contact: Any) -> Contact:
    """The CRM contact of a support contact, linked (and created) when needed.

    Uses ``crm.support_link.contact_for_support_contact`` when the contacts work provides it;
    otherwise links by an existing link, else a CRM contact with the same phone, else a new one.
    """
    from crm import support_link
    from queueing.models import ConversationChannel

    linker = getattr(support_link, "contact_for_support_contact", None)
    if linker is not None:
        found = linker(support_contact, create=True, channel=ConversationChannel.WHATSAPP)
        if found is not None:
            return found  # type: ignore[no-any-return]
    link = (
        SupportContactLink.objects.filter(support_contact=support_contact)
        .select_related("contact")
        .first()
    )
    if link is not None:
        return link.contact
    contact = None
    if support_contact.phone:
        contact = (
            Contact.objects.filter(
                organization_id=support_contact.organization_id,
                phone=support_contact.phone,
                merged_into__isnull=True,
            )
            .order_by("pk")
            .first()
        )
    if contact is None:
        contact = Contact.objects.create(
            organization_id=support_contact.organization_id,
            name=support_contact.name or support_contact.phone,
            phone=support_contact.phone,
            source=SOURCE,
        )
    link, _created = SupportContactLink.objects.get_or_create(
        support_contact=support_contact, defaults={"contact": contact}
    )
    return link.contact


def _subscriber_record(
    *, organization_id: int, contact: Contact, subscriber_id: str, phone: str
) -> None:
    if not subscriber_id:
        return
    existing = BotConversaSubscriber.objects.filter(
        organization_id=organization_id, subscriber_id=subscriber_id
    ).first()
    if existing is None:
        try:
            with transaction.atomic():
                BotConversaSubscriber.objects.create(
                    organization_id=organization_id,
                    contact=contact,
                    subscriber_id=subscriber_id,
                    phone=phone,
                )
        except IntegrityError:
            pass  # recorded at the same moment by another call: same subscriber, same contact
        return
    if existing.contact_id != contact.pk or existing.phone != phone:
        existing.contact = contact
        existing.phone = phone
        existing.save(update_fields=["contact", "phone", "updated_at"])


def _inbound_message(connection: BotConversaConnection, event: InboundEvent) -> int:
    from queueing import external
    from queueing.models import ConversationChannel

    conversation, _message, _created = external.external_message_receive(
        organization_id=connection.organization_id,
        queue_id=_queue_id(connection),
        channel=ConversationChannel.WHATSAPP,
        phone=event.phone,
        name=event.name,
        text=event.text,
        external_id=event.message_id,
    )
    contact = crm_contact_for(conversation.contact)
    _subscriber_record(
        organization_id=connection.organization_id,
        contact=contact,
        subscriber_id=event.subscriber_id,
        phone=event.phone,
    )
    return conversation.pk


def _inbound_status(connection: BotConversaConnection, event: InboundEvent) -> int | None:
    from queueing import external
    from queueing.models import ConversationChannel

    conversation = external.latest_conversation(
        organization_id=connection.organization_id,
        phone=event.phone,
        channel=ConversationChannel.WHATSAPP,
    )
    if conversation is None:
        return None
    return external.external_status_set(conversation_id=conversation.pk, status=event.status).pk


def _contact_by_subscriber(organization_id: int, event: InboundEvent) -> Contact | None:
    if event.subscriber_id:
        known = (
            BotConversaSubscriber.objects.filter(
                organization_id=organization_id, subscriber_id=event.subscriber_id
            )
            .select_related("contact")
            .first()
        )
        if known is not None:
            return known.contact
    return (
        Contact.objects.filter(
            organization_id=organization_id, phone=event.phone, merged_into__isnull=True
        )
        .order_by("pk")
        .first()
    )


def _inbound_tag(connection: BotConversaConnection, event: InboundEvent) -> int | None:
    from crm.contacts import lead_convert
    from crm.deals import deal_create, deal_move
    from crm.timeline import activity_record
    from queueing import external
    from queueing.models import ConversationChannel

    organization_id = connection.organization_id
    rules = (
        BotConversaRule.objects.filter(
            organization_id=organization_id,
            kind=BotConversaRuleKind.TAG_MOVES_TO_STAGE,
            tag_name__iexact=event.tag,
            stage__pipeline__archived_at__isnull=True,
        )
        .select_related("stage")
        .order_by("pk")
    )
    for rule in rules:
        stage = rule.stage
        contact = _contact_by_subscriber(organization_id, event)
        deal = None
        if contact is not None:
            deal = (
                Deal.objects.filter(
                    organization_id=organization_id,
                    pipeline_id=stage.pipeline_id,
                    contact=contact,
                    status=DealStatus.OPEN,
                )
                .order_by("-updated_at", "-pk")
                .first()
            )
        if deal is not None:
            if deal.stage_id != stage.pk:
                deal = deal_move(
                    actor=None,
                    deal_id=deal.pk,
                    organization_id=organization_id,
                    stage_id=stage.pk,
                )
        else:
            lead = (
                Lead.objects.filter(organization_id=organization_id, phone=event.phone)
                .exclude(status__in=(LeadStatus.CONVERTED, LeadStatus.DISQUALIFIED))
                .order_by("pk")
                .first()
            )
            if lead is not None:
                contact, deal = lead_convert(
                    actor=None,
                    lead=lead,
                    pipeline_id=stage.pipeline_id,
                    stage_id=stage.pk,
                    contact_id=contact.pk if contact is not None else None,
                )
            else:
                if contact is None:
                    contact = Contact.objects.create(
                        organization_id=organization_id,
                        name=event.name or event.phone,
                        phone=event.phone,
                        source=SOURCE,
                    )
                deal = deal_create(
                    actor=None,
                    organization_id=organization_id,
                    pipeline_id=stage.pipeline_id,
                    stage_id=stage.pk,
                    title=contact.name,
                    contact_id=contact.pk,
                )
        if contact is not None:
            _subscriber_record(
                organization_id=organization_id,
                contact=contact,
                subscriber_id=event.subscriber_id,
                phone=event.phone,
            )
        activity_record(
            organization_id=organization_id,
            kind=ActivityKind.BOTCONVERSA,
            actor_id=None,
            deal_id=deal.pk,
            contact_id=deal.contact_id,
            data={"tag": event.tag, "rule_id": rule.pk, "stage_id": stage.pk},
        )
    conversation = external.latest_conversation(
        organization_id=organization_id, phone=event.phone, channel=ConversationChannel.WHATSAPP
    )
    return conversation.pk if conversation is not None else None


# --- Outbound: what becomes a dispatch -------------------------------------------------------


def _active_connection(organization_id: int) -> BotConversaConnection | None:
    return (
        BotConversaConnection.objects.filter(organization_id=organization_id, enabled=True)
        .exclude(api_key_encrypted="")
        .first()
    )


def _dispatch_create(
    *, organization_id: int, action: str, key: str, payload: dict[str, Any]
) -> BotConversaDispatch:
    """The dispatch with this key (made once; a repeat finds the first), sent after commit."""
    from crm import tasks

    with transaction.atomic():
        try:
            with transaction.atomic():
                dispatch, created = BotConversaDispatch.objects.get_or_create(
                    organization_id=organization_id,
                    key=key[:120],
                    defaults={"action": action, "payload": payload},
                )
        except IntegrityError:
            dispatch = BotConversaDispatch.objects.get(organization_id=organization_id, key=key)
            created = False
        if created:
            tasks.botconversa_dispatch.delay_on_commit(dispatch.pk)
    return dispatch


def _linked_contact_id(support_contact_id: int) -> int | None:
    return (
        SupportContactLink.objects.filter(support_contact_id=support_contact_id)
        .values_list("contact_id", flat=True)
        .first()
    )


def on_staff_message_sent(*, conversation_id: int, message_id: int, channel: str) -> None:
    """A staff reply in a WhatsApp conversation of an organization with an enabled connection
    becomes a ``send_message`` dispatch keyed ``message:<id>`` (so a second signal sends
    nothing more). Conversations on other channels, or contacts without a phone, are left
    alone."""
    from chat import markup
    from chat.models import Message
    from queueing.models import Conversation, ConversationChannel

    if channel != ConversationChannel.WHATSAPP:
        return
    conversation = Conversation.objects.select_related("contact").filter(pk=conversation_id).first()
    if conversation is None or not conversation.contact.phone:
        return
    if _active_connection(conversation.organization_id) is None:
        return
    message = Message.objects.filter(pk=message_id, room_id=conversation.room_id).first()
    if message is None:
        return
    text = markup.plain_text(message.body, names={}).strip()
    if not text:
        return
    _dispatch_create(
        organization_id=conversation.organization_id,
        action=ACTION_SEND_MESSAGE,
        key=f"message:{message_id}",
        payload={
            "phone": conversation.contact.phone,
            "name": conversation.contact.name,
            "contact_id": _linked_contact_id(conversation.contact_id),
            "conversation_id": conversation.pk,
            "message_id": message_id,
            "text": text,
        },
    )


def on_conversation_status_changed(*, conversation_id: int, status: str, channel: str) -> None:
    """Nothing is sent: BotConversa's documented API has no call to open or close an
    attendance that we could verify (a ``change_conversation_status`` path appears in one
    generated client, without its body). Status changes flow from BotConversa to us
    (``inbound_handle``); flows that need ours can read the conversation's state in our API."""


def on_deal_stage_changed(
    *,
    deal_id: int,
    organization_id: int,
    from_stage_id: int | None,
    to_stage_id: int,
    version: int,
) -> None:
    """A deal entering a stage with STAGE_ADDS_TAG / STAGE_STARTS_FLOW rules: one dispatch per
    rule, keyed ``rule:<rule>:deal:<deal>:v<version>`` (the same move signalled twice sends
    once; moving back and forth again sends again). Needs an enabled connection and a contact
    with a phone on the deal; the subscriber is found (or created) when the dispatch is sent."""
    rules = list(
        BotConversaRule.objects.filter(
            organization_id=organization_id,
            stage_id=to_stage_id,
            kind__in=(BotConversaRuleKind.STAGE_ADDS_TAG, BotConversaRuleKind.STAGE_STARTS_FLOW),
        ).order_by("pk")
    )
    if not rules or _active_connection(organization_id) is None:
        return
    deal = (
        Deal.objects.select_related("contact")
        .filter(pk=deal_id, organization_id=organization_id)
        .first()
    )
    if deal is None or deal.contact is None or not deal.contact.phone:
        return
    for rule in rules:
        adds_tag = rule.kind == BotConversaRuleKind.STAGE_ADDS_TAG
        payload: dict[str, Any] = {
            "phone": deal.contact.phone,
            "name": deal.contact.name,
            "contact_id": deal.contact_id,
            "deal_id": deal.pk,
            "rule_id": rule.pk,
        }
        if adds_tag:
            payload["tag_name"] = rule.tag_name
        else:
            payload["flow_id"] = rule.flow_id
        _dispatch_create(
            organization_id=organization_id,
            action=ACTION_ADD_TAG if adds_tag else ACTION_SEND_FLOW,
            key=f"rule:{rule.pk}:deal:{deal.pk}:v{version}",
            payload=payload,
        )


# --- Outbound: sending -----------------------------------------------------------------------


def _claim(dispatch_id: int) -> BotConversaDispatch | None:
    """Count an attempt on a pending dispatch (locked for the count only: the call to
    BotConversa happens after this commits). None when it is not pending any more."""
    with transaction.atomic():
        dispatch = (
            BotConversaDispatch.objects.select_for_update()
            .filter(pk=dispatch_id, status=DispatchStatus.PENDING)
            .first()
        )
        if dispatch is None:
            return None
        dispatch.attempts += 1
        dispatch.save(update_fields=["attempts", "updated_at"])
        return dispatch


def _split_name(name: str, phone: str) -> tuple[str, str]:
    parts = name.split()
    if not parts:
        return phone, ""
    return parts[0], " ".join(parts[1:])


def _subscriber_id(
    provider: Any, credentials: BotConversaCredentials, dispatch: BotConversaDispatch
) -> str:
    payload = dispatch.payload
    phone = str(payload.get("phone") or "")
    known = (
        BotConversaSubscriber.objects.filter(organization_id=dispatch.organization_id, phone=phone)
        .order_by("-pk")
        .values_list("subscriber_id", flat=True)
        .first()
    )
    if known:
        return known
    found = provider.get_subscriber_by_phone(credentials, phone)
    if found is None:
        first_name, last_name = _split_name(str(payload.get("name") or ""), phone)
        found = provider.create_subscriber(
            credentials, phone=phone, first_name=first_name, last_name=last_name
        )
    subscriber_id = str(found["id"])
    contact = Contact.objects.filter(
        pk=payload.get("contact_id"), organization_id=dispatch.organization_id
    ).first()
    if contact is not None:
        with transaction.atomic():
            _subscriber_record(
                organization_id=dispatch.organization_id,
                contact=contact,
                subscriber_id=subscriber_id,
                phone=phone,
            )
    return subscriber_id


def _perform(
    provider: Any, credentials: BotConversaCredentials, dispatch: BotConversaDispatch
) -> None:
    payload = dispatch.payload
    if not payload.get("phone"):
        raise BotConversaPermanentError("The contact has no phone number.")
    subscriber_id = _subscriber_id(provider, credentials, dispatch)
    if dispatch.action == ACTION_SEND_MESSAGE:
        provider.send_message(credentials, subscriber_id, str(payload.get("text") or ""))
    elif dispatch.action == ACTION_ADD_TAG:
        wanted = str(payload.get("tag_name") or "").strip().lower()
        tag = next(
            (
                item
                for item in provider.list_tags(credentials)
                if item["name"].strip().lower() == wanted
            ),
            None,
        )
        if tag is None:
            raise BotConversaPermanentError(
                f"BotConversa has no tag named {payload.get('tag_name')!r}."
            )
        provider.add_tag(credentials, subscriber_id, tag["id"])
    elif dispatch.action == ACTION_SEND_FLOW:
        provider.send_flow(credentials, subscriber_id, str(payload.get("flow_id") or ""))
    else:
        raise BotConversaPermanentError(f"Unknown dispatch action {dispatch.action!r}.")


def dispatch_send(dispatch_id: int) -> None:
    """Send one pending dispatch: counts the attempt, finds or creates the subscriber, makes
    the call (no transaction open), then marks it sent. A dispatch that is not pending (sent,
    failed) is left alone. A retryable failure records the error and raises RetryableError (the
    task retries); any other failure marks it failed (``dispatch_failed``)."""
    dispatch = _claim(dispatch_id)
    if dispatch is None:
        return
    connection = BotConversaConnection.objects.filter(
        organization_id=dispatch.organization_id
    ).first()
    if connection is None or not connection.enabled:
        dispatch_failed(dispatch_id, "The BotConversa connection is disabled.")
        return
    credentials = _credentials(connection)
    try:
        _perform(_provider(), credentials, dispatch)
    except BotConversaRetryableError as exc:
        BotConversaDispatch.objects.filter(pk=dispatch_id, status=DispatchStatus.PENDING).update(
            last_error=str(exc)[:500], updated_at=timezone.now()
        )
        raise RetryableError(str(exc)) from None
    except BotConversaError as exc:
        dispatch_failed(dispatch_id, str(exc))
        return
    BotConversaDispatch.objects.filter(pk=dispatch_id, status=DispatchStatus.PENDING).update(
        status=DispatchStatus.SENT,
        sent_at=timezone.now(),
        last_error="",
        updated_at=timezone.now(),
    )


def dispatch_attempts(dispatch_id: int) -> int:
    """How many times the dispatch was tried (0 if it is gone)."""
    return (
        BotConversaDispatch.objects.filter(pk=dispatch_id)
        .values_list("attempts", flat=True)
        .first()
        or 0
    )


def _action_label(dispatch: BotConversaDispatch) -> str:
    if dispatch.action == ACTION_ADD_TAG:
        return _("Adding the tag %(tag)s") % {"tag": dispatch.payload.get("tag_name", "")}
    if dispatch.action == ACTION_SEND_FLOW:
        return _("Starting the flow %(flow)s") % {"flow": dispatch.payload.get("flow_id", "")}
    return _("Sending a WhatsApp message")


@transaction.atomic
def dispatch_failed(dispatch_id: int, error: str) -> None:
    """Mark a pending dispatch failed with ``error`` and notify the org admins
    (CRM_SYNC_FAILED, source ``bc_dispatch:<id>``, each in their language). A sent dispatch
    stays sent. Locks the dispatch row."""
    from chat.notifications import notification_create

    dispatch = BotConversaDispatch.objects.select_for_update().filter(pk=dispatch_id).first()
    if dispatch is None or dispatch.status == DispatchStatus.SENT:
        return
    dispatch.status = DispatchStatus.FAILED
    dispatch.last_error = error[:500]
    dispatch.save(update_fields=["status", "last_error", "updated_at"])
    admins = User.objects.filter(
        memberships__organization_id=dispatch.organization_id,
        memberships__role=Role.ORG_ADMIN,
        is_active=True,
    ).order_by("pk")
    for admin in admins:
        with translation.override(admin.language):
            notification_create(
                user_id=admin.pk,
                kind=NotificationKind.CRM_SYNC_FAILED,
                source=f"bc_dispatch:{dispatch.pk}",
                title=_("A BotConversa sync failed"),
                body=f"{_action_label(dispatch)}: {dispatch.last_error}",
                url="/crm/botconversa",
                data={"dispatch_id": dispatch.pk},
                organization_id=dispatch.organization_id,
            )


@transaction.atomic
def dispatch_retry(*, actor: Any, dispatch: BotConversaDispatch) -> BotConversaDispatch:
    """An admin sends a failed dispatch again: pending, attempts from zero, queued after
    commit. Locks the dispatch.

    Raises ``crm.not_found``/``crm.permission_denied``, 409 ``crm.botconversa_not_failed``.
    """
    from crm import tasks

    access.require_manage(actor, dispatch.organization_id)
    locked = BotConversaDispatch.objects.select_for_update().get(pk=dispatch.pk)
    if locked.status != DispatchStatus.FAILED:
        raise ConflictError(
            _("Only a failed dispatch can be retried."), code="crm.botconversa_not_failed"
        )
    locked.status = DispatchStatus.PENDING
    locked.attempts = 0
    locked.last_error = ""
    locked.save(update_fields=["status", "attempts", "last_error", "updated_at"])
    tasks.botconversa_dispatch.delay_on_commit(locked.pk)
    return locked


def retry_stuck_dispatches(*, now: datetime.datetime | None = None) -> int:
    """Queue again the dispatches pending and untouched for STUCK_AFTER (a worker died, an
    eager run gave up after a retryable failure); touches them so the next run skips them
    while they wait. Returns how many were queued."""
    from crm import tasks

    now = now or timezone.now()
    ids = list(
        BotConversaDispatch.objects.filter(
            status=DispatchStatus.PENDING, updated_at__lt=now - STUCK_AFTER
        )
        .order_by("updated_at", "pk")
        .values_list("pk", flat=True)[:STUCK_BATCH]
    )
    if not ids:
        return 0
    BotConversaDispatch.objects.filter(pk__in=ids).update(updated_at=now)
    for dispatch_id in ids:
        tasks.botconversa_dispatch.delay_on_commit(dispatch_id)
    return len(ids)


def dispatch_data(dispatch: BotConversaDispatch) -> dict[str, Any]:
    return {
        "id": dispatch.pk,
        "action": dispatch.action,
        "key": dispatch.key,
        "status": dispatch.status,
        "attempts": dispatch.attempts,
        "last_error": dispatch.last_error,
        "payload": dispatch.payload,
        "sent_at": dispatch.sent_at,
        "created_at": dispatch.created_at,
        "updated_at": dispatch.updated_at,
    }


def dispatches_list(
    *, actor: Any, organization_id: int, status: str | None = None
) -> QuerySet[BotConversaDispatch]:
    """The organization's dispatches, newest first (at most DISPATCH_LIST_LIMIT).

    Raises ``crm.not_found``/``crm.permission_denied``, 422 ``crm.invalid_filter``.
    """
    access.require_manage(actor, organization_id)
    dispatches = BotConversaDispatch.objects.filter(organization_id=organization_id)
    if status:
        if status not in DispatchStatus.values:
            raise _invalid("crm.invalid_filter", _("Unknown status."), "status")
        dispatches = dispatches.filter(status=status)
    return dispatches.order_by("-created_at", "-pk")[:DISPATCH_LIST_LIMIT]


def dispatch_for(*, actor: Any, organization_id: int, dispatch_id: int) -> BotConversaDispatch:
    access.require_manage(actor, organization_id)
    dispatch = BotConversaDispatch.objects.filter(
        pk=dispatch_id, organization_id=organization_id
    ).first()
    if dispatch is None:
        raise access.not_found()
    return dispatch
