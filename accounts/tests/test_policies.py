"""What verification unlocks: policies.missing and policies.require for every action and state."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone, translation

from accounts import policies
from accounts.models import User
from accounts.policies import Action
from accounts.tests.factories import UserFactory
from core.exceptions import ApplicationError

NOW = timezone.now()

# Each state is the verification fields of an (unsaved) user.
STATES: dict[str, dict[str, Any]] = {
    "nothing_verified": {"phone": "+5511987654321"},
    "email_verified": {"phone": "+5511987654321", "email_verified_at": NOW},
    "phone_verified": {"phone": "+5511987654321", "phone_verified_at": NOW},
    "both_verified": {
        "phone": "+5511987654321",
        "email_verified_at": NOW,
        "phone_verified_at": NOW,
    },
    # A verification belongs to the number it was made for: no number, nothing verified.
    "both_verified_phone_removed": {
        "phone": "",
        "email_verified_at": NOW,
        "phone_verified_at": NOW,
    },
}

CONTACT_STEPS = {
    "nothing_verified": ["email_verified", "phone_verified"],
    "email_verified": ["phone_verified"],
    "phone_verified": ["email_verified"],
    "both_verified": [],
    "both_verified_phone_removed": ["phone_verified"],
}

ERRORS = {
    "email_verified": ("accounts.email_not_verified", "Verify your email address first."),
    "phone_verified": ("accounts.phone_not_verified", "Verify your phone number first."),
    "kyc_approved": (
        "accounts.kyc_not_approved",
        "Your identity verification (KYC) must be approved first.",
    ),
}

CONTACT_ACTIONS = [Action.BUY_TOKENS, Action.START_CALL, Action.JOIN_QUEUE]

MATRIX = [
    *[
        (state, action, steps)
        for state, steps in CONTACT_STEPS.items()
        for action in CONTACT_ACTIONS
    ],
    # Withdrawals go to the phone's owner after KYC: a verified phone, then an approved KYC.
    *[
        (state, Action.WITHDRAW, [*[s for s in steps if s == "phone_verified"], "kyc_approved"])
        for state, steps in CONTACT_STEPS.items()
    ],
]


def user_in(state: str) -> User:
    return UserFactory.build(language="en", **STATES[state])


def test_every_action_is_in_the_matrix() -> None:
    assert {action for _, action, _ in MATRIX} == set(Action)
    assert set(policies.REQUIREMENTS) == set(Action)


@pytest.mark.parametrize(("state", "action", "steps"), MATRIX)
def test_missing_lists_the_steps_left_in_order(
    state: str, action: Action, steps: list[str]
) -> None:
    assert [str(step) for step in policies.missing(user_in(state), action)] == steps


@pytest.mark.parametrize(("state", "action", "steps"), MATRIX)
def test_require_refuses_with_the_first_missing_step(
    state: str, action: Action, steps: list[str]
) -> None:
    user = user_in(state)

    if not steps:
        assert policies.require(user, action) is None
        return
    with pytest.raises(ApplicationError) as raised, translation.override("en"):
        policies.require(user, action)

    code, message = ERRORS[steps[0]]
    assert (raised.value.code, raised.value.status_code, raised.value.message) == (
        code,
        403,
        message,
    )
    assert raised.value.extra == {"action": str(action), "missing": steps}


def test_an_approved_kyc_unlocks_withdrawals(monkeypatch: pytest.MonkeyPatch) -> None:
    # KYC is not built yet; the selector is the one place that will answer, so it stands in.
    monkeypatch.setattr("accounts.selectors.user_kyc_approved", lambda *, user: True)
    user = user_in("phone_verified")

    assert policies.missing(user, Action.WITHDRAW) == []
    assert policies.require(user, Action.WITHDRAW) is None
    # KYC does not stand in for the contact checks.
    assert [str(step) for step in policies.missing(user, Action.BUY_TOKENS)] == [
        "email_verified",
    ]


@pytest.mark.django_db
def test_nobody_has_an_approved_kyc_yet() -> None:
    user = UserFactory(email_verified_at=NOW, phone="+5511987654321", phone_verified_at=NOW)

    with pytest.raises(ApplicationError) as raised:
        policies.require(user, Action.WITHDRAW)

    assert (raised.value.code, raised.value.extra) == (
        "accounts.kyc_not_approved",
        {"action": "withdraw", "missing": ["kyc_approved"]},
    )
