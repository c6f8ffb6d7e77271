"""Two-factor authentication: setup, the sign-in step (session, JWT, socket), admin, org rule."""

from __future__ import annotations

from typing import Any

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent, User
from accounts.roles import Role
from accounts.tests.factories import PASSWORD, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def code_for(device: TOTPDevice, drift: int = 0) -> str:
    # Each step's code is accepted once, so tests walk through neighbouring steps.
    value = totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=drift)
    return f"{value:06d}"


def with_two_factor(user: User) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="app", confirmed=True)


def signed_in(user: User, device: TOTPDevice | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if device is not None:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


def test_setting_up_an_app_turns_two_factor_on_and_gives_recovery_codes() -> None:
    user = UserFactory()
    client = signed_in(user)

    started = client.post("/api/v1/me/two-factor/totp/")
    device = TOTPDevice.objects.get(user=user)
    confirmed = client.post(
        "/api/v1/me/two-factor/totp/confirm/",
        {"code": code_for(device)},
        content_type="application/json",
    )

    assert started.status_code == 201
    assert started["Cache-Control"] == "no-store"
    assert started.json()["otpauth_url"].startswith("otpauth://totp/")
    assert started.json()["qr_svg"].startswith("<svg ")
    assert confirmed.status_code == 200
    assert len(confirmed.json()["recovery_codes"]) == 10
    device.refresh_from_db()
    assert device.confirmed is True
    assert client.get("/api/v1/me/two-factor/").json() == {
        "enabled": True,
        "recovery_codes_left": 10,
    }
    assert list(
        AuditEvent.objects.filter(action__startswith="auth.two_factor").values_list(
            "action", flat=True
        )
    ) == ["auth.two_factor_enabled"]


def test_a_wrong_code_does_not_turn_two_factor_on() -> None:
    user = UserFactory()
    client = signed_in(user)
    client.post("/api/v1/me/two-factor/totp/")

    response = client.post(
        "/api/v1/me/two-factor/totp/confirm/", {"code": "000000"}, content_type="application/json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "accounts.otp_invalid"
    assert TOTPDevice.objects.get(user=user).confirmed is False
    assert StaticToken.objects.count() == 0


def test_a_password_only_session_must_pass_the_second_factor() -> None:
    user = UserFactory()
    device = with_two_factor(user)
    client = signed_in(user)

    blocked = client.get("/api/v1/me/")
    verified = client.post(
        "/api/v1/auth/two-factor/verify/",
        {"code": code_for(device)},
        content_type="application/json",
    )
    after = client.get("/api/v1/me/")

    assert blocked.status_code == 403
    assert blocked.json()["code"] == "accounts.otp_required"
    assert verified.status_code == 200
    assert after.status_code == 200


def test_a_recovery_code_works_once() -> None:
    user = UserFactory()
    client = signed_in(user)
    client.post("/api/v1/me/two-factor/totp/")
    device = TOTPDevice.objects.get(user=user)
    codes = client.post(
        "/api/v1/me/two-factor/totp/confirm/",
        {"code": code_for(device, -1)},
        content_type="application/json",
    ).json()["recovery_codes"]

    first, second = signed_in(user), signed_in(user)
    used = first.post(
        "/api/v1/auth/two-factor/verify/", {"code": codes[0]}, content_type="application/json"
    )
    reused = second.post(
        "/api/v1/auth/two-factor/verify/", {"code": codes[0]}, content_type="application/json"
    )

    assert used.status_code == 200
    assert reused.status_code == 400
    assert reused.json()["code"] == "accounts.otp_invalid"
    assert StaticToken.objects.filter(device__user=user).count() == 9


def test_api_clients_send_the_code_with_their_password() -> None:
    user = UserFactory(email="ana@example.com")
    device = with_two_factor(user)
    client = Client()

    without = client.post(
        "/api/v1/auth/token/",
        {"email": "ana@example.com", "password": PASSWORD},
        content_type="application/json",
    )
    right = client.post(
        "/api/v1/auth/token/",
        {"email": "ana@example.com", "password": PASSWORD, "otp": code_for(device)},
        content_type="application/json",
    )

    # After a wrong code django-otp throttles the device for a moment, so it goes last.
    wrong = client.post(
        "/api/v1/auth/token/",
        {"email": "ana@example.com", "password": PASSWORD, "otp": "000000"},
        content_type="application/json",
    )
    assert (without.status_code, without.json()["code"]) == (401, "accounts.otp_required")
    assert (wrong.status_code, wrong.json()["code"]) == (400, "accounts.otp_invalid")
    assert right.status_code == 200
    assert sorted(right.json()) == ["access", "refresh"]


def test_turning_two_factor_off_needs_the_password_again() -> None:
    user = UserFactory()
    device = with_two_factor(user)
    client = signed_in(user, device)

    refused = client.post(
        "/api/v1/me/two-factor/disable/", {"password": "not-it"}, content_type="application/json"
    )
    still_on = TOTPDevice.objects.filter(user=user).count()
    done = client.post(
        "/api/v1/me/two-factor/disable/", {"password": PASSWORD}, content_type="application/json"
    )

    assert (refused.status_code, refused.json()["code"]) == (
        403,
        "accounts.reauthentication_failed",
    )
    assert still_on == 1
    assert done.status_code == 204
    assert TOTPDevice.objects.filter(user=user).count() == 0


def test_staff_without_a_verified_second_factor_cannot_enter_the_admin() -> None:
    staff = UserFactory(is_staff=True, is_superuser=True)
    device = with_two_factor(staff)

    password_only = signed_in(staff).get("/admin/")
    verified = signed_in(staff, device).get("/admin/")

    assert password_only.status_code == 302
    assert password_only["Location"].startswith("/admin/login/")
    assert verified.status_code == 200


def test_an_organization_that_requires_2fa_stops_admins_without_it() -> None:
    admin = MembershipFactory(role=Role.ORG_ADMIN)
    agent = MembershipFactory(organization=admin.organization, role=Role.AGENT)
    admin.organization.require_two_factor = True
    admin.organization.save()

    response = signed_in(admin.user).patch(
        f"/api/v1/organizations/{admin.organization_id}/members/{agent.pk}/",
        {"role": "viewer"},
        content_type="application/json",
    )

    assert response.status_code == 403
    assert response.json()["code"] == "accounts.two_factor_required"
    agent.refresh_from_db()
    assert agent.role == Role.AGENT


def test_only_an_admin_with_2fa_can_require_it_for_the_organization() -> None:
    admin = MembershipFactory(role=Role.ORG_ADMIN)
    url = f"/api/v1/organizations/{admin.organization_id}/"

    refused = signed_in(admin.user).patch(
        url, {"require_two_factor": True}, content_type="application/json"
    )
    device = with_two_factor(admin.user)
    done = signed_in(admin.user, device).patch(
        url, {"require_two_factor": True}, content_type="application/json"
    )

    assert (refused.status_code, refused.json()["code"]) == (403, "accounts.two_factor_required")
    assert done.status_code == 200
    assert done.json()["require_two_factor"] is True


@pytest.mark.django_db(transaction=True)
async def test_the_socket_refuses_a_password_only_session_of_a_2fa_account() -> None:
    from channels.db import database_sync_to_async

    from config.asgi import application

    def prepare() -> tuple[bytes, bytes]:
        user = UserFactory()
        device = with_two_factor(user)
        password_only = signed_in(user).cookies["sessionid"].value
        verified = signed_in(user, device).cookies["sessionid"].value
        return password_only.encode(), verified.encode()

    password_only, verified = await database_sync_to_async(prepare)()
    results = []
    for session_id in (password_only, verified):
        communicator = WebsocketCommunicator(
            application,
            "/ws/",
            headers=[(b"origin", b"http://localhost"), (b"cookie", b"sessionid=" + session_id)],
        )
        connected, _ = await communicator.connect()
        results.append(connected)
        if connected:
            await communicator.disconnect()

    assert results == [False, True]


def test_settings_of_an_organization_are_not_found_for_outsiders(settings: Any) -> None:
    member = MembershipFactory(role=Role.ORG_ADMIN)
    outsider = UserFactory()

    response = signed_in(outsider).get(f"/api/v1/organizations/{member.organization_id}/")

    assert response.status_code == 404


def test_a_password_only_session_cannot_list_or_end_sessions() -> None:
    user = UserFactory()
    device = with_two_factor(user)

    password_only = signed_in(user).get("/_allauth/browser/v1/auth/sessions")
    status = signed_in(user).get("/_allauth/browser/v1/auth/session")
    verified = signed_in(user, device).get("/_allauth/browser/v1/auth/sessions")

    assert (password_only.status_code, password_only.json()["code"]) == (
        403,
        "accounts.otp_required",
    )
    assert status.status_code == 200
    assert verified.status_code == 200


def test_the_page_tells_a_password_only_session_nothing_about_the_account() -> None:
    import json

    user = UserFactory(email="secret@example.com")
    with_two_factor(user)

    page = signed_in(user).get("/").content.decode()
    config = json.loads(
        page.split('<script id="app-config" type="application/json">')[1].split("</script>")[0]
    )

    assert (config["user"], config["two_factor_pending"]) == (None, True)
    assert "secret@example.com" not in page


def test_recovery_codes_are_accepted_in_capitals_and_with_spaces() -> None:
    user = UserFactory()
    client = signed_in(user)
    client.post("/api/v1/me/two-factor/totp/")
    device = TOTPDevice.objects.get(user=user)
    codes = client.post(
        "/api/v1/me/two-factor/totp/confirm/",
        {"code": code_for(device, -1)},
        content_type="application/json",
    ).json()["recovery_codes"]
    typed = " ".join(codes[0].upper())

    response = signed_in(user).post(
        "/api/v1/auth/two-factor/verify/", {"code": typed}, content_type="application/json"
    )

    assert response.status_code == 200
