"""/api/v1/me/: the signed-in user's profile and memberships."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import AccountType, User
from accounts.roles import Role
from accounts.tests.conftest import Org
from accounts.tests.factories import MembershipFactory, OrganizationFactory, UserFactory
from accounts.tests.helpers import assert_error, audit_row, audit_rows, rows

pytestmark = pytest.mark.django_db

ME_URL = "/api/v1/me/"
ClientFor = Callable[[User | None], APIClient]
# What a new account still has to do before each gated action (accounts.policies).
UNVERIFIED_MISSING = {
    "buy_tokens": ["email_verified", "phone_verified"],
    "start_call": ["email_verified", "phone_verified"],
    "join_queue": ["email_verified", "phone_verified"],
    "withdraw": ["phone_verified", "kyc_approved"],
}


@pytest.fixture
def ana() -> User:
    return UserFactory(
        email="ana@example.com",
        display_name="Ana",
        phone="+5511912345678",
        language="pt-br",
        time_zone="America/Sao_Paulo",
    )


def me_payload(
    user: User, memberships: list[dict[str, Any]] | None = None, **changes: Any
) -> dict[str, Any]:
    return {
        "id": user.pk,
        "email": user.email,
        "display_name": user.display_name,
        "phone": str(user.phone) if user.phone else "",
        "language": user.language,
        "time_zone": user.time_zone,
        "avatar_url": None,
        "account_type": user.account_type,
        "active_organization_id": user.active_organization_id,
        "email_verified": user.email_verified_at is not None,
        "phone_verified": user.phone_verified_at is not None and bool(user.phone),
        "email_undeliverable": user.email_undeliverable_at is not None,
        "missing": UNVERIFIED_MISSING,
        "is_staff": user.is_staff,
        "memberships": memberships or [],
        **changes,
    }


def test_it_shows_my_profile_and_memberships_ordered_by_organization_name(
    client_for: ClientFor, ana: User
) -> None:
    zeta = OrganizationFactory(name="Zeta Clinic", slug="zeta-clinic")
    alpha = OrganizationFactory(name="Alpha School", slug="alpha-school")
    in_zeta = MembershipFactory(user=ana, organization=zeta, role=Role.VIEWER)
    in_alpha = MembershipFactory(user=ana, organization=alpha, role=Role.ORG_ADMIN)
    MembershipFactory(organization=alpha, role=Role.AGENT)  # someone else's membership

    response = client_for(ana).get(ME_URL)

    assert response.status_code == 200
    assert response.json() == {
        "id": ana.pk,
        "email": "ana@example.com",
        "display_name": "Ana",
        "phone": "+5511912345678",
        "language": "pt-br",
        "time_zone": "America/Sao_Paulo",
        "avatar_url": None,
        "account_type": "client",
        "active_organization_id": None,
        "email_verified": False,
        "phone_verified": False,
        "email_undeliverable": False,
        "missing": UNVERIFIED_MISSING,
        "is_staff": False,
        "memberships": [
            {
                "id": in_alpha.pk,
                "role": "org_admin",
                "organization": {
                    "id": alpha.pk,
                    "name": "Alpha School",
                    "slug": "alpha-school",
                    "require_two_factor": False,
                },
            },
            {
                "id": in_zeta.pk,
                "role": "viewer",
                "organization": {
                    "id": zeta.pk,
                    "name": "Zeta Clinic",
                    "slug": "zeta-clinic",
                    "require_two_factor": False,
                },
            },
        ],
    }


def test_it_shows_what_verification_has_unlocked(client_for: ClientFor, ana: User) -> None:
    now = timezone.now()
    User.objects.filter(pk=ana.pk).update(
        email_verified_at=now,
        phone_verified_at=now,
        account_type=AccountType.PROFESSIONAL,
        email_undeliverable_at=now,
        email_undeliverable_reason="bounce",
    )

    response = client_for(ana).get(ME_URL)

    assert response.status_code == 200
    body = response.json()
    assert {
        key: body[key]
        for key in (
            "account_type",
            "email_verified",
            "phone_verified",
            "email_undeliverable",
            "missing",
        )
    } == {
        "account_type": "professional",
        "email_verified": True,
        "phone_verified": True,
        "email_undeliverable": True,
        "missing": {
            "buy_tokens": [],
            "start_call": [],
            "join_queue": [],
            "withdraw": ["kyc_approved"],
        },
    }


def test_a_verified_email_with_an_unverified_phone_still_misses_the_phone(
    client_for: ClientFor, ana: User
) -> None:
    User.objects.filter(pk=ana.pk).update(email_verified_at=timezone.now())

    response = client_for(ana).get(ME_URL)

    assert response.status_code == 200
    assert (response.json()["email_verified"], response.json()["phone_verified"]) == (True, False)
    assert response.json()["missing"] == {
        "buy_tokens": ["phone_verified"],
        "start_call": ["phone_verified"],
        "join_queue": ["phone_verified"],
        "withdraw": ["phone_verified", "kyc_approved"],
    }


def test_it_updates_every_profile_field(client_for: ClientFor, ana: User) -> None:
    response = client_for(ana).patch(
        ME_URL,
        {"display_name": "Ana Souza", "language": "en", "time_zone": "Europe/Lisbon"},
        format="json",
    )

    assert response.status_code == 200
    assert response.json() == me_payload(
        ana, display_name="Ana Souza", language="en", time_zone="Europe/Lisbon"
    )
    ana.refresh_from_db()
    assert (ana.display_name, str(ana.phone), ana.language, ana.time_zone) == (
        "Ana Souza",
        "+5511912345678",
        "en",
        "Europe/Lisbon",
    )


# The phone changes only through a code sent to the new number (accounts.verification), so
# PATCH /me refuses it like any other field it does not know, whatever the value.
@pytest.mark.parametrize("phone", ["+5511987654321", "11987654321", ""])
def test_the_phone_cannot_be_changed_through_the_profile(
    client_for: ClientFor, ana: User, phone: str
) -> None:
    before = rows(User)

    response = client_for(ana).patch(
        ME_URL, {"display_name": "Ana Souza", "phone": phone}, format="json"
    )

    assert_error(response, 400, "validation_error", {"fields": {"phone": ["Unknown field."]}})
    assert rows(User) == before


def test_a_patch_changes_only_the_fields_it_names(client_for: ClientFor, ana: User) -> None:
    response = client_for(ana).patch(ME_URL, {"display_name": "Ana Souza"}, format="json")

    assert response.status_code == 200
    ana.refresh_from_db()
    assert (ana.display_name, str(ana.phone), ana.language, ana.time_zone) == (
        "Ana Souza",
        "+5511912345678",
        "pt-br",
        "America/Sao_Paulo",
    )


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"phone": "12345"}, {"phone": ["Unknown field."]}),
        ({"time_zone": "Mars/Base"}, {"time_zone": ["Mars/Base is not a known time zone."]}),
        ({"language": "fr"}, {"language": ['"fr" is not a valid choice.']}),
        (
            {"display_name": "x" * 151},
            {"display_name": ["Ensure this field has no more than 150 characters."]},
        ),
        ({"rol": "x"}, {"rol": ["Unknown field."]}),
        ({"is_staff": True}, {"is_staff": ["Unknown field."]}),
        ({"email": "other@example.com"}, {"email": ["Unknown field."]}),
        ({"email_verified": True}, {"email_verified": ["Unknown field."]}),
        ({"account_type": "professional"}, {"account_type": ["Unknown field."]}),
        (
            {"display_name": "Fine", "time_zone": "Mars/Base"},
            {"time_zone": ["Mars/Base is not a known time zone."]},
        ),
    ],
    ids=[
        "phone",
        "time_zone",
        "language",
        "long_name",
        "unknown",
        "is_staff",
        "email",
        "email_verified",
        "account_type",
        "mixed",
    ],
)
def test_it_refuses_an_invalid_profile_and_changes_nothing(
    client_for: ClientFor, ana: User, data: dict[str, Any], fields: dict[str, list[str]]
) -> None:
    before = rows(User)

    response = client_for(ana).patch(ME_URL, data, format="json")

    assert_error(response, 400, "validation_error", {"fields": fields})
    assert rows(User) == before


def test_an_anonymous_visitor_has_no_profile(client_for: ClientFor) -> None:
    assert_error(client_for(None).get(ME_URL), 401, "not_authenticated")


def test_an_anonymous_visitor_cannot_patch_a_profile(client_for: ClientFor, ana: User) -> None:
    before = rows(User)

    response = client_for(None).patch(ME_URL, {"display_name": "X"}, format="json")

    assert_error(response, 401, "not_authenticated")
    assert rows(User) == before


def test_the_profile_cannot_be_deleted_through_the_api(client_for: ClientFor, ana: User) -> None:
    response = client_for(ana).delete(ME_URL)

    assert_error(response, 405, "method_not_allowed")
    assert User.objects.filter(pk=ana.pk).exists()


def test_it_refuses_malformed_json(client_for: ClientFor, ana: User) -> None:
    before = rows(User)

    response = client_for(ana).patch(ME_URL, '{"display_name": ', content_type="application/json")

    assert_error(response, 400, "parse_error")
    assert rows(User) == before


def test_it_refuses_a_json_body_that_is_not_an_object(client_for: ClientFor, ana: User) -> None:
    before = rows(User)

    response = client_for(ana).patch(ME_URL, "[1, 2]", content_type="application/json")

    assert_error(
        response,
        400,
        "validation_error",
        {"fields": {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}},
    )
    assert rows(User) == before


def test_it_refuses_a_body_over_the_upload_limit(
    client_for: ClientFor, ana: User, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    before = rows(User)

    response = client_for(ana).patch(
        ME_URL, json.dumps({"display_name": "x" * 120}), content_type="application/json"
    )

    assert_error(response, 413, "request_too_large")
    assert rows(User) == before


def test_a_body_just_under_the_upload_limit_is_accepted(
    client_for: ClientFor, ana: User, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    body = json.dumps({"display_name": "x" * 70})
    assert len(body) <= 100

    response = client_for(ana).patch(ME_URL, body, content_type="application/json")

    assert response.status_code == 200
    assert response.json()["display_name"] == "x" * 70


def test_it_refuses_a_plain_text_body(client_for: ClientFor, ana: User) -> None:
    before = rows(User)

    response = client_for(ana).patch(ME_URL, "display_name=X", content_type="text/plain")

    assert_error(response, 415, "unsupported_media_type")
    assert rows(User) == before


def test_a_user_who_chose_english_gets_english_messages_whatever_the_browser_says() -> None:
    user = UserFactory(language="en")
    client = Client(HTTP_ACCEPT_LANGUAGE="pt-BR")
    client.force_login(user)

    response = client.delete(ME_URL)

    assert_error(response, 405, "method_not_allowed")
    assert response.json()["message"] == 'Method "DELETE" not allowed.'
    assert response["Content-Language"] == "en"


def test_a_user_who_chose_portuguese_gets_portuguese_messages_whatever_the_browser_says() -> None:
    user = UserFactory(language="pt-br")
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)

    response = client.delete(ME_URL)

    assert_error(response, 405, "method_not_allowed")
    assert response.json()["message"] == 'Método "DELETE" não é permitido.'
    assert response["Content-Language"] == "pt-br"


def test_changing_my_language_answers_in_the_new_language_from_the_next_request() -> None:
    user = UserFactory(language="pt-br")
    client = Client()
    client.force_login(user)

    changed = client.patch(ME_URL, json.dumps({"language": "en"}), content_type="application/json")
    refused = client.patch(ME_URL, json.dumps({"language": "fr"}), content_type="application/json")

    assert changed.status_code == 200
    assert_error(
        refused, 400, "validation_error", {"fields": {"language": ['"fr" is not a valid choice.']}}
    )


def test_an_anonymous_visitor_gets_the_language_the_browser_asks_for() -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(ME_URL)

    assert_error(response, 401, "not_authenticated")
    assert response.json()["message"] == "Authentication credentials were not provided."


def test_the_memberships_shown_are_mine_only(
    client_for: ClientFor, org: Org, other_org: Org
) -> None:
    response = client_for(org.agent.user).get(ME_URL)

    assert response.status_code == 200
    assert response.json()["memberships"] == [
        {
            "id": org.agent.pk,
            "role": "agent",
            "organization": {
                "id": org.organization.pk,
                "name": org.organization.name,
                "slug": org.organization.slug,
                "require_two_factor": False,
            },
        }
    ]


def test_an_api_client_gets_messages_in_its_profile_language(api_client: APIClient) -> None:
    from rest_framework_simplejwt.tokens import AccessToken

    user = UserFactory(language="en")
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}")

    response = api_client.patch("/api/v1/me/", {"time_zone": "Mars/Base"}, format="json")

    assert response.status_code == 400
    assert response.json()["extra"] == {
        "fields": {"time_zone": ["Mars/Base is not a known time zone."]}
    }


def test_an_api_client_that_asks_for_a_language_gets_that_one(api_client: APIClient) -> None:
    from rest_framework_simplejwt.tokens import AccessToken

    user = UserFactory(language="en")
    api_client.credentials(
        HTTP_AUTHORIZATION=f"Bearer {AccessToken.for_user(user)}", HTTP_ACCEPT_LANGUAGE="pt-br"
    )

    response = api_client.patch("/api/v1/me/", {"time_zone": "Mars/Base"}, format="json")

    assert response.status_code == 400
    assert response.json()["extra"] == {
        "fields": {"time_zone": ["Mars/Base não é um fuso horário conhecido."]}
    }


PROFESSIONAL_URL = "/api/v1/me/professional/"


def test_a_client_becomes_a_professional(client_for: ClientFor, ana: User) -> None:
    response = client_for(ana).post(PROFESSIONAL_URL)

    assert response.status_code == 200
    ana.refresh_from_db()
    assert ana.account_type == AccountType.PROFESSIONAL
    assert response.json() == me_payload(ana, account_type="professional")
    assert audit_rows() == [
        audit_row("accounts.became_professional", actor=ana, target=ana, ip_address="127.0.0.1")
    ]


def test_becoming_a_professional_twice_changes_and_records_nothing_more(
    client_for: ClientFor, ana: User
) -> None:
    client_for(ana).post(PROFESSIONAL_URL)
    before = rows(User)

    response = client_for(ana).post(PROFESSIONAL_URL)

    assert response.status_code == 200
    assert response.json()["account_type"] == "professional"
    assert rows(User) == before
    assert [row["action"] for row in audit_rows()] == ["accounts.became_professional"]


def test_an_anonymous_visitor_cannot_become_a_professional(client_for: ClientFor) -> None:
    response = client_for(None).post(PROFESSIONAL_URL)

    assert_error(response, 401, "not_authenticated")
    assert audit_rows() == []
