"""Notifications: the durable store behind the notification centre, its live push and its email.

A ``Notification`` is something one person should see, kept until they read it. Anything may
create one through ``notification_create`` (chat messages here; incoming calls, queue offers,
assignments and reminders in later issues); the chat fan-out (``notify_for_message``) creates
many at once through the same path. Each row names its cause in ``source`` ("message:42",
"call:7", "reminder:12"), unique per user, so a retried task or a replayed event never
notifies anyone twice.

After commit every new row is pushed to its owner's ``user.<id>`` group as
``chat.notification.created {notification, alert, sound, unread_count}``. ``alert`` (show a
browser notification) and ``sound`` (play one) are false while the person is in
do-not-disturb or is looking at the room the notification is about (a visible tab showing it);
``alert`` is also false when they turned desktop notifications off, ``sound`` when they
turned sounds off. The row is stored and counted either way: quiet is not lost.

Mentions, direct messages and thread replies still unread (and never emailed) after
``NOTIFICATION_EMAIL_DELAY_SECONDS`` go out in one digest email per person
(``notification_digests_send``).
"""

from __future__ import annotations

import datetime
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypedDict

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from chat.markup import plain_text
from chat.models import (
    CHANNEL_KINDS,
    Message,
    MessageKind,
    MessageMention,
    Notification,
    NotificationKind,
    NotifyLevel,
    PresenceConnection,
    Room,
    RoomMember,
    UserChatSettings,
)
from core.exceptions import NotFoundError
from realtime.publish import publish_on_commit
from realtime.registry import user_group

logger = logging.getLogger(__name__)

NOTIFICATION_CREATED = "chat.notification.created"
NOTIFICATION_READ = "chat.notification.read"

# Kinds that come from chat messages: the ones reading a room clears and the digest emails.
MESSAGE_KINDS = (
    NotificationKind.MENTION,
    NotificationKind.DIRECT_MESSAGE,
    NotificationKind.THREAD_REPLY,
)
DIGEST_KINDS = MESSAGE_KINDS
BODY_PREVIEW_LENGTH = 140
# One sweep emails at most this many people; the rest wait for the next minute's sweep.
DIGEST_USERS_PER_RUN = 200
# Online or away: who ``@here`` reaches.
HERE_STATES = frozenset({"online", "away"})


def message_source(message_id: int) -> str:
    return f"message:{message_id}"


def message_url(*, room_id: int, message_id: int) -> str:
    """The web app's route to a message (relative; emails prefix ``SITE_URL``)."""
    return f"/chat/{room_id}?message={message_id}"


# --- Payloads -----------------------------------------------------------------------------


class ActorPayload(TypedDict):
    id: int
    name: str


class NotificationPayload(TypedDict):
    id: int
    kind: str
    title: str
    body: str
    url: str
    room_id: int | None
    data: dict[str, Any]
    actor: ActorPayload | None
    created_at: datetime.datetime
    read_at: datetime.datetime | None


def notification_payload(
    notification: Notification, *, actor_name: str | None = None
) -> NotificationPayload:
    """The notification as the API and the socket show it.

    The actor's name comes from ``actor_name`` when given (the fan-out knows it already), else
    from ``notification.actor`` (load it with ``select_related("actor")``).
    """
    actor: ActorPayload | None = None
    if notification.actor_id is not None:
        name = actor_name if actor_name is not None else notification.actor.get_full_name()  # type: ignore[union-attr]
        actor = {"id": notification.actor_id, "name": name}
    return {
        "id": notification.pk,
        "kind": notification.kind,
        "title": notification.title,
        "body": notification.body,
        "url": notification.url,
        "room_id": notification.room_id,
        "data": notification.data,
        "actor": actor,
        "created_at": notification.created_at,
        "read_at": notification.read_at,
    }


# --- Selectors ----------------------------------------------------------------------------


def notification_feed(user: User, unread_only: bool = False) -> QuerySet[Notification]:
    """The user's notifications, newest first (paginate with ``FeedCursorPagination``)."""
    notifications = Notification.objects.filter(user=user).select_related("actor")
    if unread_only:
        notifications = notifications.filter(read_at__isnull=True)
    return notifications.order_by("-created_at", "-id")


def notification_unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_get(*, user: User, notification_id: int) -> Notification:
    """One of the user's notifications; another person's is as missing as one that never was."""
    notification = (
        Notification.objects.select_related("actor").filter(pk=notification_id, user=user).first()
    )
    if notification is None:
        raise NotFoundError(_("No such notification."), code="chat.notification_not_found")
    return notification


