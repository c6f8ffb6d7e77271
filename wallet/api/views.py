"""Wallet API: balances, buying tokens with PIX, statements, receipts, withdrawals, disputes.

Every request that moves money (a top-up, a withdrawal, a dispute) needs an Idempotency-Key
header and is answered through ``wallet.idempotency``: a retry gets the first answer.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

import qrcode
from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from qrcode.image.svg import SvgPathImage
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api.views import signed_in_user
from core.pagination import FeedCursorPagination, PagePagination
from wallet import disputes, payouts, selectors, services
from wallet.api import serializers
from wallet.api.permissions import IsProfessional
from wallet.idempotency import idempotent_response, scoped_key
from wallet.models import PixCharge

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="A unique key per operation; a retry with the same key gets the first answer.",
)


def _charge_payload(charge: PixCharge) -> dict[str, Any]:
    qr_svg = (
        qrcode.make(charge.br_code, image_factory=SvgPathImage).to_string(encoding="unicode")
        if charge.br_code
        else ""
    )
    return dict(
        serializers.PixChargeOutput(
            {
                "id": charge.pk,
                "txid": charge.txid,
                "status": charge.status,
                "tokens": charge.tokens,
                "amount_centavos": charge.amount_centavos,
                "br_code": charge.br_code,
                "qr_svg": qr_svg,
                "expires_at": charge.expires_at,
                "paid_at": charge.paid_at,
                "created_at": charge.created_at,
            }
        ).data
    )


class WalletApi(APIView):
    """The signed-in user's token balance and what is held of it."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=serializers.WalletOutput, summary="My wallet")
    def get(self, request: Request) -> Response:
        overview = selectors.wallet_overview(user=signed_in_user(request))
        return Response(serializers.WalletOutput(overview).data)


class PackageListApi(APIView):
    """What can be bought: the packages on sale and the limits of a custom amount."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=serializers.CatalogOutput, summary="Token packages")
    def get(self, request: Request) -> Response:
        return Response(serializers.CatalogOutput(selectors.topup_catalog()).data)


class TopUpApi(APIView):
    """Buy tokens: create a PIX charge and get its BR Code; list my charges."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        parameters=[IDEMPOTENCY_HEADER],
        request=serializers.TopUpInput,
        responses={201: serializers.PixChargeOutput},
        summary="Buy tokens with PIX",
    )
    def post(self, request: Request) -> Response:
        data = serializers.TopUpInput(data=request.data)
        data.is_valid(raise_exception=True)

        def run() -> tuple[int, dict[str, Any]]:
            charge = services.topup_create(user=signed_in_user(request), **data.validated_data)
            return status.HTTP_201_CREATED, _charge_payload(charge)

        return idempotent_response(request, run)

    @extend_schema(responses=serializers.PixChargeListOutput(many=True), summary="My PIX charges")
    def get(self, request: Request) -> Response:
        paginator = PagePagination()
        page = paginator.paginate_queryset(
            selectors.pix_charges_for_user(user=signed_in_user(request)), request, view=self
        )
        return paginator.get_paginated_response(
            serializers.PixChargeListOutput(page, many=True).data
        )


class TopUpDetailApi(APIView):
    """One of my PIX charges, with its BR Code: what the payment screen polls."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=serializers.PixChargeOutput, summary="A PIX charge")
    def get(self, request: Request, charge_id: int) -> Response:
        charge = selectors.pix_charge_get(user=signed_in_user(request), charge_id=charge_id)
        return Response(_charge_payload(charge))


class TopUpSimulatePaymentApi(APIView):
    """Sandbox only: pay one of my charges, through the same code as the PSP's webhook."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        request=serializers.SimulatePaymentInput,
        responses=serializers.PixChargeOutput,
        summary="Simulate a PIX payment (sandbox)",
    )
    def post(self, request: Request, charge_id: int) -> Response:
        if not services.simulation_enabled():
            raise services.SimulationUnavailableError()
        data = serializers.SimulatePaymentInput(data=request.data)
        data.is_valid(raise_exception=True)
        charge = selectors.pix_charge_get(user=signed_in_user(request), charge_id=charge_id)
        services.pix_charge_simulate_payment(charge=charge, **data.validated_data)
        charge.refresh_from_db()
        return Response(_charge_payload(charge))


STATEMENT_PARAMS = [
    OpenApiParameter(
        "account",
        OpenApiTypes.STR,
        enum=list(selectors.STATEMENT_ACCOUNTS),
        description="Which account: wallet (default), earnings, clearing, coins.",
    )
]


