"""Inbound webhooks of the accounts app: SendGrid's email event webhook (through anymail)."""

from __future__ import annotations

from typing import Any

from anymail.exceptions import AnymailWebhookValidationFailure
from anymail.webhooks.sendgrid import SendGridTrackingWebhookView


class SendGridTrackingWebhook(SendGridTrackingWebhookView):
    """anymail's SendGrid tracking view, refusing every call until verification is set up.

    anymail would accept unsigned calls (with a warning) when neither the signature key nor a
    basic-auth secret is configured; an open endpoint that can mark addresses undeliverable
    is not acceptable, so this view refuses instead.
    """

    def validate_request(self, request: Any) -> None:
        if self.webhook_verification_key is None and not self.basic_auth:
            raise AnymailWebhookValidationFailure("SendGrid webhook verification is not configured")