def _unread_counts(user_ids: Iterable[int]) -> dict[int, int]:
    rows = (
        Notification.objects.filter(user_id__in=list(user_ids), read_at__isnull=True)
        .values("user_id")
        .annotate(count=Count("id"))
        .values_list("user_id", "count")
    )
    return dict(rows)


# --- Creating and pushing -----------------------------------------------------------------


def _fresh_connections_since(now: datetime.datetime) -> datetime.datetime:
    return now - datetime.timedelta(seconds=settings.PRESENCE_TIMEOUT_SECONDS)


def _quiet_flags(
    notifications: Sequence[Notification], *, now: datetime.datetime
) -> dict[int, tuple[bool, bool]]:
    """(alert, sound) per notification id, in three queries whatever the number of people."""
    from chat.presence import dnd_active

    user_ids = {notification.user_id for notification in notifications}
    room_ids = {n.room_id for n in notifications if n.room_id is not None}
    chat_settings = {
        row.user_id: row for row in UserChatSettings.objects.filter(user_id__in=user_ids)
    }
    time_zones = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "time_zone"))
    # A visible tab showing the room, still sending heartbeats (chat.presence's rule for
    # "looking at the room", asked for everyone at once instead of once per person).
    viewing: set[tuple[int, int]] = set()
    if room_ids:
        viewing = set(
            PresenceConnection.objects.filter(
                user_id__in=user_ids,
                viewing_room_id__in=room_ids,
                visible=True,
                last_seen_at__gte=_fresh_connections_since(now),
            ).values_list("user_id", "viewing_room_id")
        )
    flags: dict[int, tuple[bool, bool]] = {}
    for notification in notifications:
        preferences = chat_settings.get(notification.user_id)
        quiet = (notification.user_id, notification.room_id) in viewing or dnd_active(
            preferences, now=now, time_zone=time_zones.get(notification.user_id, "UTC")
        )
        desktop = preferences.desktop_enabled if preferences else True
        sound = preferences.sound_enabled if preferences else True
        flags[notification.pk] = (not quiet and desktop, not quiet and sound)
    return flags


def _store_and_push(
    rows: list[Notification],
    *,
    now: datetime.datetime,
    actor_names: dict[int, str] | None = None,
) -> list[Notification]:
    """Insert the rows that are new, push each one to its owner after commit, return them.

    Rows whose (user, source) already exists are skipped by the database (a retried fan-out,
    a replayed event): they are neither returned nor pushed again. Every row of one call
    carries the same ``created_at``; reading back the rows of these sources with exactly that
    timestamp finds the ones this call inserted and not those an earlier (or concurrent) call
    did, without a query per row. The caller holds the transaction.
    """
    if not rows:
        return []
    for row in rows:
        row.created_at = now
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    sources = {row.source for row in rows}
    user_ids = {row.user_id for row in rows}
    created = list(
        Notification.objects.filter(
            source__in=sources, user_id__in=user_ids, created_at=now
        ).order_by("id")
    )
    if not created:
        return []
    flags = _quiet_flags(created, now=now)
    unread = _unread_counts(user_ids)
    names = dict(actor_names or {})
    missing_actors = {n.actor_id for n in created if n.actor_id and n.actor_id not in names}
    if missing_actors:
        for actor in User.objects.filter(pk__in=missing_actors).only("email", "display_name"):
            names[actor.pk] = actor.get_full_name()
    for notification in created:
        alert, sound = flags[notification.pk]
        payload = {
            "notification": notification_payload(
                notification, actor_name=names.get(notification.actor_id or 0, "")
            ),
            "alert": alert,
            "sound": sound,
            "unread_count": unread.get(notification.user_id, 0),
        }
        publish_on_commit(user_group(notification.user_id), NOTIFICATION_CREATED, payload)
    return created


def notification_create(
    *,
    user_id: int,
    kind: str,
    source: str,
    title: str,
    body: str = "",
    url: str = "",
    data: dict[str, Any] | None = None,
    actor_id: int | None = None,
    room_id: int | None = None,
    organization_id: int | None = None,
) -> Notification | None:
    """Store a notification for one person and push it live; None if ``source`` was seen.

    The general entry point for every feature that notifies someone (an incoming call:
    ``kind="call", source=f"call:{call.pk}"``; a queue offer, an assignment, a reminder).
    ``source`` names the cause and is unique per user: calling again with the same one stores
    and pushes nothing and returns None, so callers may retry freely. ``url`` is the web app's
    route (relative), ``data`` anything the client needs to act on it (JSON). ``room_id``, when
    given, quiets the alert and sound for someone looking at that room. The title and body are
    stored as given (translate them in the recipient's language before calling).

    Takes no locks; the unique constraint on (user, source) settles races. Emits
    ``chat.notification.created`` to ``user.<user_id>`` after commit.
    """
    row = Notification(
        user_id=user_id,
        kind=kind,
        source=source[:100],
        title=title[:200],
        body=body[:300],
        url=url[:300],
        data=data or {},
        actor_id=actor_id,
        room_id=room_id,
        organization_id=organization_id,
    )
    with transaction.atomic():
        created = _store_and_push([row], now=timezone.now())
    return created[0] if created else None


