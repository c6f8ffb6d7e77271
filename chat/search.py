"""Searching the messages a person may see in one organization.

What is searched: messages (top level and thread replies, not system lines, not deleted) in
the rooms the person is a member of, *and* in the organization's public channels they have
not joined: they could open and read those channels at any moment, so hiding their messages
from search would only make search worse, not anything safer. Private channels and DMs they
are not in are never searched; nor are other organizations.

PostgreSQL: full-text search with the ``portuguese`` configuration (stemming, so
"atendimento" finds "atendimentos"; stop words ignored), the query in web-search syntax
(``"exact phrase"``, ``-without``, ``or``), best matches first (``ts_rank``), then newest.
The vector is written exactly as the expression of the GIN index of migration 0002,
``to_tsvector('portuguese'::regconfig, COALESCE(body, ''))``, so the planner can use it.

SQLite (the no-services default): every word of the query must appear in the message
(``LIKE``, so a word also matches inside a longer one), newest first. SQLite's ``LIKE`` folds
case for ASCII letters only: "ação" does not find "AÇÃO", accents are not ignored, and there
is no stemming ("atendimentos" does not find "atendimento", the other way round works).

Headlines are HTML-safe by construction: the text is escaped first, and only then are our own
markers (control characters that ``chat.markup.clean`` keeps out of every stored body) turned
into ``<mark>`` tags.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any, TypedDict

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.db import connection
from django.db.models import Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.db.models.functions import Length, Replace
from django.utils.translation import gettext as _
from rest_framework import status

from accounts.models import Membership, User
from chat import markup
from chat.events import MessageData
from chat.models import Message, MessageKind, RoomKind, RoomMember
from core.exceptions import ApplicationError, NotFoundError

SEARCH_CONFIG = "portuguese"
QUERY_MIN_LENGTH = 2
QUERY_MAX_LENGTH = 200
QUERY_MAX_WORDS = 10
# Markers around matches in a headline. ``chat.markup.clean`` drops control characters from
# every body, so these never come from what someone wrote.
START = "\x01"
STOP = "\x02"
SNIPPET_CHARS = 160
# Messages up to this long are their own headline (PostgreSQL).
WHOLE_BODY_CHARS = 300
_WORD = re.compile(r"\w+", re.UNICODE)
_USER_MENTION = re.compile(r"<@(\d{1,18})>")
_ESCAPED_MENTION = re.compile(r"&lt;@(\d{1,18})&gt;")


class SearchRoom(TypedDict):
    id: int
    name: str
    kind: str


class SearchResult(TypedDict):
    message: MessageData
    room: SearchRoom
    headline: str


def uses_full_text() -> bool:
    return connection.vendor == "postgresql"


def _invalid_query() -> ApplicationError:
    return ApplicationError(
        _("Type at least %(min)d letters (at most %(max)d characters) to search.")
        % {"min": QUERY_MIN_LENGTH, "max": QUERY_MAX_LENGTH},
        code="chat.search_query_invalid",
        extra={"min_length": QUERY_MIN_LENGTH, "max_length": QUERY_MAX_LENGTH},
        status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
    )


def query_words(query: str) -> list[str]:
    """The words of a query of two letters or more, lower-cased, unique, in order (at most
    ten); a single letter would match nearly every message."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(query.lower()):
        if len(word) >= QUERY_MIN_LENGTH:
            seen.setdefault(word, None)
    return list(seen)[:QUERY_MAX_WORDS]


def clean_query(query: str) -> str:
    """The query stripped; raises ``chat.search_query_invalid`` (422) when it has no word of
    at least two letters or is longer than 200 characters."""
    query = markup.clean(query or "")
    if len(query) > QUERY_MAX_LENGTH:
        raise _invalid_query()
    if not query_words(query):
        raise _invalid_query()
    return query


def search_vector() -> SearchVector:
    # Compiles to to_tsvector('portuguese'::regconfig, COALESCE("chat_message"."body", '')):
    # the expression of the chat_message_body_search index, character for character.
    return SearchVector("body", config=SEARCH_CONFIG)


def full_text_matches(messages: QuerySet[Message], search_query: SearchQuery) -> QuerySet[Message]:
    """``messages`` whose body matches, through the GIN index (PostgreSQL only)."""
    return messages.annotate(document=search_vector()).filter(document=search_query)


def _escaped_in_sql(field: str) -> Replace:
    # The order matters: "&" first, or the "&" of "&lt;" would be escaped again.
    escaped: Any = F(field)
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        escaped = Replace(escaped, Value(char), Value(entity))
    return escaped


def _headline_in_sql(search_query: SearchQuery) -> Case:
    # ts_headline's parser drops what looks like an HTML tag, so it is given the body already
    # escaped: "<script>" stays visible as text, never as a tag. A chat message is usually
    # short: it is shown whole; a long one is cut to about thirty words around the match.
    def headline(**options: Any) -> SearchHeadline:
        return SearchHeadline(
            _escaped_in_sql("body"),
            search_query,
            config=SEARCH_CONFIG,
            start_sel=START,
            stop_sel=STOP,
            **options,
        )

    return Case(
        When(body_length__lte=WHOLE_BODY_CHARS, then=headline(highlight_all=True)),
        default=headline(max_words=30, min_words=20, short_word=0),
    )


