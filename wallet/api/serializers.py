"""Input and output shapes of the wallet API."""

from __future__ import annotations

from rest_framework import serializers

from core.serializers import InputSerializer
from wallet.models import DisputeReason
from wallet.pix_keys import PixKeyType

# An upper bound far above any real purchase: it keeps absurd numbers out of arithmetic and
# out of the database; the business limits (settings) give the clear error below it.
ABSURD = 10**9


class PackageOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    tokens = serializers.IntegerField()
    price_centavos = serializers.IntegerField()


class CatalogOutput(serializers.Serializer):
    packages = PackageOutput(many=True)
    token_value_centavos = serializers.IntegerField()
    custom_min = serializers.IntegerField()
    custom_max = serializers.IntegerField()
    sandbox = serializers.BooleanField(help_text="The sandbox PSP can simulate payments here.")


class HoldOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    amount = serializers.IntegerField()
    reference = serializers.CharField()
    created_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField(allow_null=True)


class WalletOutput(serializers.Serializer):
    balance = serializers.IntegerField()
    held = serializers.IntegerField()
    available = serializers.IntegerField()
    holds = HoldOutput(many=True)


class TopUpInput(InputSerializer):
    package_id = serializers.IntegerField(required=False, min_value=1, max_value=ABSURD)
    tokens = serializers.IntegerField(required=False, min_value=1, max_value=ABSURD)


class PixChargeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    txid = serializers.CharField()
    status = serializers.CharField()
    tokens = serializers.IntegerField()
    amount_centavos = serializers.IntegerField()
    br_code = serializers.CharField()
    qr_svg = serializers.CharField(help_text="The BR Code as an SVG QR code.")
    expires_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class PixChargeListOutput(serializers.Serializer):
    id = serializers.IntegerField()
    txid = serializers.CharField()
    status = serializers.CharField()
    tokens = serializers.IntegerField()
    amount_centavos = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class SimulatePaymentInput(InputSerializer):
    amount_centavos = serializers.IntegerField(required=False, min_value=1, max_value=ABSURD)


class StatementLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    kind = serializers.CharField()
    reference = serializers.CharField()
    amount = serializers.IntegerField(help_text="Positive in, negative out.")
    balance_after = serializers.IntegerField()


class ReceiptLineOutput(serializers.Serializer):
    id = serializers.IntegerField()
    created_at = serializers.DateTimeField()
    kind = serializers.CharField()
    account = serializers.CharField()
    amount = serializers.IntegerField()


class ReceiptPixOutput(serializers.Serializer):
    txid = serializers.CharField()
    status = serializers.CharField()
    tokens = serializers.IntegerField()
    amount_centavos = serializers.IntegerField()
    paid_at = serializers.DateTimeField(allow_null=True)
    end_to_end_ids = serializers.ListField(child=serializers.CharField())


class ReceiptOutput(serializers.Serializer):
    reference = serializers.CharField()
    issued_to = serializers.CharField()
    lines = ReceiptLineOutput(many=True)
    total = serializers.IntegerField()
    pix = ReceiptPixOutput(allow_null=True)


class EarningsOutput(serializers.Serializer):
    pending = serializers.IntegerField(help_text="In clearing, not withdrawable yet.")
    available = serializers.IntegerField()
    in_withdrawal = serializers.IntegerField()
    withdrawn = serializers.IntegerField()
    token_value_centavos = serializers.IntegerField()
    min_payout = serializers.IntegerField()
    clearing_days = serializers.IntegerField()


class PayoutInput(InputSerializer):
    amount = serializers.IntegerField(min_value=1, max_value=ABSURD)
    pix_key_type = serializers.ChoiceField(choices=PixKeyType.choices)
    pix_key = serializers.CharField(max_length=120)


class PayoutOutput(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.IntegerField()
    amount_centavos = serializers.IntegerField()
    pix_key_type = serializers.CharField()
    pix_key = serializers.CharField(source="masked_key")
    status = serializers.CharField()
    rejection_reason = serializers.CharField()
    failure_reason = serializers.CharField()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)


class DisputeInput(InputSerializer):
    reference = serializers.CharField(max_length=100)
    reason = serializers.ChoiceField(choices=DisputeReason.choices)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class DisputeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    reference = serializers.CharField()
    reason = serializers.CharField()
    description = serializers.CharField()
    status = serializers.CharField()
    charged_amount = serializers.IntegerField()
    refunded_amount = serializers.IntegerField()
    resolution_note = serializers.CharField()
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class DisputableChargeOutput(serializers.Serializer):
    reference = serializers.CharField()
    amount = serializers.IntegerField()
    disputable_until = serializers.DateTimeField()
