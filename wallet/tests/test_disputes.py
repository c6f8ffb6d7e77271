"""Disputes: opened by clients within the window, resolved by staff in the admin."""

from __future__ import annotations

import datetime
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.tests.helpers import assert_error, rows
from wallet import disputes, ledger, payouts
from wallet.checks import ledger_check_run
from wallet.models import AccountKind, Dispute, Transfer, TransferKind
from wallet.tests.helpers import (
    balance,
    client_for,
    committed,
    earn,
    key,
    platform_balance,
    professional,
    staff_browser,
    verified_client,
)

pytestmark = pytest.mark.django_db


def dispute(user: Any, body: dict[str, Any]) -> Any:
    return client_for(user).post(
        "/api/v1/wallet/disputes/", body, format="json", HTTP_IDEMPOTENCY_KEY=key()
    )


def a_call(amount: int = 100) -> tuple[Any, Any, str]:
    client, pro = verified_client(), professional()
    reference = earn(pro, amount, client=client)
    return client, pro, reference


def test_a_client_disputes_a_recent_charge() -> None:
    client, _pro, reference = a_call(100)

    response = dispute(client, {"reference": reference, "reason": "quality", "description": "Mudo"})

    assert response.status_code == 201
    created = Dispute.objects.get()
    assert response.json() == {
        "id": created.pk,
        "reference": reference,
        "reason": "quality",
        "description": "Mudo",
        "status": "open",
        "charged_amount": 100,
        "refunded_amount": 0,
        "resolution_note": "",
        "created_at": response.json()["created_at"],
        "resolved_at": None,
    }
    assert AuditEvent.objects.filter(action="wallet.dispute_opened", actor=client).count() == 1


def test_the_disputable_charges_are_listed_until_disputed() -> None:
    client, _pro, reference = a_call(100)

    before = client_for(client).get("/api/v1/wallet/disputes/charges/").json()
    dispute(client, {"reference": reference, "reason": "quality"})
    after = client_for(client).get("/api/v1/wallet/disputes/charges/").json()

    charged_at = Transfer.objects.filter(reference=reference).first().created_at
    until = (charged_at + datetime.timedelta(days=7)).astimezone(timezone.get_current_timezone())
    assert (before, after) == (
        [{"reference": reference, "amount": 100, "disputable_until": until.isoformat()}],
        [],
    )


def test_someone_elses_charge_cannot_be_disputed() -> None:
    _client, _pro, reference = a_call(100)

    response = dispute(verified_client(), {"reference": reference, "reason": "quality"})

    assert_error(response, 404, "wallet.charge_not_found")
    assert Dispute.objects.count() == 0


def test_a_top_up_is_not_a_disputable_charge() -> None:
    client = verified_client()
    ledger.ledger_transfer(
        debit=ledger.account_for_platform(kind=AccountKind.PIX_CLEARING),
        credit=ledger.account_for_user(user=client, kind=AccountKind.CLIENT_WALLET),
        amount=10,
        kind=TransferKind.TOP_UP,
        idempotency_key="pix:E1",
        reference="pix:Txid0000000000000000000000000",
    )

    response = dispute(
        client, {"reference": "pix:Txid0000000000000000000000000", "reason": "quality"}
    )

    assert_error(response, 404, "wallet.charge_not_found")
    assert Dispute.objects.count() == 0


def test_a_charge_is_disputed_once() -> None:
    client, _pro, reference = a_call(100)
    dispute(client, {"reference": reference, "reason": "quality"})

    response = dispute(client, {"reference": reference, "reason": "other"})

    assert_error(response, 409, "wallet.dispute_exists")
    assert Dispute.objects.count() == 1


def test_a_charge_past_the_window_cannot_be_disputed() -> None:
    client, _pro, reference = a_call(100)
    later = timezone.now() + datetime.timedelta(days=8)

    with mock.patch("django.utils.timezone.now", return_value=later):
        response = dispute(client, {"reference": reference, "reason": "quality"})

    assert_error(response, 400, "wallet.dispute_window_closed")
    assert Dispute.objects.count() == 0


def test_an_unknown_reason_is_refused_at_the_edge() -> None:
    client, _pro, reference = a_call(100)

    response = dispute(client, {"reference": reference, "reason": "bored"})

    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == ["reason"]


def test_a_full_refund_reverses_both_shares_while_earnings_are_in_clearing() -> None:
    client, pro, reference = a_call(100)
    staff = verified_client(is_staff=True)
    opened = disputes.dispute_open(client=client, reference=reference, reason="quality")

    with committed():
        disputes.dispute_refund(dispute=opened, actor=staff, note="Desculpe")

    assert balance(client) == (100, 0)
    assert balance(pro, "earnings_pending") == (0, 0)
    assert platform_balance("platform_revenue") == 0
    assert platform_balance("dispute_losses") == 0
    opened.refresh_from_db()
    assert (opened.status, opened.refunded_amount, opened.resolved_by) == ("refunded", 100, staff)
    assert [m.subject for m in mail.outbox] == ["Your dispute was accepted"]
    # Nothing in clearing is left to release afterwards.
    assert payouts.earnings_release_due(now=timezone.now() + datetime.timedelta(days=8)) == 0
    assert ledger_check_run().ok


def test_a_partial_refund_keeps_the_rest_with_the_professional() -> None:
    client, pro, reference = a_call(100)
    opened = disputes.dispute_open(client=client, reference=reference, reason="quality")

    disputes.dispute_refund(dispute=opened, actor=verified_client(is_staff=True), amount=40)

    assert balance(client) == (40, 0)
    # 40 * 85 / 100 = 34 back from the professional, 6 from the platform.
    assert balance(pro, "earnings_pending") == (51, 0)
    assert platform_balance("platform_revenue") == 9
    payouts.earnings_release_due(now=timezone.now() + datetime.timedelta(days=8))
    assert balance(pro, "earnings") == (51, 0)
    assert ledger_check_run().ok


