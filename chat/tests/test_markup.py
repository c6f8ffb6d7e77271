"""The message markup: what it renders, and that nothing typed becomes live HTML."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from chat import markup


def test_it_renders_the_small_markup() -> None:
    html = markup.render(
        "**bold** *it* _it_ ~~no~~ `x<y` :tada: https://example.com/a?b=1&c=2.",
        names={},
    )

    assert html == (
        "<strong>bold</strong> <em>it</em> <em>it</em> <del>no</del> <code>x&lt;y</code> "
        '<span class="emoji" title=":tada:">🎉</span> '
        '<a href="https://example.com/a?b=1&amp;c=2" target="_blank" '
        'rel="noopener noreferrer nofollow">https://example.com/a?b=1&amp;c=2</a>.'
    )


def test_mentions_render_names_and_unknown_ids_stay_text() -> None:
    html = markup.render("<@7> <@8> @here", names={7: "Ana"})

    assert html == (
        '<span class="mention" data-user-id="7">@Ana</span> &lt;@8&gt; '
        '<span class="mention mention-group">@here</span>'
    )


def test_mentions_inside_code_do_not_count() -> None:
    found = markup.mentions_in("`<@1>` ```\n@all\n``` <@2> @channel")

    assert found == markup.Mentions(user_ids=frozenset({2}), everyone=True, here=False)


ALLOWED_TAGS = {"strong", "em", "del", "code", "pre", "blockquote", "a", "span", "br", "p"}
ALLOWED_ATTRIBUTES = {"href", "target", "rel", "class", "data-user-id", "title"}


def tags_in(html: str) -> list[tuple[str, list[tuple[str, str | None]]]]:
    """Every start tag of ``html`` as a browser's parser sees it."""
    found: list[tuple[str, list[tuple[str, str | None]]]] = []

    class Collector(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found.append((tag, attrs))

    Collector().feed(html)
    return found


def assert_inert(html: str) -> None:
    for tag, attributes in tags_in(html):
        assert tag in ALLOWED_TAGS, html
        for name, value in attributes:
            assert name in ALLOWED_ATTRIBUTES, html
            if name == "href":
                assert value is not None and value.startswith(("https://", "http://")), html


XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[x](javascript:alert(1))",
    "javascript:alert(1)",
    'https://example.com/"onmouseover="alert(1)',
    "https://example.com/'><script>alert(1)</script>",
    "**<b onclick=alert(1)>**",
    "`</code><script>alert(1)</script>`",
    "```\n</pre><script>alert(1)</script>\n```",
    "> <iframe src=//evil>",
    "<@1><svg onload=alert(1)>",
    "_<a href=javascript:alert(1)>x</a>_",
]


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_no_payload_becomes_markup(payload: str) -> None:
    html = markup.render(payload, names={1: "<b>Eve</b>"})

    assert_inert(html)
    assert "<script" not in html


def test_a_name_with_html_is_escaped_in_a_mention() -> None:
    html = markup.render("<@5>", names={5: '<img src=x onerror=alert(1)> "Eve"'})

    assert html == (
        '<span class="mention" data-user-id="5">'
        "@&lt;img src=x onerror=alert(1)&gt; &quot;Eve&quot;</span>"
    )


def test_links_never_carry_a_quote_out_of_the_attribute() -> None:
    html = markup.render('https://a.example/x"><script>', names={})

    assert html == (
        '<a href="https://a.example/x" target="_blank" rel="noopener noreferrer nofollow">'
        "https://a.example/x</a>&quot;&gt;&lt;script&gt;"
    )


def test_clean_drops_control_characters_and_trims() -> None:
    assert markup.clean(" \x00hi\r\nthere\x07 ") == "hi\nthere"


def test_emoji_codes_come_from_the_shared_table() -> None:
    assert markup.is_emoji_code("tada") is True
    assert markup.is_emoji_code("<script>") is False
    assert markup.emoji_table()["thumbsup"] == "👍"
