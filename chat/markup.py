"""The small, safe markup of chat messages, rendered to HTML on the server.

What authors may write: ``**bold**``, ``*italic*`` or ``_italic_``, ``~~strike~~``,
`` `code` ``, fenced code blocks (```` ``` ````), ``> quotes``, URLs (linked), emoji
shortcodes (``:tada:``) and mentions: ``<@12>`` for a person (the composer writes these from
its autocomplete), ``@channel``/``@all`` and ``@here``.

Safety comes from the order of work: the text is HTML-escaped *before* any markup is
recognised, and every tag in the output is written by this module. Nothing an author types
can open a tag or an attribute; links only ever get ``http``/``https`` addresses.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from html import escape
from pathlib import Path

from django.conf import settings

EMOJI_FILE = Path(settings.BASE_DIR) / "static" / "app" / "chat" / "emoji.json"

# Control characters other than tab and newline are dropped: they have no place in a chat
# message and \x00 is the placeholder marker below.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_FENCE = re.compile(r"```(?:[a-zA-Z0-9_+-]{0,20}\n)?(.*?)```", re.DOTALL)
_INLINE_CODE = re.compile(r"`([^`\n]+)`")
_USER_MENTION = re.compile(r"<@(\d{1,18})>")
_GROUP_MENTION = re.compile(r"(?<![\w@.])@(channel|all|here)\b")
_SHORTCODE = re.compile(r":([a-z0-9_+-]{1,40}):")
# After escaping, '&' is '&amp;' and '"' is '&quot;': a URL ends at whitespace or at an
# escaped angle bracket or quote.
_URL = re.compile(
    r"\bhttps?://[^\s<>\"'\x00]+?(?=[.,;:!?)\]]*(?:\s|$|\x00|&lt;|&gt;|&quot;|&#x27;))"
)
_BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
_ITALIC_STAR = re.compile(r"(?<![\w*])\*(?=\S)(.+?)(?<=\S)\*(?![\w*])")
_ITALIC_UNDERSCORE = re.compile(r"(?<![\w_])_(?=\S)(.+?)(?<=\S)_(?![\w_])")
_STRIKE = re.compile(r"~~(?=\S)(.+?)(?<=\S)~~")
_PLACEHOLDER = re.compile("\x00(\\d+)\x00")


@cache
def emoji_table() -> dict[str, str]:
    """Shortcode to character, from the file the web app's picker also reads."""
    data = json.loads(EMOJI_FILE.read_text(encoding="utf-8"))
    return {item["code"]: item["char"] for group in data["categories"] for item in group["emoji"]}


def is_emoji_code(code: str) -> bool:
    return code in emoji_table()


@dataclass(frozen=True)
class Mentions:
    user_ids: frozenset[int]
    everyone: bool  # @channel or @all
    here: bool


def clean(body: str) -> str:
    """The text as stored: control characters dropped, line ends normalised, ends trimmed."""
    return _CONTROL.sub("", body.replace("\r\n", "\n").replace("\r", "\n")).strip()


def _without_code(body: str) -> str:
    return _INLINE_CODE.sub(" ", _FENCE.sub(" ", body))


def mentions_in(body: str) -> Mentions:
    """Who a message names; mentions inside code do not count."""
    text = _without_code(body)
    groups = {match.group(1) for match in _GROUP_MENTION.finditer(text)}
    return Mentions(
        user_ids=frozenset(int(match.group(1)) for match in _USER_MENTION.finditer(text)),
        everyone=bool(groups & {"channel", "all"}),
        here="here" in groups,
    )


