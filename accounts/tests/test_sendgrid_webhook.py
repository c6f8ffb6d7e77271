"""SendGrid's signed event webhook: verified, idempotent on the event id, marks bounces."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client

from accounts.models import AuditEvent, User
from accounts.tests.factories import UserFactory
from core.models import InboundWebhook

URL = "/webhooks/sendgrid/tracking/"
TIMESTAMP = "1767312000"

pytestmark = pytest.mark.django_db


@pytest.fixture
def signing_key(settings: Any) -> ec.EllipticCurvePrivateKey:
    """A key pair like SendGrid's; the public half configured as SendGrid shows it."""
    private_key = ec.generate_private_key(ec.SECP256R1())
    public_der = private_key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": base64.b64encode(public_der).decode(),
    }
    return private_key


def post_events(
    events: list[dict[str, Any]], key: ec.EllipticCurvePrivateKey | None, *, tamper: bool = False
) -> Any:
    body = json.dumps(events).encode()
    headers = {"X-Twilio-Email-Event-Webhook-Timestamp": TIMESTAMP}
    if key is not None:
        signature = key.sign(TIMESTAMP.encode() + body, ec.ECDSA(hashes.SHA256()))
        headers["X-Twilio-Email-Event-Webhook-Signature"] = base64.b64encode(signature).decode()
    if tamper:
        body = body.replace(b"bounce", b"bounce ")
    return Client().post(URL, body, content_type="application/json", headers=headers)


def bounce(email: str, event_id: str = "evt-1") -> dict[str, Any]:
    return {
        "email": email,
        "event": "bounce",
        "type": "bounce",
        "reason": "550 5.1.1 The email account that you tried to reach does not exist",
        "status": "5.1.1",
        "timestamp": 1767312000,
        "sg_event_id": event_id,
        "sg_message_id": "msg-1",
    }


def test_a_signed_bounce_marks_the_address_undeliverable(
    signing_key: ec.EllipticCurvePrivateKey, django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory(email="ana@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        response = post_events([bounce("ana@example.com")], signing_key)

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email_undeliverable_at is not None
    assert user.email_undeliverable_reason == (
        "550 5.1.1 The email account that you tried to reach does not exist"
    )
    assert list(AuditEvent.objects.values_list("action", "target_id")) == [
        ("accounts.email_undeliverable", str(user.pk))
    ]


def test_a_replayed_event_is_applied_once(
    signing_key: ec.EllipticCurvePrivateKey, django_capture_on_commit_callbacks: Any
) -> None:
    UserFactory(email="ana@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        first = post_events([bounce("ana@example.com")], signing_key)
        second = post_events([bounce("ana@example.com")], signing_key)

    assert (first.status_code, second.status_code) == (200, 200)
    assert InboundWebhook.objects.filter(provider="sendgrid").count() == 1
    assert AuditEvent.objects.count() == 1


def test_a_wrong_signature_is_refused_and_changes_nothing(
    signing_key: ec.EllipticCurvePrivateKey, django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory(email="ana@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        response = post_events([bounce("ana@example.com")], signing_key, tamper=True)

    assert response.status_code == 400
    user.refresh_from_db()
    assert user.email_undeliverable_at is None
    assert InboundWebhook.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_a_signature_from_another_key_is_refused(signing_key: ec.EllipticCurvePrivateKey) -> None:
    UserFactory(email="ana@example.com")

    response = post_events([bounce("ana@example.com")], ec.generate_private_key(ec.SECP256R1()))

    assert response.status_code == 400
    assert User.objects.get(email="ana@example.com").email_undeliverable_at is None


def test_an_unsigned_call_is_refused(signing_key: ec.EllipticCurvePrivateKey) -> None:
    UserFactory(email="ana@example.com")

    response = post_events([bounce("ana@example.com")], None)

    assert response.status_code == 400
    assert InboundWebhook.objects.count() == 0


def test_without_verification_configured_every_call_is_refused(settings: Any) -> None:
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "SENDGRID_TRACKING_WEBHOOK_VERIFICATION_KEY": None,
        "WEBHOOK_SECRET": None,
    }
    UserFactory(email="ana@example.com")

    response = post_events([bounce("ana@example.com")], None)

    assert response.status_code == 400
    assert User.objects.get(email="ana@example.com").email_undeliverable_at is None


def test_delivery_and_open_events_change_nothing(
    signing_key: ec.EllipticCurvePrivateKey, django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory(email="ana@example.com")
    delivered = {**bounce("ana@example.com", "evt-2"), "event": "delivered"}
    opened = {**bounce("ana@example.com", "evt-3"), "event": "open"}

    with django_capture_on_commit_callbacks(execute=True):
        response = post_events([delivered, opened], signing_key)

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.email_undeliverable_at is None
    assert InboundWebhook.objects.count() == 0


def test_a_bounce_for_an_unknown_address_is_recorded_and_touches_no_account(
    signing_key: ec.EllipticCurvePrivateKey, django_capture_on_commit_callbacks: Any
) -> None:
    user = UserFactory(email="ana@example.com")

    with django_capture_on_commit_callbacks(execute=True):
        response = post_events([bounce("nobody@example.com")], signing_key)

    assert response.status_code == 200
    assert InboundWebhook.objects.count() == 1
    user.refresh_from_db()
    assert user.email_undeliverable_at is None