class StatementApi(APIView):
    """The history of one of my accounts, newest first, by cursor."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        parameters=STATEMENT_PARAMS,
        responses=serializers.StatementLineOutput(many=True),
        summary="My statement",
    )
    def get(self, request: Request) -> Response:
        account = selectors.statement_account(
            user=signed_in_user(request), account=request.query_params.get("account", "wallet")
        )
        paginator = FeedCursorPagination()
        page = paginator.paginate_queryset(
            selectors.statement_for_account(account=account), request, view=self
        )
        lines = selectors.statement_lines(page or [], account)
        return paginator.get_paginated_response(
            serializers.StatementLineOutput(lines, many=True).data
        )


class StatementExportApi(APIView):
    """The whole history of one of my accounts as CSV."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        parameters=STATEMENT_PARAMS,
        responses={(200, "text/csv"): OpenApiTypes.STR},
        summary="My statement as CSV",
    )
    def get(self, request: Request) -> StreamingHttpResponse:
        name = request.query_params.get("account", "wallet")
        account = selectors.statement_account(user=signed_in_user(request), account=name)
        transfers = selectors.statement_for_account(account=account).order_by("created_at", "pk")

        class Echo:
            def write(self, value: str) -> str:
                return value

        def rows() -> Iterator[str]:
            writer = csv.writer(Echo())
            yield writer.writerow(
                ["id", "created_at", "kind", "reference", "amount", "balance_after"]
            )
            for line in selectors.statement_lines(transfers.iterator(chunk_size=1000), account):
                yield writer.writerow(
                    [
                        line["id"],
                        line["created_at"].isoformat(),
                        line["kind"],
                        line["reference"],
                        line["amount"],
                        line["balance_after"],
                    ]
                )

        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="atende-{name}.csv"'
        return response


class ReceiptApi(APIView):
    """A receipt for one reference (a top-up ``pix:<txid>``, a call ``call:<id>``...)."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=serializers.ReceiptOutput, summary="A receipt")
    def get(self, request: Request, reference: str) -> Response:
        receipt = selectors.receipt_for_user(user=signed_in_user(request), reference=reference)
        return Response(serializers.ReceiptOutput(receipt).data)


class EarningsApi(APIView):
    """A professional's earnings: in clearing, available, being withdrawn, withdrawn."""

    permission_classes = (IsAuthenticated, IsProfessional)

    @extend_schema(responses=serializers.EarningsOutput, summary="My earnings")
    def get(self, request: Request) -> Response:
        summary = selectors.earnings_summary(user=signed_in_user(request))
        return Response(serializers.EarningsOutput(summary).data)


class PayoutApi(APIView):
    """Withdraw earnings to a PIX key (held until staff approve); list my withdrawals."""

    permission_classes = (IsAuthenticated, IsProfessional)

    @extend_schema(
        parameters=[IDEMPOTENCY_HEADER],
        request=serializers.PayoutInput,
        responses={201: serializers.PayoutOutput},
        summary="Withdraw earnings",
    )
    def post(self, request: Request) -> Response:
        data = serializers.PayoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        key = scoped_key(request)

        def run() -> tuple[int, dict[str, Any]]:
            payout = payouts.payout_request(
                user=signed_in_user(request), idempotency_key=key, **data.validated_data
            )
            return status.HTTP_201_CREATED, dict(serializers.PayoutOutput(payout).data)

        return idempotent_response(request, run)

    @extend_schema(responses=serializers.PayoutOutput(many=True), summary="My withdrawals")
    def get(self, request: Request) -> Response:
        paginator = PagePagination()
        page = paginator.paginate_queryset(
            selectors.payouts_for_user(user=signed_in_user(request)), request, view=self
        )
        return paginator.get_paginated_response(serializers.PayoutOutput(page, many=True).data)


class DisputeApi(APIView):
    """Dispute a charge; list my disputes."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        parameters=[IDEMPOTENCY_HEADER],
        request=serializers.DisputeInput,
        responses={201: serializers.DisputeOutput},
        summary="Dispute a charge",
    )
    def post(self, request: Request) -> Response:
        data = serializers.DisputeInput(data=request.data)
        data.is_valid(raise_exception=True)

        def run() -> tuple[int, dict[str, Any]]:
            dispute = disputes.dispute_open(client=signed_in_user(request), **data.validated_data)
            return status.HTTP_201_CREATED, dict(serializers.DisputeOutput(dispute).data)

        return idempotent_response(request, run)

    @extend_schema(responses=serializers.DisputeOutput(many=True), summary="My disputes")
    def get(self, request: Request) -> Response:
        paginator = PagePagination()
        page = paginator.paginate_queryset(
            selectors.disputes_for_user(user=signed_in_user(request)), request, view=self
        )
        return paginator.get_paginated_response(serializers.DisputeOutput(page, many=True).data)


class DisputableChargeApi(APIView):
    """My charges that can still be disputed."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        responses=serializers.DisputableChargeOutput(many=True), summary="Disputable charges"
    )
    def get(self, request: Request) -> Response:
        rows = selectors.disputable_charges(user=signed_in_user(request))
        return Response(serializers.DisputableChargeOutput(rows, many=True).data)
