"""The double-entry ledger (accounts, transfers, holds) and what feeds it: PIX top-ups,
payouts and disputes.

Every amount is an integer in the asset's smallest unit (one token, one coin); prices in reais
are integers in centavos. A transfer moves an amount from a debit account to a credit account
and is never changed afterwards (PostgreSQL refuses UPDATE and DELETE on it, migration 0002).
Each account caches its balance and held amount; both change only in the transaction that
writes the transfer or hold, with the accounts locked (``wallet.ledger``), and
``manage.py ledger_check`` recomputes them from the rows to prove it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.models import TimestampedModel
from wallet.pix_keys import PixKeyType, mask_pix_key


class Asset(models.TextChoices):
    TOKEN = "token", _("Tokens")
    COIN = "coin", _("Coins")


class AccountKind(models.TextChoices):
    # Owned by a user: never below zero, counting what is held.
    CLIENT_WALLET = "client_wallet", _("Wallet")
    EARNINGS_PENDING = "earnings_pending", _("Earnings in clearing")
    EARNINGS = "earnings", _("Available earnings")
    COINS = "coins", _("Coins")
    # Owned by the platform or an organization: they are the other side of money entering or
    # leaving the ledger, so they may go negative.
    PIX_CLEARING = "pix_clearing", _("PIX received")
    PAYOUT_CLEARING = "payout_clearing", _("PIX paid out")
    PLATFORM_REVENUE = "platform_revenue", _("Platform revenue")
    DISPUTE_LOSSES = "dispute_losses", _("Dispute losses")
    COIN_ISSUANCE = "coin_issuance", _("Coins issued")


USER_ACCOUNT_KINDS = frozenset(
    {
        AccountKind.CLIENT_WALLET,
        AccountKind.EARNINGS_PENDING,
        AccountKind.EARNINGS,
        AccountKind.COINS,
    }
)


class Account(TimestampedModel):
    """A balance of one asset, owned by a user, an organization or the platform."""

    # "user:12:token:client_wallet", "org:3:coin:coin_issuance", "platform:token:pix_clearing":
    # one portable unique key instead of a constraint over nullable owner columns.
    key = models.CharField(max_length=100, unique=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="wallet_accounts",
    )
    organization = models.ForeignKey(
        "accounts.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="wallet_accounts",
    )
    asset = models.CharField(max_length=10, choices=Asset.choices)
    kind = models.CharField(max_length=30, choices=AccountKind.choices)
    balance = models.BigIntegerField(default=0)
    held = models.BigIntegerField(default=0)
    never_negative = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [
            models.CheckConstraint(condition=Q(held__gte=0), name="wallet_account_held_gte_0"),
            # What is held is still in the balance; what is left must not be negative.
            models.CheckConstraint(
                condition=Q(never_negative=False) | Q(balance__gte=F("held")),
                name="wallet_account_available_gte_0",
            ),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def available(self) -> int:
        return self.balance - self.held


class TransferKind(models.TextChoices):
    TOP_UP = "top_up", _("Top-up")
    CHARGE = "charge", _("Charge")
    QUEUE_FEE = "queue_fee", _("Queue fee")
    RELEASE = "release", _("Earnings released")
    PAYOUT = "payout", _("Withdrawal")
    REFUND = "refund", _("Refund")
    COIN_AWARD = "coin_award", _("Coins awarded")
    ADJUSTMENT = "adjustment", _("Adjustment")


class HoldKind(models.TextChoices):
    CALL_MINIMUM = "call_minimum", _("Call minimum fee")
    QUEUE_FEE = "queue_fee", _("Queue fee")
    PAYOUT = "payout", _("Withdrawal")
    RESERVATION = "reservation", _("Reservation")


class HoldStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    POSTED = "posted", _("Posted")
    VOIDED = "voided", _("Voided")
    EXPIRED = "expired", _("Expired")


class Hold(models.Model):
    """An amount set aside on an account, later posted (in full or in part) or voided, once."""

    debit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="holds")
    asset = models.CharField(max_length=10, choices=Asset.choices)
    amount = models.BigIntegerField()
    posted_amount = models.BigIntegerField(default=0)
    kind = models.CharField(max_length=20, choices=HoldKind.choices)
    status = models.CharField(
        max_length=10, choices=HoldStatus.choices, default=HoldStatus.PENDING, db_index=True
    )
    idempotency_key = models.CharField(max_length=200, unique=True)
    reference = models.CharField(max_length=100, blank=True, db_index=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="wallet_hold_amount_gt_0"),
            models.CheckConstraint(
                condition=Q(posted_amount__gte=0) & Q(posted_amount__lte=F("amount")),
                name="wallet_hold_posted_within_amount",
            ),
            # Only a posted hold has a posted amount, and only a pending one is unresolved.
            models.CheckConstraint(
                condition=Q(status=HoldStatus.POSTED, posted_amount__gt=0)
                | (~Q(status=HoldStatus.POSTED) & Q(posted_amount=0)),
                name="wallet_hold_posted_amount_matches_status",
            ),
            models.CheckConstraint(
                condition=Q(status=HoldStatus.PENDING, resolved_at__isnull=True)
                | (~Q(status=HoldStatus.PENDING) & Q(resolved_at__isnull=False)),
                name="wallet_hold_resolved_when_not_pending",
            ),
        ]

    def __str__(self) -> str:
        return f"hold {self.pk} {self.amount} {self.asset} ({self.status})"


class Transfer(models.Model):
    """One append-only movement of an amount from one account to another."""

    debit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="debits")
    credit_account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="credits")
    asset = models.CharField(max_length=10, choices=Asset.choices)
    amount = models.BigIntegerField()
    kind = models.CharField(max_length=20, choices=TransferKind.choices, db_index=True)
    # Unique: a retried request, task or webhook that would move the same money again finds
    # its transfer already written and moves nothing.
    idempotency_key = models.CharField(max_length=200, unique=True)
    # What the money was for: "call:12", "pix:<txid>", "payout:4", "dispute:3".
    reference = models.CharField(max_length=100, blank=True, db_index=True)
    # Transfers written together (a charge split 85/15) share a batch.
    batch = models.CharField(max_length=200, blank=True)
    hold = models.ForeignKey(
        Hold, on_delete=models.PROTECT, null=True, blank=True, related_name="transfers"
    )
    # The transfer this one releases or reverses (earnings clearing, refunds).
    origin = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="followups"
    )
    # The balances right after this transfer, for statements without a running sum.
    debit_balance_after = models.BigIntegerField()
    credit_balance_after = models.BigIntegerField()
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="wallet_transfer_amount_gt_0"),
            models.CheckConstraint(
                condition=~Q(debit_account=F("credit_account")),
                name="wallet_transfer_distinct_accounts",
            ),
        ]
        indexes = [
            models.Index(fields=("debit_account", "created_at")),
            models.Index(fields=("credit_account", "created_at")),
        ]

    def __str__(self) -> str:
        return f"transfer {self.pk}: {self.amount} {self.asset} {self.kind}"


class LedgerCheckRun(models.Model):
    """The outcome of one ``ledger_check``: shown to staff in the admin."""

    ran_at = models.DateTimeField(default=timezone.now, db_index=True)
    ok = models.BooleanField()
    accounts_checked = models.PositiveIntegerField()
    transfers_checked = models.PositiveBigIntegerField()
    problems = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("ledger check")
        verbose_name_plural = _("ledger checks")
        ordering = ("-ran_at",)

    def __str__(self) -> str:
        return f"ledger check {self.ran_at:%Y-%m-%d %H:%M} {'ok' if self.ok else 'FAILED'}"


class IdempotencyRecord(models.Model):
    """The first answer to a money-moving request, replayed when the same key comes again."""

    class State(models.TextChoices):
        IN_PROGRESS = "in_progress"
        COMPLETED = "completed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="idempotency_records"
    )
    key = models.CharField(max_length=255)
    # SHA-256 of the method, path and canonical body: the same key with another request
    # is refused rather than answered with the wrong result.
    fingerprint = models.CharField(max_length=64)
    state = models.CharField(max_length=12, choices=State.choices, default=State.IN_PROGRESS)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=("user", "key"), name="wallet_idempotency_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"


class TokenPackage(TimestampedModel):
    """A number of tokens sold at a price, as staff set it."""

    name = models.CharField(_("name"), max_length=80)
    tokens = models.PositiveIntegerField(_("tokens"))
    price_centavos = models.PositiveIntegerField(_("price (centavos)"))
    active = models.BooleanField(_("active"), default=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("token package")
        verbose_name_plural = _("token packages")
        ordering = ("position", "tokens")
        constraints = [
            models.CheckConstraint(condition=Q(tokens__gt=0), name="wallet_package_tokens_gt_0"),
            models.CheckConstraint(
                condition=Q(price_centavos__gt=0), name="wallet_package_price_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tokens})"


class PixChargeStatus(models.TextChoices):
    CREATING = "creating", _("Creating")
    PENDING = "pending", _("Waiting for payment")
    PAID = "paid", _("Paid")
    REVIEW = "review", _("Under review")
    EXPIRED = "expired", _("Expired")
    FAILED = "failed", _("Failed")


class PixCharge(TimestampedModel):
    """A PIX charge (cob) for buying tokens: paid once, credited once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="pix_charges"
    )
    txid = models.CharField(max_length=35, unique=True)
    package = models.ForeignKey(
        TokenPackage, on_delete=models.PROTECT, null=True, blank=True, related_name="charges"
    )
    tokens = models.PositiveIntegerField()
    amount_centavos = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10,
        choices=PixChargeStatus.choices,
        default=PixChargeStatus.CREATING,
        db_index=True,
    )
    provider = models.CharField(max_length=20)
    br_code = models.TextField(blank=True)
    location = models.CharField(max_length=200, blank=True)
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    review_reason = models.CharField(max_length=200, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("PIX charge")
        verbose_name_plural = _("PIX charges")
        constraints = [
            models.CheckConstraint(condition=Q(tokens__gt=0), name="wallet_charge_tokens_gt_0"),
            models.CheckConstraint(
                condition=Q(amount_centavos__gt=0), name="wallet_charge_amount_gt_0"
            ),
        ]

    def __str__(self) -> str:
        return self.txid

    @property
    def reference(self) -> str:
        return f"pix:{self.txid}"


class PixPaymentOutcome(models.TextChoices):
    RECEIVED = "received", _("Received")
    CREDITED = "credited", _("Credited")
    REVIEW = "review", _("Needs review")
    CREDITED_BY_STAFF = "credited_by_staff", _("Credited by staff")
    DISMISSED = "dismissed", _("Dismissed by staff")


class PixPaymentSource(models.TextChoices):
    WEBHOOK = "webhook", _("Webhook")
    RECONCILIATION = "reconciliation", _("Reconciliation")
    SIMULATION = "simulation", _("Sandbox simulation")


class PixPayment(models.Model):
    """One PIX received for a charge, recorded once per end-to-end id, however it arrived."""

    end_to_end_id = models.CharField(max_length=40, unique=True)
    charge = models.ForeignKey(PixCharge, on_delete=models.PROTECT, related_name="payments")
    amount_centavos = models.PositiveIntegerField()
    paid_at = models.DateTimeField()
    source = models.CharField(max_length=20, choices=PixPaymentSource.choices)
    outcome = models.CharField(
        max_length=20,
        choices=PixPaymentOutcome.choices,
        default=PixPaymentOutcome.RECEIVED,
        db_index=True,
    )
    review_reason = models.CharField(max_length=200, blank=True)
    transfer = models.OneToOneField(
        Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="pix_payment"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    raw = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("PIX payment")
        verbose_name_plural = _("PIX payments")

    def __str__(self) -> str:
        return self.end_to_end_id


class PayoutStatus(models.TextChoices):
    REQUESTED = "requested", _("Waiting for approval")
    APPROVED = "approved", _("Approved")
    SENDING = "sending", _("Sending")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    REJECTED = "rejected", _("Rejected")


class Payout(TimestampedModel):
    """A professional's withdrawal of earnings to a PIX key, approved by staff."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="payouts"
    )
    amount = models.PositiveBigIntegerField(_("tokens"))
    amount_centavos = models.PositiveBigIntegerField(_("amount (centavos)"))
    pix_key_type = models.CharField(_("PIX key type"), max_length=10, choices=PixKeyType.choices)
    pix_key = models.CharField(_("PIX key"), max_length=77)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=PayoutStatus.choices,
        default=PayoutStatus.REQUESTED,
        db_index=True,
    )
    hold = models.OneToOneField(Hold, on_delete=models.PROTECT, related_name="payout")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(_("rejection reason"), max_length=500, blank=True)
    provider_reference = models.CharField(max_length=40, blank=True)
    end_to_end_id = models.CharField(max_length=40, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("payout")
        verbose_name_plural = _("payouts")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="wallet_payout_amount_gt_0"),
        ]

    def __str__(self) -> str:
        return f"payout {self.pk}"

    @property
    def reference(self) -> str:
        return f"payout:{self.pk}"

    @property
    def masked_key(self) -> str:
        return mask_pix_key(self.pix_key_type, self.pix_key)

    @property
    def provider_id(self) -> str:
        # The PSP's idEnvio: alphanumeric, at most 35 characters, ours and stable on retries.
        return f"ATENDEPAYOUT{self.pk:020d}"


class DisputeStatus(models.TextChoices):
    OPEN = "open", _("Open")
    REJECTED = "rejected", _("Rejected")
    REFUNDED = "refunded", _("Refunded")


class DisputeReason(models.TextChoices):
    NOT_DELIVERED = "not_delivered", _("The call did not happen")
    QUALITY = "quality", _("Poor quality")
    OVERCHARGED = "overcharged", _("Charged more than expected")
    OTHER = "other", _("Other")


class Dispute(TimestampedModel):
    """A client's complaint about a charge, resolved by staff."""

    client = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="disputes"
    )
    reference = models.CharField(_("charge"), max_length=100)
    reason = models.CharField(_("reason"), max_length=20, choices=DisputeReason.choices)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    status = models.CharField(
        _("status"),
        max_length=10,
        choices=DisputeStatus.choices,
        default=DisputeStatus.OPEN,
        db_index=True,
    )
    charged_amount = models.PositiveBigIntegerField(_("charged (tokens)"))
    refunded_amount = models.PositiveBigIntegerField(_("refunded (tokens)"), default=0)
    resolution_note = models.CharField(_("resolution note"), max_length=500, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("dispute")
        verbose_name_plural = _("disputes")
        constraints = [
            # One dispute per charge: a rejected one is final, staff can still refund later.
            models.UniqueConstraint(
                fields=("client", "reference"), name="wallet_dispute_one_per_charge"
            ),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("charged_amount")),
                name="wallet_dispute_refund_within_charge",
            ),
        ]

    def __str__(self) -> str:
        return f"dispute {self.pk}"


def account_key(
    *, kind: str, asset: str, user_id: int | None = None, organization_id: int | None = None
) -> str:
    if user_id is not None:
        return f"user:{user_id}:{asset}:{kind}"
    if organization_id is not None:
        return f"org:{organization_id}:{asset}:{kind}"
    return f"platform:{asset}:{kind}"


def json_metadata(value: dict[str, Any] | None) -> dict[str, Any]:
    return dict(value or {})
