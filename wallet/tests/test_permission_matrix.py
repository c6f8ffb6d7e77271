"""Who may use which wallet endpoint, and what nobody may see of another person's money.

Anonymous callers get 401; clients asking for professionals' endpoints get 403; another
person's charge, receipt or dispute answers 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from accounts.tests.helpers import assert_error
from wallet.models import PixCharge
from wallet.tests.helpers import client_for, earn, key, package, professional, verified_client

pytestmark = pytest.mark.django_db

ACTORS = ("anonymous", "client", "unverified", "professional", "staff")


@pytest.fixture
def world() -> dict[str, Any]:
    people = {
        "anonymous": None,
        "client": verified_client(),
        "unverified": verified_client(email_verified_at=None, phone_verified_at=None),
        "professional": professional(),
        "staff": verified_client(is_staff=True),
    }
    return {"people": people, "package": package()}


def call(world: dict[str, Any], actor: str, method: str, url: str, body: Any) -> int:
    user = world["people"][actor]
    client = APIClient() if user is None else client_for(user)
    url = url.format(package=world["package"].pk)
    if method == "get":
        return client.get(url).status_code
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key()).status_code


CPF = {"amount": 20, "pix_key_type": "cpf", "pix_key": "52998224725"}

MATRIX: list[tuple[str, str, Any, tuple[int, ...]]] = [
    # method, url, body, expected status for each actor in ACTORS order
    ("get", "/api/v1/wallet/", None, (401, 200, 200, 200, 200)),
    ("get", "/api/v1/wallet/packages/", None, (401, 200, 200, 200, 200)),
    ("get", "/api/v1/wallet/topups/", None, (401, 200, 200, 200, 200)),
    ("post", "/api/v1/wallet/topups/", {"package_id": "{package}"}, (401, 201, 403, 201, 201)),
    ("get", "/api/v1/wallet/statement/", None, (401, 200, 200, 200, 200)),
    ("get", "/api/v1/wallet/statement/?account=earnings", None, (401, 200, 200, 200, 200)),
    ("get", "/api/v1/wallet/statement/?account=nope", None, (401, 404, 404, 404, 404)),
    ("get", "/api/v1/wallet/statement.csv", None, (401, 200, 200, 200, 200)),
    ("get", "/api/v1/wallet/earnings/", None, (401, 403, 403, 200, 403)),
    ("get", "/api/v1/wallet/payouts/", None, (401, 403, 403, 200, 403)),
    # The professional has no available earnings: the request is allowed but refused.
    ("post", "/api/v1/wallet/payouts/", CPF, (401, 403, 403, 409, 403)),
    ("get", "/api/v1/wallet/disputes/", None, (401, 200, 200, 200, 200)),
    ("get", "/api/v1/wallet/disputes/charges/", None, (401, 200, 200, 200, 200)),
    (
        "post",
        "/api/v1/wallet/disputes/",
        {"reference": "call:1", "reason": "quality"},
        (401, 404, 404, 404, 404),
    ),
    ("get", "/api/v1/wallet/receipts/call:1/", None, (401, 404, 404, 404, 404)),
]


@pytest.mark.parametrize(("method", "url", "body", "expected"), MATRIX)
def test_the_wallet_permission_matrix(
    world: dict[str, Any], method: str, url: str, body: Any, expected: tuple[int, ...]
) -> None:
    if isinstance(body, dict) and body.get("package_id") == "{package}":
        body = {"package_id": world["package"].pk}

    got = tuple(call(world, actor, method, url, body) for actor in ACTORS)

    assert got == expected


def test_anonymous_callers_get_the_error_shape() -> None:
    assert_error(APIClient().get("/api/v1/wallet/"), 401, "not_authenticated")


def test_nobody_reads_another_persons_charge_receipt_or_simulates_their_payment() -> None:
    owner, stranger = verified_client(), verified_client()
    response = client_for(owner).post(
        "/api/v1/wallet/topups/", {"tokens": 20}, format="json", HTTP_IDEMPOTENCY_KEY=key()
    )
    charge = PixCharge.objects.get(pk=response.json()["id"])
    stranger_client = client_for(stranger)

    assert_error(stranger_client.get(f"/api/v1/wallet/topups/{charge.pk}/"), 404, "not_found")
    assert_error(
        stranger_client.get(f"/api/v1/wallet/receipts/pix:{charge.txid}/"), 404, "not_found"
    )
    assert_error(
        stranger_client.post(f"/api/v1/wallet/topups/{charge.pk}/simulate-payment/", {}),
        404,
        "not_found",
    )
    charge.refresh_from_db()
    assert charge.status == "pending"


def test_a_call_receipt_is_the_clients_and_the_professionals_only() -> None:
    client, pro = verified_client(), professional()
    reference = earn(pro, 100, client=client)

    mine = client_for(client).get(f"/api/v1/wallet/receipts/{reference}/")
    theirs = client_for(pro).get(f"/api/v1/wallet/receipts/{reference}/")
    stranger = client_for(verified_client()).get(f"/api/v1/wallet/receipts/{reference}/")

    assert (mine.status_code, mine.json()["total"]) == (200, -100)
    assert (theirs.status_code, theirs.json()["total"]) == (200, 85)
    assert stranger.status_code == 404


def test_a_client_statement_lists_only_their_own_lines_in_constant_queries(
    django_assert_max_num_queries: Any,
) -> None:
    client = verified_client()
    for _ in range(3):
        earn(professional(kyc=False), 10, client=client)
    api = client_for(client)

    with django_assert_max_num_queries(6):
        few = api.get("/api/v1/wallet/statement/")
    for _ in range(10):
        earn(professional(kyc=False), 10, client=client)
    with django_assert_max_num_queries(6):
        many = api.get("/api/v1/wallet/statement/")

    # Each call: a top-up in, then one charge out (its two legs, 85/15, shown as one line).
    assert (len(few.json()["results"]), len(many.json()["results"])) == (6, 26)
    assert [line["amount"] for line in many.json()["results"][:2]] == [-10, 10]
    assert {line["kind"] for line in many.json()["results"]} == {"top_up", "charge"}


def test_the_csv_export_has_one_line_per_charge_oldest_first() -> None:
    client = verified_client()
    reference = earn(professional(kyc=False), 40, client=client)

    response = client_for(client).get("/api/v1/wallet/statement.csv")

    lines = b"".join(response.streaming_content).decode().splitlines()
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert lines[0] == "id,created_at,kind,reference,amount,balance_after"
    assert [line.split(",")[2:] for line in lines[1:]] == [
        ["top_up", "", "40", "40"],
        ["charge", reference, "-40", "0"],
    ]


def test_reading_an_empty_wallet_creates_no_accounts() -> None:
    from wallet.models import Account

    pro = professional(kyc=False)
    api = client_for(pro)

    answers = [
        api.get(url).status_code
        for url in (
            "/api/v1/wallet/",
            "/api/v1/wallet/earnings/",
            "/api/v1/wallet/statement/?account=clearing",
            "/api/v1/wallet/statement.csv",
            "/api/v1/wallet/disputes/charges/",
        )
    ]

    assert answers == [200, 200, 200, 200, 200]
    assert api.get("/api/v1/wallet/").json() == {
        "balance": 0,
        "held": 0,
        "available": 0,
        "holds": [],
    }
    assert Account.objects.filter(user=pro).count() == 0
