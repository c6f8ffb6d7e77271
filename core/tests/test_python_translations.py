"""The server's own strings (errors, emails, admin labels) are all in Portuguese too."""

from __future__ import annotations

from pathlib import Path

import polib
from django.conf import settings

CATALOG = Path(settings.BASE_DIR) / "locale" / "pt_BR" / "LC_MESSAGES" / "django.po"


def test_every_server_string_has_a_portuguese_translation() -> None:
    catalog = polib.pofile(str(CATALOG))

    untranslated = [entry.msgid for entry in catalog.untranslated_entries()]
    fuzzy = [entry.msgid for entry in catalog if "fuzzy" in entry.flags]

    assert (untranslated, fuzzy) == ([], [])


def test_placeholders_survive_translation() -> None:
    catalog = polib.pofile(str(CATALOG))

    broken = [
        entry.msgid
        for entry in catalog
        if entry.msgstr
        and sorted(_placeholders(entry.msgid)) != sorted(_placeholders(entry.msgstr))
    ]

    assert broken == []


def _placeholders(text: str) -> list[str]:
    import re

    return re.findall(r"%\(\w+\)[sd]", text)
