"""Idempotency-Key for money-moving API requests: a retry gets the first answer, never a
second charge.

A view runs its command through ``idempotent_response``::

    return idempotent_response(request, lambda: (201, payload_of(services.topup_create(...))))

1. The key is claimed with a row committed before the work starts (``in_progress``). A second
   request with the same key while the first still runs gets ``wallet.idempotency_in_progress``
   (409) instead of running twice; once the first finished, it gets the stored answer.
2. The same key with another method, path or body is refused (``wallet.idempotency_mismatch``).
3. Only successful answers are stored. A refused request (an error) moved nothing, because
   services are atomic, so its key is released and the client may retry with it.

Services also carry the key down to the ledger (transfer and hold keys are unique), so even a
claim that was lost (a crash between the claim and the answer) cannot move money twice.
Records are purged after ``RETENTION``.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.request import Request
from rest_framework.response import Response

from core.exceptions import ApplicationError
from wallet.ledger import IdempotencyMismatchError
from wallet.models import IdempotencyRecord

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
RETENTION = datetime.timedelta(hours=24)
# A claim older than this with no answer belongs to a request that died; it may be retried.
STALE_CLAIM = datetime.timedelta(minutes=2)


class IdempotencyKeyMissingError(ApplicationError):
    code = "wallet.idempotency_key_required"


class IdempotencyInProgressError(ApplicationError):
    code = "wallet.idempotency_in_progress"
    status_code = 409


def request_key(request: Request) -> str:
    """The request's Idempotency-Key header, validated; raises IdempotencyKeyMissingError."""
    key = (request.headers.get(HEADER) or "").strip()
    if not key:
        raise IdempotencyKeyMissingError(
            _("Send an Idempotency-Key header with every request that moves money.")
        )
    if len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise IdempotencyKeyMissingError(
            _("The Idempotency-Key must be at most 255 printable ASCII characters.")
        )
    return key


def fingerprint(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    raw = f"{request.method}\n{request.path}\n{body}".encode()
    return hashlib.sha256(raw).hexdigest()


def scoped_key(request: Request) -> str:
    """The key as services see it: per user, so two users' keys never collide."""
    return f"api:{request.user.pk}:{request_key(request)}"


def idempotent_response(
    request: Request, run: Callable[[], tuple[int, dict[str, Any]]]
) -> Response:
    """Run ``run`` once per Idempotency-Key and answer every replay with its first result."""
    key = request_key(request)
    print_ = fingerprint(request)
    record = _claim(request, key, print_)
    if record.state == IdempotencyRecord.State.COMPLETED:
        response = Response(record.response_body, status=record.response_status)
        response["Idempotent-Replayed"] = "true"
        return response
    try:
        status_code, body = run()
    except BaseException:
        IdempotencyRecord.objects.filter(pk=record.pk).delete()
        raise
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        state=IdempotencyRecord.State.COMPLETED,
        response_status=status_code,
        response_body=json.loads(json.dumps(body, default=str)),
    )
    return Response(body, status=status_code)


def _claim(request: Request, key: str, print_: str) -> IdempotencyRecord:
    """Insert the claim, or return the record that holds the key (raising when it may not)."""
    user_id: int = request.user.pk  # type: ignore[assignment]  # the view requires sign-in
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(user_id=user_id, key=key, fingerprint=print_)
    except IntegrityError:
        pass
    record = IdempotencyRecord.objects.get(user_id=user_id, key=key)
    if record.fingerprint != print_:
        raise IdempotencyMismatchError(
            _("This Idempotency-Key was already used for a different request.")
        )
    if record.state == IdempotencyRecord.State.COMPLETED:
        return record
    if timezone.now() - record.created_at < STALE_CLAIM:
        raise IdempotencyInProgressError(
            _("A request with this Idempotency-Key is still being processed. Retry shortly.")
        )
    # Take over a claim left by a request that died; the ledger's own keys stop a double move.
    taken = IdempotencyRecord.objects.filter(
        pk=record.pk, state=IdempotencyRecord.State.IN_PROGRESS, created_at=record.created_at
    ).update(created_at=timezone.now())
    if not taken:
        raise IdempotencyInProgressError(
            _("A request with this Idempotency-Key is still being processed. Retry shortly.")
        )
    record.refresh_from_db()
    return record


def purge_expired(*, now: datetime.datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - RETENTION
    deleted, _details = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
