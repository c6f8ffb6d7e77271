"""LGPD: a person downloads their data, and deletes their account (anonymized, not erased)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from allauth.usersessions.models import UserSession
from django.contrib.sessions.models import Session
from django.core.files.base import ContentFile
from django.test import Client
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken

from accounts import privacy, services
from accounts.audit import AuditAction
from accounts.models import (
    AuditEvent,
    Invitation,
    KycSubmission,
    Membership,
    Organization,
    User,
    VerificationCode,
)
from accounts.roles import Role
from accounts.tests.conftest import Org
from accounts.tests.factories import (
    PASSWORD,
    MembershipFactory,
    OrganizationFactory,
    UserFactory,
)
from accounts.tests.helpers import accounts_rows, assert_error, audit_row, audit_rows, rows
from core.logging import ClientInfo, client_var

pytestmark = pytest.mark.django_db

ClientFor = Callable[[User | None], APIClient]

EXPORT_URL = "/api/v1/me/export/"
DELETE_URL = "/api/v1/me/delete/"
TOKEN_URL = "/api/v1/auth/token/"
REFRESH_URL = "/api/v1/auth/token/refresh/"
ME_URL = "/api/v1/me/"
AUTH = "/_allauth/browser/v1"
PHONE = "+5511987654321"
VERIFIED_AT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# One query per kind of data (memberships, invitations, audit events, sessions, API tokens,
# email addresses, verification codes, KYC, change history) plus two for 2FA (one per device
# kind), then the sections other apps register: five for the wallet (accounts, transfers,
# PIX charges, payouts, disputes) and six for chat (settings, messages, reactions,
# attachments, notifications, online days).
EXPORT_QUERIES = 11 + 5 + 6


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def person(**fields: Any) -> User:
    defaults: dict[str, Any] = {
        "email": "ana@example.com",
        "display_name": "Ana",
        "phone": PHONE,
        "email_verified_at": VERIFIED_AT,
        "phone_verified_at": VERIFIED_AT + timedelta(minutes=5),
    }
    return UserFactory(**(defaults | fields))


def everything() -> dict[str, list[dict[str, Any]]]:
    """Every row deleting an account could touch, to show a refusal touched none."""
    return {
        **accounts_rows(),
        "invitations": rows(Invitation),
        "verification_codes": rows(VerificationCode),
        "email_addresses": rows(EmailAddress),
        "sessions": rows(Session),
        "user_sessions": rows(UserSession),
        "outstanding_tokens": rows(OutstandingToken),
        "blacklisted_tokens": rows(BlacklistedToken),
        "totp_devices": rows(TOTPDevice),
        "static_devices": rows(StaticDevice),
        "static_tokens": rows(StaticToken),
        "user_history": list(User.history.order_by("history_id").values()),
    }


def browser_sign_in(email: str, user_agent: str) -> Client:
    browser = Client(HTTP_USER_AGENT=user_agent, HTTP_ACCEPT_LANGUAGE="en")
    response = browser.post(
        f"{AUTH}/auth/login",
        json.dumps({"email": email, "password": PASSWORD}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    return browser


def rejected_kyc(user: User) -> KycSubmission:
    return KycSubmission.objects.create(
        user=user,
        full_name="Ana Maria Souza",
        cpf="52998224725",
        birth_date=date(1990, 5, 17),
        document_front="kyc/front.png",
        document_back="kyc/back.png",
        selfie="kyc/selfie.png",
        status="rejected",
        rejection_reason="The photo is blurred.",
    )


def session_users() -> list[str]:
    return sorted(str(s.get_decoded().get("_auth_user_id")) for s in Session.objects.all())


# --- Export -----------------------------------------------------------------------------------


def test_the_export_holds_everything_about_the_person() -> None:
    ana = person(language="en", time_zone="America/Manaus", account_type="professional")
    services.user_update_profile(user=ana, data={"display_name": "Ana Souza"})
    clinic = OrganizationFactory(name="Clinic")
    MembershipFactory(user=ana, organization=clinic, role=Role.ORG_ADMIN)
    school = OrganizationFactory(name="School")
    carla = MembershipFactory(organization=school, role=Role.ORG_ADMIN).user
    staff = UserFactory(email="staff@atende.example", is_staff=True)
    client_var.set(ClientInfo(ip_address="203.0.113.7", user_agent="Ana's Firefox"))
    sent, _token = services.invitation_create(
        organization=clinic, email="bia@example.com", role=Role.AGENT, actor=ana
    )
    received, _token = services.invitation_create(
        organization=school, email="ana@example.com", role=Role.VIEWER, actor=carla
    )
    services.audit_record(action=AuditAction.SIGN_IN, actor=ana, target=ana)
    client_var.set(ClientInfo(ip_address="198.51.100.9", user_agent="Staff's browser"))
    services.audit_record(
        action=AuditAction.EMAIL_UNDELIVERABLE, actor=staff, target=ana, data={"reason": "x"}
    )
    client_var.set(ClientInfo(ip_address="192.0.2.66", user_agent="curl"))
    services.audit_record(
        action=AuditAction.SIGN_IN_FAILED, actor=None, target=ana, data={"email": ana.email}
    )
    session = UserSession.objects.create(
        user=ana, ip="203.0.113.7", user_agent="Ana's Firefox", session_key="s" * 32
    )
    RefreshToken.for_user(ana)
    TOTPDevice.objects.create(user=ana, name="app", confirmed=True)
    EmailAddress.objects.create(user=ana, email="ana@example.com", verified=True, primary=True)
    code = VerificationCode.objects.create(
        user=ana,
        channel="phone",
        target="+5511911112222",
        code_hash="h" * 64,
        expires_at=VERIFIED_AT + timedelta(days=1),
    )
    kyc = rejected_kyc(ana)
    ana = fresh(ana)
    token = OutstandingToken.objects.get(user=ana)
    membership = Membership.objects.get(user=ana)
    sent.refresh_from_db()
    received.refresh_from_db()
    history = list(User.history.filter(id=ana.pk).order_by("history_id"))
    events = list(AuditEvent.objects.order_by("pk"))
    before = datetime.now(UTC)

    export = privacy.user_data_export(user=ana)

    exported_at = datetime.fromisoformat(export.pop("exported_at"))
    assert before <= exported_at <= datetime.now(UTC)
    # Other apps' sections are proven in their own tests (<app>/tests/test_privacy.py).
    sections = {name: export.pop(name) for name in privacy.export_section_names()}
    assert sorted(sections) == ["chat", "wallet"]
    assert export == {
        "format_version": 1,
        "profile": {
            "id": ana.pk,
            "email": "ana@example.com",
            "display_name": "Ana Souza",
            "phone": PHONE,
            "language": "en",
            "time_zone": "America/Manaus",
            "account_type": "professional",
            "avatar_url": None,
            "email_verified_at": "2026-03-01T12:00:00+00:00",
            "phone_verified_at": "2026-03-01T12:05:00+00:00",
            "email_undeliverable_at": None,
            "email_undeliverable_reason": "",
            "active_organization_id": None,
            "last_login": None,
            "created_at": iso(ana.created_at),
        },
        "memberships": [
            {
                "organization_id": clinic.pk,
                "organization_name": "Clinic",
                "role": "org_admin",
                "since": iso(membership.created_at),
            }
        ],
        "invitations_sent": [
            {
                "organization_id": clinic.pk,
                "organization_name": "Clinic",
                "role": "agent",
                "status": "pending",
                "created_at": iso(sent.created_at),
                "expires_at": iso(sent.expires_at),
                "email": "bia@example.com",
            }
        ],
        "invitations_received": [
            {
                "organization_id": school.pk,
                "organization_name": "School",
                "role": "viewer",
                "status": "pending",
                "created_at": iso(received.created_at),
                "expires_at": iso(received.expires_at),
            }
        ],
        "audit_events": [
            # Carla's invitation targets the invitation, not Ana: it is listed above instead.
            {
                "action": "organizations.invitation_sent",
                "created_at": iso(events[0].created_at),
                "organization_id": clinic.pk,
                "ip_address": "203.0.113.7",
                "user_agent": "Ana's Firefox",
                "data": {"email": "bia@example.com", "role": "agent"},
            },
            {
                "action": "auth.sign_in",
                "created_at": iso(events[2].created_at),
                "organization_id": None,
                "ip_address": "203.0.113.7",
                "user_agent": "Ana's Firefox",
                "data": {},
            },
            # Someone else acted: where they were is theirs, not Ana's.
            {
                "action": "accounts.email_undeliverable",
                "created_at": iso(events[3].created_at),
                "organization_id": None,
                "ip_address": None,
                "user_agent": "",
                "data": {"reason": "x"},
            },
            {
                "action": "auth.sign_in_failed",
                "created_at": iso(events[4].created_at),
                "organization_id": None,
                "ip_address": "192.0.2.66",
                "user_agent": "curl",
                "data": {"email": "ana@example.com"},
            },
        ],
        "sessions": [
            {
                "ip_address": "203.0.113.7",
                "user_agent": "Ana's Firefox",
                "created_at": iso(session.created_at),
                "last_seen_at": iso(session.last_seen_at),
            }
        ],
        "api_tokens": [
            {
                "created_at": iso(token.created_at),
                "expires_at": iso(token.expires_at),
                "revoked": False,
            }
        ],
        "two_factor": {"enabled": True},
        "email_addresses": [{"email": "ana@example.com", "verified": True, "primary": True}],
        "verification_codes": [
            {
                "channel": "phone",
                "target": "+5511911112222",
                "created_at": iso(code.created_at),
                "expires_at": "2026-03-02T12:00:00+00:00",
                "consumed_at": None,
            }
        ],
        "kyc_submissions": [
            {
                "status": "rejected",
                "full_name": "Ana Maria Souza",
                "cpf": "52998224725",
                "birth_date": "1990-05-17",
                "documents": ["document_front", "document_back", "selfie"],
                "rejection_reason": "The photo is blurred.",
                "created_at": iso(kyc.created_at),
                "reviewed_at": None,
            }
        ],
        "profile_history": [
            {
                "changed_at": iso(entry.history_date),
                "change": change,
                "email": "ana@example.com",
                "display_name": name,
                "phone": PHONE,
                "language": "en",
                "time_zone": "America/Manaus",
                "account_type": "professional",
            }
            for entry, change, name in zip(
                history,
                ["created", "changed", "changed"],
                ["Ana", "Ana", "Ana Souza"],
                strict=True,
            )
        ],
    }
    assert json.loads(json.dumps(export)) == export


def test_the_export_holds_no_secret() -> None:
    ana = person()
    organization = OrganizationFactory()
    MembershipFactory(user=ana, organization=organization, role=Role.ORG_ADMIN)
    _invitation, invitation_token = services.invitation_create(
        organization=organization, email="bia@example.com", role=Role.AGENT, actor=ana
    )
    totp = TOTPDevice.objects.create(user=ana, name="app", confirmed=True)
    recovery = StaticDevice.objects.create(user=ana, name="recovery", confirmed=True)
    recovery_codes = [StaticToken.random_token() for _ in range(3)]
    for recovery_code in recovery_codes:
        StaticToken.objects.create(device=recovery, token=recovery_code)
    code = VerificationCode.objects.create(
        user=ana, channel="email", target=ana.email, code_hash="c0de" * 16, expires_at=VERIFIED_AT
    )
    refresh = RefreshToken.for_user(ana)
    UserSession.objects.create(user=ana, ip="203.0.113.7", user_agent="UA", session_key="k" * 32)
    ana = fresh(ana)

    text = json.dumps(privacy.user_data_export(user=ana))

    secrets = [
        ana.password,
        totp.key,
        *recovery_codes,
        code.code_hash,
        invitation_token,
        services.invitation_token_hash(invitation_token),
        str(refresh),
        refresh["jti"],
        "k" * 32,
    ]
    assert [secret for secret in secrets if secret in text] == []
    assert "password" not in text


@pytest.mark.parametrize("count", [1, 5])
def test_the_export_takes_the_same_queries_however_much_there_is(
    count: int, django_assert_num_queries: Any
) -> None:
    ana = person()
    for number in range(count):
        organization = OrganizationFactory()
        MembershipFactory(user=ana, organization=organization, role=Role.ORG_ADMIN)
        services.invitation_create(
            organization=organization, email=f"guest{number}@example.com", role="agent", actor=ana
        )
        services.invitation_create(
            organization=OrganizationFactory(), email=ana.email, role="agent", actor=UserFactory()
        )
        services.audit_record(action=AuditAction.SIGN_IN, actor=ana, target=ana)
        UserSession.objects.create(
            user=ana, ip="203.0.113.7", user_agent="UA", session_key=f"{number}" * 32
        )
        RefreshToken.for_user(ana)
        services.user_update_profile(user=ana, data={"display_name": f"Ana {number}"})
        rejected_kyc(ana)
    ana = fresh(ana)

    with django_assert_num_queries(EXPORT_QUERIES):
        export = privacy.user_data_export(user=ana)

    listed = (
        "memberships",
        "invitations_sent",
        "invitations_received",
        "sessions",
        "api_tokens",
        "kyc_submissions",
    )
    assert {key: len(export[key]) for key in listed} == dict.fromkeys(listed, count)


def test_downloading_my_data_answers_a_json_attachment_and_records_it(
    client_for: ClientFor,
) -> None:
    ana = person()
    MembershipFactory(user=ana, role=Role.AGENT)
    expected = privacy.user_data_export(user=fresh(ana))
    before = audit_rows()

    response = client_for(ana).get(EXPORT_URL)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    body.pop("exported_at")
    expected.pop("exported_at")
    assert body == expected
    assert response["Content-Disposition"] == (
        f'attachment; filename="atende-data-{timezone.localdate().isoformat()}.json"'
    )
    assert audit_rows() == [
        *before,
        audit_row("accounts.data_exported", actor=ana, target=ana, ip_address="127.0.0.1"),
    ]


@pytest.mark.parametrize(
    ("method", "url"), [("get", EXPORT_URL), ("post", DELETE_URL)], ids=["export", "delete"]
)
def test_an_anonymous_client_can_neither_download_nor_delete(
    client_for: ClientFor, method: str, url: str
) -> None:
    ana = person()
    before = everything()

    response = getattr(client_for(None), method)(url, {"password": PASSWORD}, format="json")

    assert_error(response, 401, "not_authenticated")
    assert everything() == before
    assert fresh(ana).is_active is True


# --- Deletion: refusals -------------------------------------------------------------------


def test_it_refuses_a_wrong_password_and_changes_nothing(
    client_for: ClientFor, org: Org, published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    ana = org.agent.user
    RefreshToken.for_user(ana)
    TOTPDevice.objects.create(user=ana, name="app", confirmed=False)
    EmailAddress.objects.create(user=ana, email=ana.email, verified=True, primary=True)
    before = everything()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(ana).post(DELETE_URL, {"password": "not-it"}, format="json")

    assert_error(response, 403, "accounts.reauthentication_failed")
    assert everything() == before
    assert (callbacks, published) == ([], [])


def test_it_refuses_a_request_without_a_password(client_for: ClientFor) -> None:
    ana = person()
    before = everything()

    response = client_for(ana).post(DELETE_URL, {"pasword": PASSWORD}, format="json")

    assert_error(
        response,
        400,
        "validation_error",
        {"fields": {"pasword": ["Unknown field."]}},
    )
    assert everything() == before


def test_the_last_admin_of_organizations_with_other_members_cannot_delete(
    client_for: ClientFor,
    org: Org,
    other_org: Org,
    published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    ana = org.admin.user
    # Another admin remains here, so this one is no obstacle.
    shared = OrganizationFactory()
    MembershipFactory(user=ana, organization=shared, role=Role.ORG_ADMIN)
    MembershipFactory(organization=shared, role=Role.ORG_ADMIN)
    # Only viewers besides Ana: they would be stranded.
    viewers_only = OrganizationFactory()
    MembershipFactory(user=ana, organization=viewers_only, role=Role.ORG_ADMIN)
    MembershipFactory(organization=viewers_only, role=Role.VIEWER)
    before = everything()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client_for(ana).post(DELETE_URL, {"password": PASSWORD}, format="json")

    assert_error(
        response,
        409,
        "accounts.last_org_admin",
        {"organization_ids": sorted([org.organization.pk, viewers_only.pk])},
    )
    assert everything() == before
    assert (callbacks, published) == ([], [])


# --- Deletion: what happens ---------------------------------------------------------------


def test_deleting_anonymizes_the_user_row_exactly(tmp_path: Path, settings: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    ana = person(
        language="en",
        time_zone="America/Manaus",
        account_type="professional",
        email_undeliverable_reason="bounced",
        email_undeliverable_at=VERIFIED_AT,
        last_login=VERIFIED_AT,
    )
    organization = OrganizationFactory()
    MembershipFactory(user=ana, organization=organization, role=Role.AGENT)
    MembershipFactory(organization=organization, role=Role.ORG_ADMIN)
    User.objects.filter(pk=ana.pk).update(active_organization=organization)
    ana = fresh(ana)

    privacy.account_delete(user=ana, password=PASSWORD)

    anonymized = fresh(ana)
    assert User.objects.filter(pk=ana.pk).values(
        "email",
        "display_name",
        "phone",
        "avatar",
        "language",
        "time_zone",
        "account_type",
        "email_verified_at",
        "phone_verified_at",
        "email_undeliverable_at",
        "email_undeliverable_reason",
        "active_organization_id",
        "last_login",
        "is_active",
        "is_staff",
        "is_superuser",
    ).get() == {
        "email": f"deleted-{ana.pk}@deleted.invalid",
        "display_name": "",
        "phone": "",
        "avatar": "",
        "language": "pt-br",
        "time_zone": "America/Sao_Paulo",
        # Not personal; later the ledger needs to know what kind of account it was.
        "account_type": "professional",
        "email_verified_at": None,
        "phone_verified_at": None,
        "email_undeliverable_at": None,
        "email_undeliverable_reason": "",
        "active_organization_id": None,
        "last_login": None,
        "is_active": False,
        "is_staff": False,
        "is_superuser": False,
    }
    assert anonymized.has_usable_password() is False
    assert anonymized.check_password(PASSWORD) is False
    assert anonymized.created_at == ana.created_at


def test_deleting_removes_every_membership_with_its_audit_row_and_event(
    org: Org, published: list[Any], django_capture_on_commit_callbacks: Any
) -> None:
    ana = org.viewer.user
    alone = OrganizationFactory()
    sole = MembershipFactory(user=ana, organization=alone, role=Role.ORG_ADMIN)
    co_admin = OrganizationFactory()
    shared = MembershipFactory(user=ana, organization=co_admin, role=Role.ORG_ADMIN)
    MembershipFactory(organization=co_admin, role=Role.ORG_ADMIN)
    ana = fresh(ana)
    memberships = [org.viewer, sole, shared]
    before = audit_rows()

    with django_capture_on_commit_callbacks(execute=True):
        privacy.account_delete(user=ana, password=PASSWORD)

    assert Membership.objects.filter(user_id=ana.pk).count() == 0
    # The organization Ana was alone in stays, with nobody in it, for staff to look at.
    assert list(Organization.objects.filter(pk=alone.pk).values_list("name", flat=True)) == [
        alone.name
    ]
    assert audit_rows() == [
        *before,
        audit_row("accounts.deleted", actor=ana, target=ana),
        *[
            {
                **audit_row(
                    "organizations.member_removed",
                    actor=ana,
                    organization=membership.organization,
                    data={"user_id": ana.pk, "role": membership.role},
                ),
                "target_type": "accounts.membership",
                "target_id": str(membership.pk),
            }
            for membership in memberships
        ],
    ]
    assert published == [
        message
        for membership in memberships
        for message in (
            (
                f"accounts.organization.{membership.organization_id}",
                {
                    "type": "realtime.event",
                    "event": "accounts.membership.deleted",
                    "data": {
                        "organization_id": membership.organization_id,
                        "membership": {"id": membership.pk, "user_id": ana.pk},
                    },
                },
            ),
            (
                f"user.{ana.pk}",
                {
                    "type": "realtime.revoke",
                    "event": "realtime.revoke",
                    "topic": f"accounts.organization.{membership.organization_id}",
                },
            ),
        )
    ]


def test_deleting_keeps_the_audit_trail_exactly_as_it_was(client_for: ClientFor) -> None:
    ana = person()
    services.audit_record(action=AuditAction.SIGN_IN, actor=ana, target=ana, data={"n": 1})
    services.organization_create(name="Ana's clinic", creator=ana)
    # Every column, id and timestamp included. On PostgreSQL the trigger would also refuse
    # any change, failing the whole deletion.
    before = list(AuditEvent.objects.order_by("pk").values())

    response = client_for(ana).post(DELETE_URL, {"password": PASSWORD}, format="json")

    assert response.status_code == 204
    after = list(AuditEvent.objects.order_by("pk").values())
    assert after[: len(before)] == before
    assert [row["actor_label"] for row in before] == ["ana@example.com"] * 3
    assert [(row["action"], row["actor_label"], row["ip_address"]) for row in after[3:]] == [
        ("accounts.deleted", "ana@example.com", "127.0.0.1"),
        ("organizations.member_removed", "ana@example.com", "127.0.0.1"),
    ]


def test_deleting_signs_out_every_browser(django_capture_on_commit_callbacks: Any) -> None:
    ana = person()
    bia = UserFactory(email="bia@example.com")
    laptop = browser_sign_in(ana.email, "Laptop browser")
    phone = browser_sign_in(ana.email, "Phone browser")
    bias_browser = browser_sign_in(bia.email, "Bia's browser")
    assert UserSession.objects.filter(user=ana).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        response = laptop.post(
            DELETE_URL, json.dumps({"password": PASSWORD}), content_type="application/json"
        )

    assert response.status_code == 204
    assert response.cookies["sessionid"].value == ""
    assert laptop.get(ME_URL).status_code == 401
    assert phone.get(ME_URL).status_code == 401
    assert bias_browser.get(ME_URL).status_code == 200
    assert session_users() == [str(bia.pk)]
    assert list(UserSession.objects.values_list("user_id", flat=True)) == [bia.pk]


def test_a_browser_session_nobody_tracked_no_longer_signs_in_either() -> None:
    ana = person()
    untracked = Client()
    untracked.force_login(ana)
    UserSession.objects.all().delete()

    privacy.account_delete(user=ana, password=PASSWORD)

    assert untracked.get(ME_URL).status_code == 401


def test_deleting_revokes_the_api_tokens(api_client: APIClient) -> None:
    ana = person()
    tokens = api_client.post(
        TOKEN_URL, {"email": ana.email, "password": PASSWORD}, format="json"
    ).json()
    older = api_client.post(
        TOKEN_URL, {"email": ana.email, "password": PASSWORD}, format="json"
    ).json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")

    response = api_client.post(DELETE_URL, {"password": PASSWORD}, format="json")

    assert response.status_code == 204
    assert_error(api_client.get(ME_URL), 401, "user_inactive")
    api_client.credentials()
    for refresh in (tokens["refresh"], older["refresh"]):
        assert_error(
            api_client.post(REFRESH_URL, {"refresh": refresh}, format="json"),
            401,
            "token_not_valid",
        )
    assert OutstandingToken.objects.filter(user_id=ana.pk).count() == 2
    assert BlacklistedToken.objects.filter(token__user_id=ana.pk).count() == 2
    assert_error(
        api_client.post(TOKEN_URL, {"email": ana.email, "password": PASSWORD}, format="json"),
        401,
        "no_active_account",
    )


def test_deleting_removes_2fa_codes_addresses_history_and_the_avatar(
    tmp_path: Path, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    ana = person()
    ana.avatar.save("face.png", ContentFile(b"not really a png"), save=True)
    avatar = Path(ana.avatar.path)
    services.user_update_profile(user=ana, data={"display_name": "Ana Souza"})
    bia = UserFactory(email="bia@example.com")
    for owner in (ana, bia):
        TOTPDevice.objects.create(user=owner, name="app", confirmed=True)
        StaticToken.objects.create(
            device=StaticDevice.objects.create(user=owner, name="recovery", confirmed=True),
            token="abcd1234",
        )
        VerificationCode.objects.create(
            user=owner,
            channel="email",
            target=owner.email,
            code_hash="0" * 64,
            expires_at=VERIFIED_AT,
        )
        EmailAddress.objects.create(user=owner, email=owner.email, verified=True, primary=True)
    bias_history = list(User.history.filter(id=bia.pk).values())
    ana = fresh(ana)

    with django_capture_on_commit_callbacks() as callbacks:
        privacy.account_delete(user=ana, password=PASSWORD)
    # The file goes only once the deletion is committed.
    assert avatar.exists()
    for callback in callbacks:
        callback()

    assert not avatar.exists()
    assert fresh(ana).avatar.name == ""
    assert User.history.filter(id=ana.pk).count() == 0
    assert list(User.history.filter(id=bia.pk).values()) == bias_history
    assert [
        list(model.objects.values_list(owner, flat=True))
        for model, owner in (
            (TOTPDevice, "user_id"),
            (StaticDevice, "user_id"),
            (StaticToken, "device__user_id"),
            (VerificationCode, "user_id"),
            (EmailAddress, "user_id"),
        )
    ] == [[bia.pk]] * 5


def test_invitations_sent_stay_and_accepted_ones_lose_the_address(org: Org, other_org: Org) -> None:
    ana = org.admin.user
    MembershipFactory(organization=org.organization, role=Role.ORG_ADMIN)
    sent, _token = services.invitation_create(
        organization=org.organization, email="bia@example.com", role=Role.AGENT, actor=ana
    )
    invited, token = services.invitation_create(
        organization=other_org.organization,
        email=ana.email,
        role=Role.VIEWER,
        actor=other_org.admin.user,
    )
    services.invitation_accept(token=token, user=ana)
    ana = fresh(ana)

    privacy.account_delete(user=ana, password=PASSWORD)

    assert list(
        Invitation.objects.order_by("pk").values(
            "pk", "email", "invited_by_id", "accepted_by_id", "revoked_at"
        )
    ) == [
        {
            "pk": sent.pk,
            "email": "bia@example.com",
            "invited_by_id": ana.pk,
            "accepted_by_id": None,
            "revoked_at": None,
        },
        {
            "pk": invited.pk,
            "email": f"deleted-{ana.pk}@deleted.invalid",
            "invited_by_id": other_org.admin.user_id,
            "accepted_by_id": ana.pk,
            "revoked_at": None,
        },
    ]


def test_the_old_email_and_phone_can_sign_up_again(
    client_for: ClientFor, django_capture_on_commit_callbacks: Any
) -> None:
    ana = person()
    EmailAddress.objects.create(user=ana, email=ana.email, verified=True, primary=True)
    assert client_for(ana).post(DELETE_URL, {"password": PASSWORD}, format="json").status_code == (
        204
    )
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="en")
    browser.get(f"{AUTH}/config")

    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(
            f"{AUTH}/auth/signup",
            json.dumps({"email": "ana@example.com", "password": PASSWORD, "phone": PHONE}),
            content_type="application/json",
            headers={"X-CSRFToken": browser.cookies["csrftoken"].value},
        )

    assert response.status_code == 200, response.content
    assert list(User.objects.order_by("pk").values_list("email", "is_active")) == [
        (f"deleted-{ana.pk}@deleted.invalid", False),
        ("ana@example.com", True),
    ]


def test_deleting_leaves_kyc_submissions_as_they_were() -> None:
    ana = person(account_type="professional")
    rejected_kyc(ana)
    before = rows(KycSubmission)

    privacy.account_delete(user=ana, password=PASSWORD)

    assert rows(KycSubmission) == before
