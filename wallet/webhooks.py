"""The PSP's PIX webhook: ``POST /webhooks/pix/<secret>/pix``.

The API Pix calls ``<registered webhook url>/pix`` with ``{"pix": [...]}``. We register
``<SITE_URL>/webhooks/pix/<secret>``, so the secret travels in the path of every callback, the
way PSPs document for endpoints that cannot check client certificates themselves (mutual TLS
with the PSP's certificate is terminated at the proxy: see the README). A wrong secret gets
the same 404 as any unknown path. The work is small (recording each payment once); the
crediting runs in a task after commit, so the PSP gets its answer fast.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.exceptions import NotFoundError
from wallet import services


def pix_webhook_secret() -> str:
    """The configured secret, or one derived from SECRET_KEY (stable, unguessable)."""
    if settings.PIX_WEBHOOK_SECRET:
        return str(settings.PIX_WEBHOOK_SECRET)
    return hmac.new(
        settings.SECRET_KEY.encode(), b"wallet.pix.webhook", hashlib.sha256
    ).hexdigest()[:40]


def pix_webhook_url() -> str:
    """The URL to register at the PSP (it appends ``/pix`` to it)."""
    return f"{settings.SITE_URL.rstrip('/')}/webhooks/pix/{pix_webhook_secret()}"


class PixWebhook(APIView):
    """Payments received, as the PSP reports them. Open to the PSP only (secret in the path)."""

    authentication_classes = ()
    permission_classes = (AllowAny,)
    parser_classes = (JSONParser,)
    # The PSP is one caller sending bursts (every PIX of a busy hour); the anonymous rate
    # limit would answer 429 and delay credits. The secret in the path is the gate.
    throttle_classes = ()

    @extend_schema(exclude=True)
    def post(self, request: Request, secret: str) -> Response:
        if not hmac.compare_digest(secret.encode(), pix_webhook_secret().encode()):
            raise NotFoundError()
        result = services.pix_webhook_process(body=request.data)
        return Response(
            {"recorded": result.recorded, "duplicates": result.duplicates},
            status=status.HTTP_200_OK,
        )