# --- Chat messages ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Recipient:
    user_id: int
    level: str
    language: str


def _preview(message: Message, names: dict[int, str]) -> str:
    text = " ".join(plain_text(message.body, names=names).split())
    if not text:
        if message.kind == MessageKind.VOICE:
            return _("Voice message")
        return _("Sent an attachment")
    if len(text) > BODY_PREVIEW_LENGTH:
        return text[: BODY_PREVIEW_LENGTH - 1].rstrip() + "…"
    return text


def _title(*, kind: str, author: str, message: Message) -> str:
    room = message.room
    if room.kind not in CHANNEL_KINDS:
        return author
    if kind == NotificationKind.THREAD_REPLY:
        return _("%(name)s replied in #%(room)s") % {"name": author, "room": room.name}
    return _("%(name)s in #%(room)s") % {"name": author, "room": room.name}


def notify_for_message(*, message_id: int) -> list[Notification]:
    """Notify the people a new message concerns; the body of the ``chat.notify_message`` task.

    Who gets what (one notification per person and message, source ``message:<id>``; the
    author never; members whose room level is "nothing" never):

    - a person named with ``@`` (and everyone for ``@channel``/``@all``, everyone online or
      away for ``@here``) gets a ``mention`` (levels "all" and "mentions");
    - in a direct message or group DM, every other member with level "all" gets a
      ``direct_message``;
    - a reply in a thread: the thread's author and everyone who replied before get a
      ``thread_reply`` (levels "all" and "mentions": taking part in a thread is personal, like
      a mention). A mention wins over the other kinds.

    A plain channel message notifies no one: like Slack's default, channels raise unread
    counts (the room's badge) and only mentions interrupt, so a busy channel does not ring
    every member's bell. A message deleted before this ran, or a system message, notifies no
    one. Safe to run twice: the second run finds every source stored and pushes nothing.

    The number of queries does not depend on the number of members (``@channel`` in a room of
    a thousand is a handful of queries and one bulk insert); the pushes go one per person,
    after commit.
    """
    message = (
        Message.objects.select_related("room", "author", "parent").filter(pk=message_id).first()
    )
    if message is None or message.is_deleted or message.kind == MessageKind.SYSTEM:
        return []
    room = message.room
    author_id = message.author_id
    recipients = {
        user_id: _Recipient(user_id=user_id, level=level, language=language)
        for user_id, level, language in RoomMember.objects.filter(room_id=room.pk)
        .exclude(notify=NotifyLevel.NOTHING)
        .values_list("user_id", "notify", "user__language")
        if user_id != author_id
    }
    if not recipients:
        return []
    mentioned_names = {
        user_id: User(email=email, display_name=display_name).get_full_name()
        for user_id, email, display_name in MessageMention.objects.filter(
            message_id=message.pk
        ).values_list("user_id", "user__email", "user__display_name")
    }

    mentioned = set(mentioned_names) & set(recipients)
    if message.mentions_all:
        mentioned |= set(recipients)
    elif message.mentions_here:
        from chat.presence import states_for_users

        states = states_for_users(list(set(recipients) - mentioned), now=timezone.now())
        mentioned |= {user_id for user_id, state in states.items() if state in HERE_STATES}

    thread_people: set[int] = set()
    if message.parent_id is not None:
        assert message.parent is not None
        thread_people = set(
            Message.objects.filter(parent_id=message.parent_id, author__isnull=False)
            .values_list("author_id", flat=True)
            .distinct()
        )
        if message.parent.author_id is not None:
            thread_people.add(message.parent.author_id)

    is_direct = room.kind not in CHANNEL_KINDS
    texts: dict[tuple[str, str], tuple[str, str]] = {}
    rows: list[Notification] = []
    for recipient in recipients.values():
        if recipient.user_id in mentioned:
            kind = NotificationKind.MENTION
        elif is_direct and recipient.level == NotifyLevel.ALL:
            kind = NotificationKind.DIRECT_MESSAGE
        elif recipient.user_id in thread_people:
            kind = NotificationKind.THREAD_REPLY
        else:
            continue
        key = (recipient.language, kind)
        if key not in texts:
            with translation.override(recipient.language):
                name = message.author.get_full_name() if message.author else _("Someone")
                texts[key] = (
                    _title(kind=kind, author=name, message=message),
                    _preview(message, mentioned_names),
                )
        title, body = texts[key]
        rows.append(
            Notification(
                user_id=recipient.user_id,
                organization_id=message.organization_id,
                kind=kind,
                source=message_source(message.pk),
                title=title[:200],
                body=body[:300],
                url=message_url(room_id=room.pk, message_id=message.pk),
                data={
                    "room_id": room.pk,
                    "message_id": message.pk,
                    "thread_id": message.parent_id,
                },
                actor_id=author_id,
                room_id=room.pk,
            )
        )
    actor_names = {message.author.pk: message.author.get_full_name()} if message.author else {}
    with transaction.atomic():
        return _store_and_push(rows, now=timezone.now(), actor_names=actor_names)


