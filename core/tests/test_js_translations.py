"""The web app's strings are all translatable, and all translated to Brazilian Portuguese.

The SPA (static/app/) shows text only through `gettext()` / `ngettext()` from Django's
JavaScript catalog. These tests read the JavaScript source the way `makemessages -d djangojs`
would, and compare it with locale/pt_BR/LC_MESSAGES/djangojs.po, so a string added without a
translation, or built at run time where no catalog can find it, fails the build instead of
showing up in English to a Portuguese speaker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import polib
import pytest

BASE_DIR = Path(__file__).resolve().parents[2]
APP_DIR = BASE_DIR / "static" / "app"
PT_BR_CATALOG = BASE_DIR / "locale" / "pt_BR" / "LC_MESSAGES" / "djangojs.po"
EN_CATALOG = BASE_DIR / "locale" / "en" / "LC_MESSAGES" / "djangojs.po"

# A call of gettext/ngettext itself: not a method (`catalog.gettext(`), not a longer name
# (`pgettext(`), and not the wrapper's own definition in i18n.js (`function gettext(`).
CALL = re.compile(r"(?<![\w.$])(?<!function )(?P<name>n?gettext)\s*\(")
# One JavaScript string literal in single or double quotes, with backslash escapes.
LITERAL = re.compile(r"""\s*(?P<quote>['"])(?P<body>(?:\\.|(?!(?P=quote))[^\\\n])*)(?P=quote)\s*""")
PLACEHOLDER = re.compile(r"%\(\w+\)s")
JS_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", "'": "'", '"': '"'}


@dataclass(frozen=True)
class Message:
    msgid: str
    msgid_plural: str | None
    where: str


def _unescape(body: str) -> str:
    return re.sub(r"\\(.)", lambda match: JS_ESCAPES.get(match.group(1), match.group(1)), body)


def _read_literal(source: str, position: int) -> tuple[str, int] | None:
    """The string literal starting at `position` (after blanks) and where it ends, or None."""
    match = LITERAL.match(source, position)
    if match is None:
        return None
    return _unescape(match.group("body")), match.end()


def _scan(path: Path) -> tuple[list[Message], list[str]]:
    """(messages found, calls whose arguments are not string literals) in one file."""
    source = path.read_text(encoding="utf-8")
    name = path.relative_to(BASE_DIR) if path.is_relative_to(BASE_DIR) else path.name
    messages: list[Message] = []
    bad_calls: list[str] = []
    for call in CALL.finditer(source):
        where = f"{name}:{source.count(chr(10), 0, call.start()) + 1}"
        # gettext(<literal>) or ngettext(<literal>, <literal>, <count>)
        literals: list[str] = []
        position = call.end()
        expected_after = [")"] if call.group("name") == "gettext" else [",", ","]
        for separator in expected_after:
            found = _read_literal(source, position)
            if found is None or source[found[1] : found[1] + 1] != separator:
                break
            literals.append(found[0])
            position = found[1] + 1
        if len(literals) != len(expected_after):
            bad_calls.append(where)
        else:
            plural = literals[1] if len(literals) == 2 else None
            messages.append(Message(literals[0], plural, where))
    return messages, bad_calls


def _scan_app() -> tuple[list[Message], list[str]]:
    messages: list[Message] = []
    bad_calls: list[str] = []
    for path in sorted(APP_DIR.rglob("*.js")):
        found, bad = _scan(path)
        messages.extend(found)
        bad_calls.extend(bad)
    return messages, bad_calls


@pytest.fixture(scope="module")
def app_messages() -> list[Message]:
    messages, _ = _scan_app()
    # Guard against a scanner that silently finds nothing: the app has dozens of strings.
    assert len({m.msgid for m in messages}) >= 50, "the scanner found too few strings in static/app"
    return messages


@pytest.fixture(scope="module")
def portuguese() -> polib.POFile:
    return polib.pofile(str(PT_BR_CATALOG))


def test_every_js_string_has_a_portuguese_translation(
    app_messages: list[Message], portuguese: polib.POFile
) -> None:
    translated = {
        entry.msgid: entry
        for entry in portuguese
        if not entry.obsolete and "fuzzy" not in entry.flags
    }

    missing = []
    for message in app_messages:
        entry = translated.get(message.msgid)
        if entry is None:
            missing.append(f"{message.where}: {message.msgid!r} is not in the catalog")
        elif message.msgid_plural is None and not entry.msgstr:
            missing.append(f"{message.where}: {message.msgid!r} has an empty translation")
        elif message.msgid_plural is not None and (
            entry.msgid_plural != message.msgid_plural
            or sorted(entry.msgstr_plural) != [0, 1]
            or not all(entry.msgstr_plural.values())
        ):
            missing.append(f"{message.where}: {message.msgid!r} needs both plural forms translated")

    assert missing == []


def test_every_js_string_is_in_the_english_catalog(app_messages: list[Message]) -> None:
    english = {
        entry.msgid: entry
        for entry in polib.pofile(str(EN_CATALOG))
        if not entry.obsolete and "fuzzy" not in entry.flags
    }

    # English is a language people choose too: a msgid missing here still shows, but the
    # catalog would silently fall behind the Portuguese one.
    missing = [
        f"{message.where}: {message.msgid!r}"
        for message in app_messages
        if message.msgid not in english
        or not (english[message.msgid].msgstr or all(english[message.msgid].msgstr_plural.values()))
    ]
    assert missing == []


def test_no_js_string_is_built_at_run_time() -> None:
    _, bad_calls = _scan_app()

    # gettext('...') / ngettext('...', '...', n) only: a variable, a concatenation or a
    # template literal cannot be extracted, so it would never be translated.
    assert bad_calls == []


def test_portuguese_translations_keep_the_placeholders_of_the_english_text(
    portuguese: polib.POFile,
) -> None:
    broken = []
    for entry in portuguese:
        expected = sorted(PLACEHOLDER.findall(entry.msgid))
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        for translation in translations:
            if sorted(PLACEHOLDER.findall(translation)) != expected:
                broken.append(f"{entry.msgid!r} -> {translation!r}")

    # interpolate() fills named placeholders: a renamed or missing one shows up raw on screen.
    assert broken == []


def test_catalogs_declare_their_language_and_plural_rule() -> None:
    portuguese = polib.pofile(str(PT_BR_CATALOG)).metadata
    english = polib.pofile(str(EN_CATALOG)).metadata

    assert portuguese["Language"] == "pt_BR"
    assert portuguese["Plural-Forms"] == "nplurals=2; plural=(n > 1);"
    assert portuguese["Content-Type"] == "text/plain; charset=UTF-8"
    assert english["Language"] == "en"
    assert english["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    assert english["Content-Type"] == "text/plain; charset=UTF-8"


def test_scanner_reads_literals_and_rejects_everything_else(tmp_path: Path) -> None:
    source = tmp_path / "sample.js"
    source.write_text(
        "gettext('Don\\'t go');\n"
        'ngettext("%(count)s file", "%(count)s files", count);\n'
        "catalog.gettext(msgid);\n"
        "export function gettext(msgid) {}\n"
        "gettext(label);\n"
        "gettext('Hello, ' + name);\n"
        "gettext(`Hi ${name}`);\n"
        "ngettext(one, 'many', n);\n",
        encoding="utf-8",
    )

    messages, bad_calls = _scan(source)

    assert [(m.msgid, m.msgid_plural) for m in messages] == [
        ("Don't go", None),
        ("%(count)s file", "%(count)s files"),
    ]
    assert [where.rsplit(":", 1)[1] for where in bad_calls] == ["5", "6", "7", "8"]
