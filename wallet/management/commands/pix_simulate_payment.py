"""Sandbox only: pay a PIX charge as the PSP would, through the webhook.

The body is posted to the running platform's webhook URL (``--server``, default SITE_URL),
so the payment takes exactly the path of a real one and the payer's open pages see their
balance change. With ``--local`` (or when nothing answers at that address) the same webhook
code runs in this process instead.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from core.exceptions import ApplicationError
from wallet import services
from wallet.models import PixCharge, PixPaymentSource
from wallet.webhooks import pix_webhook_secret


class Command(BaseCommand):
    help = "Sandbox: simulate the PSP's webhook for a paid PIX charge."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("txid")
        parser.add_argument(
            "--amount", type=int, help="Centavos paid (default: the charged amount)."
        )
        parser.add_argument("--server", default=settings.SITE_URL, help="Where the app runs.")
        parser.add_argument("--local", action="store_true", help="Do not go through HTTP.")

    def handle(self, *args: Any, **options: Any) -> None:
        if not services.simulation_enabled():
            raise CommandError(
                "Payments can only be simulated with the sandbox PSP while developing "
                "(PIX_SANDBOX_SIMULATION)."
            )
        charge = PixCharge.objects.filter(txid=options["txid"]).first()
        if charge is None:
            raise CommandError(f"No charge with txid {options['txid']}.")
        body = services.pix_simulated_webhook_body(charge=charge, amount_centavos=options["amount"])
        if not options["local"] and self._post(options["server"], body):
            return
        try:
            result = services.pix_webhook_process(body=body, source=PixPaymentSource.SIMULATION)
        except ApplicationError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(self.style.SUCCESS(f"recorded in-process: {result.recorded} payment(s)"))

    def _post(self, server: str, body: dict[str, Any]) -> bool:
        if not server.startswith(("http://", "https://")):
            raise CommandError("--server must be an http:// or https:// address.")
        url = f"{server.rstrip('/')}/webhooks/pix/{pix_webhook_secret()}/pix"
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                answer = json.loads(response.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise CommandError(f"the webhook answered {exc.code}: {exc.read().decode()}") from exc
        except (urllib.error.URLError, OSError):
            self.stdout.write(f"nothing answers at {server}; processing in this process")
            return False
        self.stdout.write(self.style.SUCCESS(f"webhook accepted at {server}: {answer}"))
        return True