class _Renderer:
    def __init__(self, names: Mapping[int, str]) -> None:
        self.names = names
        self.kept: list[str] = []

    def keep(self, html: str) -> str:
        """Set finished HTML aside so later passes cannot touch it."""
        self.kept.append(html)
        return f"\x00{len(self.kept) - 1}\x00"

    def restore(self, text: str) -> str:
        # Kept pieces may themselves hold placeholders (a link inside bold text).
        while _PLACEHOLDER.search(text):
            text = _PLACEHOLDER.sub(lambda match: self.kept[int(match.group(1))], text)
        return text

    def user_mention(self, match: re.Match[str]) -> str:
        user_id = int(match.group(1))
        name = self.names.get(user_id)
        if name is None:
            return self.keep(escape(match.group(0)))
        return self.keep(f'<span class="mention" data-user-id="{user_id}">@{escape(name)}</span>')

    def inline(self, text: str) -> str:
        """One line of text outside code blocks: escape, then recognise the markup."""
        pieces: list[str] = []
        position = 0
        for match in _INLINE_CODE.finditer(text):
            pieces.append(self.plain(text[position : match.start()]))
            pieces.append(self.keep(f"<code>{escape(match.group(1))}</code>"))
            position = match.end()
        pieces.append(self.plain(text[position:]))
        return "".join(pieces)

    def plain(self, text: str) -> str:
        text = _USER_MENTION.sub(self.user_mention, text)
        text = escape(text)
        text = _URL.sub(
            lambda match: self.keep(
                f'<a href="{match.group(0)}" target="_blank" '
                f'rel="noopener noreferrer nofollow">{match.group(0)}</a>'
            ),
            text,
        )
        text = _GROUP_MENTION.sub(
            lambda match: self.keep(
                f'<span class="mention mention-group">@{match.group(1)}</span>'
            ),
            text,
        )
        table = emoji_table()
        text = _SHORTCODE.sub(
            lambda match: (
                self.keep(
                    f'<span class="emoji" title=":{match.group(1)}:">{table[match.group(1)]}</span>'
                )
                if match.group(1) in table
                else match.group(0)
            ),
            text,
        )
        text = _BOLD.sub(lambda match: self.keep(f"<strong>{match.group(1)}</strong>"), text)
        text = _STRIKE.sub(lambda match: self.keep(f"<del>{match.group(1)}</del>"), text)
        text = _ITALIC_STAR.sub(lambda match: self.keep(f"<em>{match.group(1)}</em>"), text)
        text = _ITALIC_UNDERSCORE.sub(lambda match: self.keep(f"<em>{match.group(1)}</em>"), text)
        return text

    def lines(self, text: str) -> str:
        """Text between code blocks: quotes are runs of lines starting with '>'."""
        out: list[str] = []
        quote: list[str] = []
        for line in text.split("\n"):
            if line.startswith(">"):
                quote.append(self.inline(line[1:].removeprefix(" ")))
                continue
            if quote:
                out.append(self.keep("<blockquote>" + "<br>".join(quote) + "</blockquote>"))
                quote = []
            out.append(self.inline(line))
        if quote:
            out.append(self.keep("<blockquote>" + "<br>".join(quote) + "</blockquote>"))
        # A quote is a block: no line break is written right after one.
        html = ""
        for index, piece in enumerate(out):
            if index and not self.kept_is_block(out[index - 1]):
                html += "<br>"
            html += piece
        return html

    def kept_is_block(self, piece: str) -> bool:
        match = _PLACEHOLDER.fullmatch(piece)
        return match is not None and self.kept[int(match.group(1))].startswith("<blockquote>")

    def render(self, body: str) -> str:
        pieces: list[str] = []
        position = 0
        for match in _FENCE.finditer(body):
            before = body[position : match.start()].strip("\n")
            if before:
                pieces.append(self.lines(before))
            pieces.append(
                self.keep(f"<pre><code>{escape(match.group(1).strip(chr(10)))}</code></pre>")
            )
            position = match.end()
        rest = body[position:].strip("\n")
        if rest:
            pieces.append(self.lines(rest))
        return self.restore("".join(pieces))


def render(body: str, *, names: Mapping[int, str]) -> str:
    """Safe HTML for ``body``; ``names`` maps mentioned user ids to the names shown."""
    return _Renderer(names).render(clean(body))


def plain_text(body: str, *, names: Mapping[int, str]) -> str:
    """The message as plain text (notifications, emails): mentions by name, no markup."""
    text = _USER_MENTION.sub(
        lambda match: "@" + names.get(int(match.group(1)), match.group(0)), clean(body)
    )
    text = _FENCE.sub(lambda match: match.group(1).strip("\n"), text)
    text = _INLINE_CODE.sub(lambda match: match.group(1), text)
    for pattern in (_BOLD, _STRIKE, _ITALIC_STAR, _ITALIC_UNDERSCORE):
        text = pattern.sub(lambda match: match.group(1), text)
    text = "\n".join(
        line[1:].lstrip() if line.startswith(">") else line for line in text.split("\n")
    )
    table = emoji_table()
    return _SHORTCODE.sub(lambda match: table.get(match.group(1), match.group(0)), text)
