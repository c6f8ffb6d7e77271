"""Register our PIX webhook URL at the PSP (``PUT /v2/webhook/{chave}``)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wallet.providers.pix import PixError
from wallet.services import pix_provider
from wallet.webhooks import pix_webhook_url


class Command(BaseCommand):
    help = "Tell the PSP where to send PIX callbacks (SITE_URL + the secret webhook path)."

    def handle(self, *args: Any, **options: Any) -> None:
        url = pix_webhook_url()
        try:
            pix_provider().register_webhook(url)
        except PixError as exc:
            raise CommandError(f"the PSP refused: {exc}") from exc
        # The URL holds the secret: show only where it points.
        self.stdout.write(
            self.style.SUCCESS(f"webhook registered under {url.split('/webhooks/')[0]}")
        )
