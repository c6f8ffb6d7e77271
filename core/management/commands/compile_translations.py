"""`manage.py compile_translations`: .po → .mo without GNU gettext installed.

Django's own `compilemessages` needs the `msgfmt` binary, which a fresh machine may lack;
polib does the same job in Python, so `make run` works anywhere Python does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Compile every .po file under LOCALE_PATHS into its .mo file."

    def handle(self, *args: Any, **options: Any) -> None:
        compiled = 0
        for locale_path in settings.LOCALE_PATHS:
            for po_path in sorted(Path(locale_path).glob("*/LC_MESSAGES/*.po")):
                try:
                    catalog = polib.pofile(str(po_path))
                except OSError as exc:
                    raise CommandError(f"{po_path}: {exc}") from exc
                catalog.save_as_mofile(str(po_path.with_suffix(".mo")))
                compiled += 1
        self.stdout.write(f"Compiled {compiled} translation catalogs.")
