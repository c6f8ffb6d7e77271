"""`manage.py seed_demo`: demo organization and people, safe to run again and again."""

from __future__ import annotations

import base64
from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services
from accounts.models import AccountType, Membership, Organization, User
from accounts.roles import Role

DEMO_PASSWORD = "atende-demo-2026"
# The demo staff member's authenticator secret (base32), printed so a developer can add it
# to an authenticator app (or run `oathtool --totp -b <secret>`) to pass the admin's 2FA.
DEMO_STAFF_TOTP_SECRET = "JBSWY3DPEHPK3PXPATENDEDEMO234567"
DEMO_ORGANIZATION = ("Escola Atende Demo", "escola-atende-demo")

# (email, display name, organization role or None, is platform staff, what they are for)
DEMO_PEOPLE: list[tuple[str, str, str | None, bool, str]] = [
    ("staff@atende.test", "Sofia Staff", None, True, "platform super admin (/admin/)"),
    ("admin@atende.test", "Ana Admin", Role.ORG_ADMIN, False, "organization admin"),
    ("agent1@atende.test", "Bruno Agente", Role.AGENT, False, "agent"),
    ("agent2@atende.test", "Carla Agente", Role.AGENT, False, "agent"),
    ("viewer@atende.test", "Davi Leitor", Role.VIEWER, False, "viewer"),
    ("professional@atende.test", "Dra. Helena Souza", None, False, "professional"),
    ("client@atende.test", "Igor Cliente", None, False, "client"),
]


class Command(BaseCommand):
    help = "Create (or top up) the demo organization and demo logins, then print the logins."

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        organization = Organization.objects.filter(slug=DEMO_ORGANIZATION[1]).first()
        if organization is None:
            organization = Organization.objects.create(
                name=DEMO_ORGANIZATION[0], slug=DEMO_ORGANIZATION[1]
            )
        for index, (email, name, role, is_staff, purpose) in enumerate(DEMO_PEOPLE):
            user = User.objects.filter(email=email).first()
            if user is None:
                user = services.user_create(email=email, password=DEMO_PASSWORD, display_name=name)
                # .test addresses receive nothing, so demo people come with verified contacts
                # (a fictional São Paulo mobile each); the professional is one from the start.
                now = timezone.now()
                user.phone = f"+55119{90000000 + index:08d}"
                user.email_verified_at = user.phone_verified_at = now
                if purpose == "professional":
                    user.account_type = AccountType.PROFESSIONAL
                user.save(
                    update_fields=[
                        "phone",
                        "email_verified_at",
                        "phone_verified_at",
                        "account_type",
                    ]
                )
                if is_staff:
                    user.is_staff = user.is_superuser = True
                    user.save(update_fields=["is_staff", "is_superuser"])
            if is_staff and not TOTPDevice.objects.filter(user=user, confirmed=True).exists():
                TOTPDevice.objects.create(
                    user=user,
                    name="demo",
                    confirmed=True,
                    key=base64.b32decode(DEMO_STAFF_TOTP_SECRET).hex(),
                )
            if (
                role
                and not Membership.objects.filter(organization=organization, user=user).exists()
            ):
                services.membership_create(organization=organization, user=user, role=role)

        from wallet.seed import seed_wallet_demo

        seed_wallet_demo(
            client=User.objects.get(email="client@atende.test"),
            professional=User.objects.get(email="professional@atende.test"),
        )
        from calls.seed import seed_calls_demo

        seed_calls_demo(professional=User.objects.get(email="professional@atende.test"))
        from chat.seed import seed_chat_demo

        seed_chat_demo(organization=organization)
        from queueing.seed import seed_inbox_demo

        widget = seed_inbox_demo(organization=organization)
        from crm.seed import seed_crm_demo

        seed_crm_demo(organization=organization)
        self.stdout.write(self.style.SUCCESS(f"Demo organization: {organization.name}"))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for email, _name, _role, _staff, purpose in DEMO_PEOPLE:
            self.stdout.write(f"  {email:<28} {purpose}")
        from calls.seed import DEMO_PROFESSIONALS, DEMO_REVIEWER

        for professional in DEMO_PROFESSIONALS:
            self.stdout.write(f"  {professional[0]:<28} professional in the catalog")
        self.stdout.write(f"  {DEMO_REVIEWER[0]:<28} client (wrote the demo reviews)")
        self.stdout.write(
            "Support widget demo page: http://localhost:8000/widget/demo/ "
            f"(public key {widget.public_key}; agents answer at /inbox)"
        )
        self.stdout.write(
            "CRM: http://localhost:8000/crm (pipeline Matrículas; open it as admin@ and agent1@ "
            "in two browsers to see moves live)"
        )
        self.stdout.write(
            f"The admin asks staff for a 2FA code: authenticator secret {DEMO_STAFF_TOTP_SECRET}"
        )
