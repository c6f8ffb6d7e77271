"""Earnings clearing and withdrawals: request, staff approval or rejection, sending."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.tests.helpers import assert_error, rows
from wallet import payouts
from wallet.checks import ledger_check_run
from wallet.models import Hold, Payout, Transfer
from wallet.providers import sandbox
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


def cleared(user: Any, tokens: int) -> None:
    """Earnings of ``tokens`` past the clearing window, available to withdraw."""
    earn(user, tokens)
    payouts.earnings_release_due(now=timezone.now() + datetime.timedelta(days=8))


def withdraw(user: Any, body: dict[str, Any], idempotency_key: str | None = None) -> Any:
    return client_for(user).post(
        "/api/v1/wallet/payouts/",
        body,
        format="json",
        HTTP_IDEMPOTENCY_KEY=idempotency_key or key(),
    )


def state() -> dict[str, Any]:
    return {"payouts": rows(Payout), "holds": rows(Hold), "transfers": rows(Transfer)}


CPF = {"pix_key_type": "cpf", "pix_key": "529.982.247-25"}


def test_earnings_wait_for_the_clearing_window() -> None:
    pro = professional()
    earn(pro, 100)

    assert payouts.earnings_release_due(now=timezone.now() + datetime.timedelta(days=6)) == 0
    assert (balance(pro, "earnings_pending"), balance(pro, "earnings")) == ((85, 0), (0, 0))

    assert payouts.earnings_release_due(now=timezone.now() + datetime.timedelta(days=8)) == 1
    assert (balance(pro, "earnings_pending"), balance(pro, "earnings")) == ((0, 0), (85, 0))
    # Released once: a second run finds nothing.
    assert payouts.earnings_release_due(now=timezone.now() + datetime.timedelta(days=9)) == 0
    assert ledger_check_run().ok


def test_the_earnings_summary_shows_each_stage() -> None:
    pro = professional()
    cleared(pro, 100)
    earn(pro, 20)
    withdraw(pro, {"amount": 30, **CPF})

    response = client_for(pro).get("/api/v1/wallet/earnings/")

    assert response.json() == {
        "pending": 17,
        "available": 55,
        "in_withdrawal": 30,
        "withdrawn": 0,
        "token_value_centavos": 100,
        "min_payout": 20,
        "clearing_days": 7,
    }


def test_a_withdrawal_holds_the_amount_until_staff_decide() -> None:
    pro = professional()
    cleared(pro, 100)

    response = withdraw(pro, {"amount": 50, **CPF})

    assert response.status_code == 201
    payout = Payout.objects.get()
    assert response.json() == {
        "id": payout.pk,
        "amount": 50,
        "amount_centavos": 5000,
        "pix_key_type": "cpf",
        "pix_key": "***.982.247-**",
        "status": "requested",
        "rejection_reason": "",
        "failure_reason": "",
        "created_at": response.json()["created_at"],
        "completed_at": None,
    }
    assert payout.pix_key == "52998224725"
    assert balance(pro, "earnings") == (85, 50)
    assert AuditEvent.objects.filter(action="wallet.payout_requested", actor=pro).count() == 1


def test_a_withdrawal_above_the_available_balance_is_refused() -> None:
    pro = professional()
    cleared(pro, 100)
    before = state()

    response = withdraw(pro, {"amount": 86, **CPF})

    assert_error(
        response, 409, "wallet.insufficient_funds", {"account": "earnings", "shortfall": 1}
    )
    assert state() == before


def test_earnings_in_clearing_cannot_be_withdrawn() -> None:
    pro = professional()
    earn(pro, 100)

    response = withdraw(pro, {"amount": 50, **CPF})

    assert response.status_code == 409
    assert Payout.objects.count() == 0


def test_a_withdrawal_without_kyc_is_refused() -> None:
    pro = professional(kyc=False)
    cleared(pro, 100)
    before = state()

    response = withdraw(pro, {"amount": 50, **CPF})

    assert_error(
        response,
        403,
        "accounts.kyc_not_approved",
        {"action": "withdraw", "missing": ["kyc_approved"]},
    )
    assert state() == before


def test_a_withdrawal_without_a_verified_phone_is_refused() -> None:
    pro = professional(phone_verified_at=None)
    cleared(pro, 100)

    response = withdraw(pro, {"amount": 50, **CPF})

    assert response.status_code == 403
    assert response.json()["code"] == "accounts.phone_not_verified"
    assert Payout.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "code", "extra"),
    [
        (
            {"amount": 50, "pix_key_type": "cpf", "pix_key": "111.111.111-11"},
            "wallet.invalid_payout",
            {"field": "pix_key"},
        ),
        (
            {"amount": 50, "pix_key_type": "email", "pix_key": "not-an-email"},
            "wallet.invalid_payout",
            {"field": "pix_key"},
        ),
        ({"amount": 19, **CPF}, "wallet.invalid_payout", {"min": 20}),
    ],
)
def test_bad_withdrawals_are_refused(
    body: dict[str, Any], code: str, extra: dict[str, Any]
) -> None:
    pro = professional()
    cleared(pro, 100)
    before = state()

    assert_error(withdraw(pro, body), 400, code, extra)
    assert state() == before


@pytest.mark.parametrize("amount", [0, -10, 10**12, "many"])
def test_absurd_withdrawal_amounts_are_refused_at_the_edge(amount: Any) -> None:
    pro = professional()
    cleared(pro, 100)

    response = withdraw(pro, {"amount": amount, **CPF})

    assert response.status_code == 400
    assert list(response.json()["extra"]["fields"]) == ["amount"]


def test_a_replayed_withdrawal_is_held_once() -> None:
    pro = professional()
    cleared(pro, 100)

    first = withdraw(pro, {"amount": 30, **CPF}, "same")
    again = withdraw(pro, {"amount": 30, **CPF}, "same")

    assert again.json() == first.json()
    assert Payout.objects.count() == 1
    assert balance(pro, "earnings") == (85, 30)


def test_clients_have_no_earnings() -> None:
    user = verified_client()

    assert_error(client_for(user).get("/api/v1/wallet/earnings/"), 403, "permission_denied")
    assert_error(withdraw(user, {"amount": 30, **CPF}), 403, "permission_denied")


# --- Staff decide in the admin --------------------------------------------------------------


def admin(*, permission: bool = True) -> tuple[Any, Any]:
    return staff_browser("view_payout", "change_payout") if permission else staff_browser()


def requested_payout(tokens: int = 50, **key_fields: str) -> Payout:
    pro = professional()
    cleared(pro, 100)
    assert withdraw(pro, {"amount": tokens, **(key_fields or CPF)}).status_code == 201
    return Payout.objects.get(user=pro)


def test_staff_approve_a_payout_and_the_pix_is_sent() -> None:
    payout = requested_payout(50)
    staff, browser = admin()

    with committed():
        response = browser.post(
            "/admin/wallet/payout/",
            {"action": "approve_selected", "_selected_action": [payout.pk]},
        )

    assert response.status_code == 302
    payout.refresh_from_db()
    assert (payout.status, payout.reviewed_by, len(payout.end_to_end_id)) == ("paid", staff, 32)
    assert balance(payout.user, "earnings") == (35, 0)
    assert platform_balance("payout_clearing") == 50
    assert [(p.payout_id, p.amount_centavos) for p in sandbox.sent()] == [
        (payout.provider_id, 5000)
    ]
    assert [m.subject for m in mail.outbox] == ["Your withdrawal was sent"]
    assert list(
        AuditEvent.objects.filter(target_id=str(payout.pk))
        .order_by("pk")
        .values_list("action", flat=True)
    ) == ["wallet.payout_requested", "wallet.payout_approved", "wallet.payout_paid"]
    assert ledger_check_run().ok


def test_staff_reject_payouts_in_bulk_with_a_reason() -> None:
    first, second = requested_payout(30), requested_payout(40)
    staff, browser = admin()
    selected = {"action": "reject_selected", "_selected_action": [first.pk, second.pk]}

    form = browser.post("/admin/wallet/payout/", selected)
    with committed():
        done = browser.post(
            "/admin/wallet/payout/",
            {**selected, "confirm": "yes", "reason": "Chave de outra pessoa"},
        )

    assert (form.status_code, done.status_code) == (200, 302)
    assert b"Reason shown to the professional" in form.content
    for payout in (first, second):
        payout.refresh_from_db()
        assert (payout.status, payout.rejection_reason) == ("rejected", "Chave de outra pessoa")
        assert balance(payout.user, "earnings") == (85, 0)
    assert [m.subject for m in mail.outbox] == ["Your withdrawal was not approved"] * 2
    assert AuditEvent.objects.filter(action="wallet.payout_rejected", actor=staff).count() == 2


def test_a_payout_the_psp_refuses_goes_back_to_the_professional() -> None:
    payout = requested_payout(50, pix_key_type="email", pix_key="falha@sandbox.invalid")
    staff, _browser = admin()

    with committed():
        payouts.payout_approve(payout=payout, actor=staff)

    payout.refresh_from_db()
    assert payout.status == "failed"
    assert payout.failure_reason != ""
    assert balance(payout.user, "earnings") == (85, 0)
    assert platform_balance("payout_clearing") == 0
    assert [m.subject for m in mail.outbox] == ["Your withdrawal could not be sent"]


def test_a_decided_payout_cannot_be_decided_again() -> None:
    payout = requested_payout(50)
    staff, _browser = admin()
    with committed():
        payouts.payout_approve(payout=payout, actor=staff)
    before = state()

    with pytest.raises(payouts.PayoutNotAllowedError):
        payouts.payout_reject(payout=payout, actor=staff, reason="late")
    with pytest.raises(payouts.PayoutNotAllowedError):
        payouts.payout_approve(payout=payout, actor=staff)
    assert state() == before


def test_sending_twice_sends_once() -> None:
    payout = requested_payout(50)
    staff, _browser = admin()
    with committed():
        payouts.payout_approve(payout=payout, actor=staff)

    payouts.payout_send(payout_id=payout.pk)

    assert len(sandbox.sent()) == 1
    assert Transfer.objects.filter(kind="payout").count() == 1


def test_staff_without_the_payout_permission_cannot_act() -> None:
    payout = requested_payout(50)
    _staff, browser = admin(permission=False)

    response = browser.post(
        "/admin/wallet/payout/", {"action": "approve_selected", "_selected_action": [payout.pk]}
    )

    assert response.status_code == 403
    payout.refresh_from_db()
    assert payout.status == "requested"