def test_when_the_professional_already_withdrew_the_platform_takes_the_loss() -> None:
    client, pro, reference = a_call(100)
    opened = disputes.dispute_open(client=client, reference=reference, reason="not_delivered")
    payouts.earnings_release_due(now=timezone.now() + datetime.timedelta(days=8))
    staff = verified_client(is_staff=True)
    payout = payouts.payout_request(
        user=pro, amount=80, pix_key_type="cpf", pix_key="52998224725", idempotency_key="w"
    )
    with committed():
        payouts.payout_approve(payout=payout, actor=staff)

    disputes.dispute_refund(dispute=opened, actor=staff)

    assert balance(client) == (100, 0)
    assert balance(pro, "earnings") == (0, 0)
    # 85 was the professional's share: 5 were still there, 80 had left with the payout.
    assert platform_balance("dispute_losses") == -80
    assert platform_balance("platform_revenue") == 0
    refund = Transfer.objects.filter(reference=f"dispute:{opened.pk}").order_by("pk")
    assert [(t.debit_account.kind, t.amount) for t in refund] == [
        ("platform_revenue", 15),
        ("earnings", 5),
        ("dispute_losses", 80),
    ]
    assert AuditEvent.objects.get(action="wallet.dispute_refunded").data["from_losses"] == 80
    assert ledger_check_run().ok


def test_a_held_withdrawal_is_not_taken_for_a_refund() -> None:
    client, pro, reference = a_call(100)
    opened = disputes.dispute_open(client=client, reference=reference, reason="quality")
    payouts.earnings_release_due(now=timezone.now() + datetime.timedelta(days=8))
    payouts.payout_request(
        user=pro, amount=80, pix_key_type="cpf", pix_key="52998224725", idempotency_key="w"
    )

    disputes.dispute_refund(dispute=opened, actor=verified_client(is_staff=True))

    assert balance(pro, "earnings") == (80, 80)
    assert platform_balance("dispute_losses") == -80
    assert ledger_check_run().ok


@pytest.mark.parametrize("amount", [0, -1, 101, True])
def test_a_refund_outside_the_charge_is_refused(amount: Any) -> None:
    client, _pro, reference = a_call(100)
    opened = disputes.dispute_open(client=client, reference=reference, reason="quality")
    before = rows(Transfer)

    with pytest.raises(disputes.InvalidRefundError):
        disputes.dispute_refund(dispute=opened, actor=verified_client(is_staff=True), amount=amount)

    assert rows(Transfer) == before
    opened.refresh_from_db()
    assert opened.status == "open"


def test_a_resolved_dispute_cannot_be_resolved_again() -> None:
    client, _pro, reference = a_call(100)
    staff = verified_client(is_staff=True)
    opened = disputes.dispute_open(client=client, reference=reference, reason="quality")
    disputes.dispute_reject(dispute=opened, actor=staff, note="A chamada durou 10 minutos")
    before = rows(Transfer)

    with pytest.raises(disputes.DisputeNotOpenError):
        disputes.dispute_refund(dispute=opened, actor=staff)

    assert rows(Transfer) == before
    assert balance(client) == (0, 0)


# --- Through the admin ----------------------------------------------------------------------


def admin(*, permission: bool = True) -> tuple[Any, Any]:
    return staff_browser("view_dispute", "change_dispute") if permission else staff_browser()


def test_staff_refund_part_of_a_dispute_in_the_admin() -> None:
    client, _pro, reference = a_call(100)
    opened = disputes.dispute_open(client=client, reference=reference, reason="quality")
    staff, browser = admin()
    selected = {"action": "refund_in_part", "_selected_action": [opened.pk]}

    form = browser.post("/admin/wallet/dispute/", selected)
    with committed():
        done = browser.post(
            "/admin/wallet/dispute/",
            {**selected, "confirm": "yes", "amount": "30", "reason": "Metade da chamada"},
        )

    assert (form.status_code, done.status_code) == (200, 302)
    assert b'name="amount"' in form.content
    opened.refresh_from_db()
    assert (opened.status, opened.refunded_amount, opened.resolution_note) == (
        "refunded",
        30,
        "Metade da chamada",
    )
    assert balance(client) == (30, 0)
    assert AuditEvent.objects.filter(action="wallet.dispute_refunded", actor=staff).count() == 1


def test_staff_reject_disputes_in_the_admin() -> None:
    client, _pro, reference = a_call(100)
    opened = disputes.dispute_open(client=client, reference=reference, reason="quality")
    staff, browser = admin()

    with committed():
        browser.post(
            "/admin/wallet/dispute/",
            {"action": "reject_selected", "_selected_action": [opened.pk], "confirm": "yes"},
        )

    opened.refresh_from_db()
    assert (opened.status, opened.resolved_by) == ("rejected", staff)
    assert balance(client) == (0, 0)
    assert [m.subject for m in mail.outbox] == ["Your dispute was not accepted"]


def test_staff_refund_in_full_in_the_admin() -> None:
    client, _pro, reference = a_call(100)
    opened = disputes.dispute_open(client=client, reference=reference, reason="quality")
    _staff, browser = admin()

    browser.post(
        "/admin/wallet/dispute/",
        {"action": "refund_in_full", "_selected_action": [opened.pk], "confirm": "yes"},
    )

    assert balance(client) == (100, 0)
    assert ledger_check_run().ok