def message_search(
    *,
    user: Any,
    organization_id: int,
    query: str,
    room_id: int | None = None,
    author_id: int | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
) -> QuerySet[Message]:
    """Messages matching ``query`` that ``user`` may read in the organization, best first.

    ``since`` is inclusive, ``until`` exclusive. On PostgreSQL each row carries ``rank`` and
    ``headline_text`` (with START/STOP markers); use ``search_results`` to shape them.
    Raises not found (not a member of the organization) and ``chat.search_query_invalid``.
    """
    if not getattr(user, "is_authenticated", False) or not (
        Membership.objects.filter(user_id=user.pk, organization_id=organization_id).exists()
    ):
        raise NotFoundError()
    query = clean_query(query)
    is_member = Exists(RoomMember.objects.filter(room_id=OuterRef("room_id"), user_id=user.pk))
    messages = (
        Message.objects.filter(organization_id=organization_id, deleted_at__isnull=True)
        .exclude(kind=MessageKind.SYSTEM)
        .filter(Q(room__kind=RoomKind.CHANNEL) | is_member)
        # The room must be in the organization too: a message row names both.
        .filter(room__organization_id=organization_id)
    )
    if room_id is not None:
        messages = messages.filter(room_id=room_id)
    if author_id is not None:
        messages = messages.filter(author_id=author_id)
    if since is not None:
        messages = messages.filter(created_at__gte=since)
    if until is not None:
        messages = messages.filter(created_at__lt=until)

    if uses_full_text():
        search_query = SearchQuery(query, config=SEARCH_CONFIG, search_type="websearch")
        return (
            full_text_matches(messages, search_query)
            .annotate(body_length=Length("body"))
            .annotate(
                rank=SearchRank(F("document"), search_query),
                headline_text=_headline_in_sql(search_query),
            )
            .order_by("-rank", "-id")
        )
    for word in query_words(query):
        messages = messages.filter(body__icontains=word)
    return messages.order_by("-id")


# --- Results ----------------------------------------------------------------------------------


def _marked_html(text: str) -> str:
    """Escape ``text``, then turn our START/STOP markers (and only them) into <mark> tags."""
    html = escape(text, quote=True)
    return html.replace(START, "<mark>").replace(STOP, "</mark>")


def _with_names(text: str, names: dict[int, str]) -> str:
    return _USER_MENTION.sub(
        lambda match: "@" + names.get(int(match.group(1)), match.group(0)), text
    )


def _headline_from_escaped(escaped: str, names: dict[int, str]) -> str:
    """Safe HTML from a headline the database built over escaped text.

    The text has no "<" or ">" of its own (they came out of SQL as entities); they are
    replaced once more anyway, so a mistake there could never become a tag. Mentions are
    replaced by escaped names, then our markers by <mark>.
    """
    html = escaped.replace("<", "&lt;").replace(">", "&gt;")
    html = _ESCAPED_MENTION.sub(
        lambda match: escape(
            "@" + names.get(int(match.group(1)), f"<@{match.group(1)}>"), quote=True
        ),
        html,
    )
    return html.replace(START, "<mark>").replace(STOP, "</mark>")


def _snippet(text: str, words: Sequence[str]) -> str:
    """A window of ``text`` around the first match, with every match between markers.

    Used where the database gives no headline (SQLite); matching is case-insensitive.
    """
    if not words:
        return text[:SNIPPET_CHARS]
    # Longer words first, so "atendimento" is marked whole rather than its prefix "atend".
    ordered = sorted(words, key=len, reverse=True)
    pattern = re.compile("|".join(re.escape(word) for word in ordered), re.IGNORECASE)
    first = pattern.search(text)
    start = 0
    if first is not None and first.start() > SNIPPET_CHARS // 3:
        start = first.start() - SNIPPET_CHARS // 3
        # Start at a word boundary rather than in the middle of one.
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < first.start() else start
    end = min(len(text), start + SNIPPET_CHARS)
    window = text[start:end]
    marked = pattern.sub(lambda match: START + match.group(0) + STOP, window)
    return ("… " if start > 0 else "") + marked + (" …" if end < len(text) else "")


def _mention_names(messages: Iterable[Message]) -> dict[int, str]:
    ids: set[int] = set()
    for message in messages:
        ids.update(int(found) for found in _USER_MENTION.findall(message.body))
    if not ids:
        return {}
    return {user.pk: user.get_full_name() for user in User.objects.filter(pk__in=ids)}


def headline(message: Message, *, query: str, names: dict[int, str]) -> str:
    """The matched part of a message as safe HTML, matches in <mark>, mentions by name."""
    raw = getattr(message, "headline_text", None)
    if raw is None:
        text = " ".join(markup.clean(message.body).split())
        return _marked_html(_snippet(_with_names(text, names), query_words(query)))
    return _headline_from_escaped(" ".join(raw.split()), names)


def search_results(messages: Sequence[Message], *, query: str) -> list[SearchResult]:
    """Shape one page of ``message_search``: ``{message, room, headline}`` each.

    The page must come from ``with_search_relations`` (the room and the message's relations
    already loaded); one more query resolves the names of mentioned people, if any.
    """
    from chat.selectors import message_data

    names = _mention_names(messages)
    return [
        {
            "message": message_data(message),
            "room": {"id": message.room.pk, "name": message.room.name, "kind": message.room.kind},
            "headline": headline(message, query=query, names=names),
        }
        for message in messages
    ]


def with_search_relations(messages: QuerySet[Message]) -> QuerySet[Message]:
    """The room, the author, reactions, attachments and mentions, in a fixed number of queries."""
    from chat.selectors import with_message_relations

    return with_message_relations(messages.select_related("room"))
