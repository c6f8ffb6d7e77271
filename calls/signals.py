"""Signals calls sends for the apps that listen (queueing, gamification, reports).

Each is sent after the transaction that caused it commits (``transaction.on_commit``), with
ids only; listeners enqueue idempotent tasks and never write in the sender's transaction.
"""

from django.dispatch import Signal

# A call reached a final status. kwargs: call_id, status, end_reason.
call_ended = Signal()
# A professional can take the next client: their live call is over (or they came online) and
# no call is in progress. kwargs: professional_id. queueing offers the next turn.
professional_freed = Signal()
# A professional went offline (switch off, or presence gone past CALLS_OFFLINE_AFTER_SECONDS).
# kwargs: professional_id. queueing closes their queue and voids every hold in it.
professional_went_offline = Signal()