# --- Reading ------------------------------------------------------------------------------


def _push_read(user_id: int, ids: list[int] | None) -> None:
    unread = Notification.objects.filter(user_id=user_id, read_at__isnull=True).count()
    publish_on_commit(user_group(user_id), NOTIFICATION_READ, {"ids": ids, "unread_count": unread})


def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (a read one stays as it was).

    A conditional update, so two tabs marking the same row at once record one reading and one
    event. Emits ``chat.notification.read {ids: [id], unread_count}`` to ``user.<id>`` after
    commit when something changed. Raises NotFoundError for another person's notification.
    """
    notification = notification_get(user=user, notification_id=notification_id)
    if notification.read_at is not None:
        return notification
    now = timezone.now()
    with transaction.atomic():
        changed = Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(
            read_at=now
        )
        if changed:
            _push_read(user.pk, [notification.pk])
    notification.refresh_from_db(fields=["read_at"])
    return notification


def _mark_ids_read(user_id: int, ids: list[int]) -> int:
    """Mark these unread rows read and tell the user's tabs; the caller holds the transaction."""
    if not ids:
        return 0
    changed = Notification.objects.filter(pk__in=ids, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if changed:
        _push_read(user_id, ids)
    return changed


def notifications_mark_all_read(
    *, user: User, room_id: int | None = None, thread_id: int | None = None
) -> int:
    """Mark all the user's unread notifications read: only one room's with ``room_id``, only
    those about one thread's replies with ``thread_id`` (the thread panel was opened).

    Returns how many changed. Emits ``chat.notification.read`` with ``ids: null`` (everything)
    or the ids it marked; nothing when nothing changed.
    """
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    with transaction.atomic():
        if room_id is None and thread_id is None:
            changed = unread.update(read_at=timezone.now())
            if changed:
                _push_read(user.pk, None)
            return changed
        if room_id is not None:
            unread = unread.filter(room_id=room_id)
        if thread_id is not None:
            unread = unread.filter(data__thread_id=thread_id)
        ids = list(unread.values_list("pk", flat=True))
        return _mark_ids_read(user.pk, ids)


def notifications_mark_read_for_room(*, user_id: int, room_id: int, up_to_message_id: int) -> int:
    """Reading a room up to a message reads the notifications of the messages it covers.

    Called by ``room_mark_read`` inside its transaction. The room's read position covers its
    top-level messages, so a notification about one of them with an id up to
    ``up_to_message_id`` is read; thread replies stay unread until the thread is opened (their
    notification is marked on its own). Returns how many changed; emits
    ``chat.notification.read {ids, unread_count}`` after commit when some did.
    """
    unread = Notification.objects.filter(
        user_id=user_id, room_id=room_id, kind__in=MESSAGE_KINDS, read_at__isnull=True
    ).values_list("pk", "data")
    ids = [
        pk
        for pk, data in unread
        if data.get("thread_id") is None
        and 0 < int(data.get("message_id") or 0) <= up_to_message_id
    ]
    with transaction.atomic():
        return _mark_ids_read(user_id, ids)


# --- Digest email -------------------------------------------------------------------------


def _digest_due(now: datetime.datetime) -> Q:
    return Q(
        kind__in=DIGEST_KINDS,
        read_at__isnull=True,
        emailed_at__isnull=True,
        created_at__lte=now - datetime.timedelta(seconds=settings.NOTIFICATION_EMAIL_DELAY_SECONDS),
    )


def _emailable_users() -> Q:
    """People we may email: active, address not bouncing, digest emails not turned off.

    Verification is not required: the address is the one the person signs in with (and
    resets their password through), and every other account email goes there too; an address
    the provider reported as bouncing or dropped is never written to.
    """
    return Q(
        user__is_active=True,
        user__email_undeliverable_at__isnull=True,
    ) & (Q(user__chat_settings__isnull=True) | Q(user__chat_settings__email_enabled=True))


def notification_digests_send(*, now: datetime.datetime | None = None) -> int:
    """Email each person their due notifications in one digest; returns how many were sent.

    Run every minute (task ``chat.send_notification_digests``). Due: a mention, direct message
    or thread reply, unread, never emailed, older than ``NOTIFICATION_EMAIL_DELAY_SECONDS``.
    Each person is handled by ``notification_digest_send``; at most ``DIGEST_USERS_PER_RUN``
    people per run.
    """
    now = now or timezone.now()
    user_ids = list(
        Notification.objects.filter(_digest_due(now) & _emailable_users())
        .order_by("user_id")
        .values_list("user_id", flat=True)
        .distinct()[:DIGEST_USERS_PER_RUN]
    )
    sent = 0
    for user_id in user_ids:
        try:
            sent += notification_digest_send(user_id=user_id, now=now)
        except Exception:
            # One person's failing address must not hold back everyone else's digest.
            logger.exception("notification digest failed", extra={"user_id": user_id})
    return sent


def notification_digest_send(*, user_id: int, now: datetime.datetime) -> int:
    """Claim one person's due notifications and email them as one digest (1 sent, 0 not).

    One worker per person: the person's user row is locked ``FOR NO KEY UPDATE SKIP LOCKED``
    (a second worker running the same sweep skips the person instead of waiting; row locks
    on the notifications alone would let two workers split one person's rows and send two
    digests). "No key" keeps inserts that reference the user (new notifications, messages)
    flowing meanwhile. Under that lock the due rows are read and stamped ``emailed_at``; a
    worker that gets the lock after the first committed finds them stamped.

    Claim first, send after: the email goes out after the commit, with no lock held and no
    transaction open while we talk to the mail provider. A crash between the commit and the
    send loses that digest (the notifications are still in the notification centre, unread);
    the other order could send the same digest twice, and a duplicate email is the worse
    failure for a reminder.
    """
    with transaction.atomic():
        user = (
            User.objects.select_for_update(no_key=True, skip_locked=True).filter(pk=user_id).first()
        )
        if user is None:
            return 0
        claimed = list(
            Notification.objects.filter(_digest_due(now) & _emailable_users(), user_id=user_id)
            .select_for_update(of=("self",))
            .order_by("id")
        )
        if not claimed:
            return 0
        Notification.objects.filter(pk__in=[n.pk for n in claimed]).update(emailed_at=now)
    _send_digest(user, claimed)
    return 1


def _digest_groups(notifications: list[Notification], user: User) -> list[dict[str, Any]]:
    """The notifications grouped by room (oldest first inside a group), for the templates."""
    from chat.presence import zone as time_zone_of

    room_ids = {n.room_id for n in notifications if n.room_id is not None}
    rooms = {room.pk: room for room in Room.objects.filter(pk__in=room_ids)}
    zone = time_zone_of(user.time_zone)
    grouped: dict[int | None, list[Notification]] = defaultdict(list)
    for notification in notifications:
        grouped[notification.room_id].append(notification)
    groups = []
    for room_id, items in grouped.items():
        room = rooms.get(room_id) if room_id is not None else None
        if room is None:
            heading = _("Other notifications")
        elif room.kind in CHANNEL_KINDS:
            heading = f"#{room.name}"
        else:
            heading = _("Direct messages")
        groups.append(
            {
                "heading": heading,
                "items": [
                    {
                        "title": n.title,
                        "body": n.body,
                        "url": f"{settings.SITE_URL}{n.url}" if n.url else settings.SITE_URL,
                        "time": timezone.localtime(n.created_at, zone),
                    }
                    for n in items
                ],
            }
        )
    return groups


def _send_digest(user: User, notifications: list[Notification]) -> None:
    with translation.override(user.language):
        count = len(notifications)
        subject = ngettext(
            "You have %(count)d unread notification on Atende",
            "You have %(count)d unread notifications on Atende",
            count,
        ) % {"count": count}
        context = {
            "name": user.get_short_name(),
            "count": count,
            "groups": _digest_groups(notifications, user),
            "chat_url": f"{settings.SITE_URL}/chat",
            "language": translation.get_language(),
        }
        text = render_to_string("chat/email/notification_digest.txt", context)
        html = render_to_string("chat/email/notification_digest.html", context)
        email = EmailMultiAlternatives(
            subject=subject,
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[user.email],
        )
        email.attach_alternative(html, "text/html")
        email.send()
