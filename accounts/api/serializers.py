"""Input and output shapes of the accounts API."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from accounts import policies, services
from accounts.models import Invitation, Membership, Organization, User, validate_time_zone
from accounts.roles import Role
from accounts.validators import validate_cpf, validate_document_image
from core.serializers import InputSerializer


class OrganizationOutput(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ("id", "name", "slug", "require_two_factor")


class OrganizationUpdateInput(InputSerializer):
    name = serializers.CharField(max_length=150, min_length=2, required=False)
    require_two_factor = serializers.BooleanField(required=False)


class MyMembershipOutput(serializers.ModelSerializer):
    organization = OrganizationOutput()

    class Meta:
        model = Membership
        fields = ("id", "role", "organization")


class MeOutput(serializers.ModelSerializer):
    phone = serializers.SerializerMethodField()
    avatar_url = serializers.SerializerMethodField()
    email_verified = serializers.BooleanField(read_only=True)
    phone_verified = serializers.BooleanField(read_only=True)
    email_undeliverable = serializers.SerializerMethodField()
    missing = serializers.SerializerMethodField(
        help_text="For each gated action, the verification steps still missing (in order)."
    )
    memberships = MyMembershipOutput(many=True, source="prefetched_memberships")

    class Meta:
        model = User
        fields = (
            "id",
            "email",
            "display_name",
            "phone",
            "language",
            "time_zone",
            "avatar_url",
            "account_type",
            "active_organization_id",
            "email_verified",
            "phone_verified",
            "email_undeliverable",
            "missing",
            "is_staff",
            "memberships",
        )

    def get_phone(self, user: User) -> str:
        return str(user.phone) if user.phone else ""

    def get_avatar_url(self, user: User) -> str | None:
        return user.avatar.url if user.avatar else None

    def get_email_undeliverable(self, user: User) -> bool:
        return user.email_undeliverable_at is not None

    def get_missing(self, user: User) -> dict[str, list[str]]:
        return {
            str(action): [str(step) for step in policies.missing(user, action)]
            for action in policies.Action
        }


class MeUpdateInput(InputSerializer):
    display_name = serializers.CharField(max_length=150, allow_blank=True, required=False)
    language = serializers.ChoiceField(choices=settings.LANGUAGES, required=False)
    time_zone = serializers.CharField(
        max_length=64, required=False, validators=[validate_time_zone]
    )


class MemberUserOutput(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ("id", "email", "display_name")


class MemberOutput(serializers.ModelSerializer):
    user = MemberUserOutput()

    class Meta:
        model = Membership
        fields = ("id", "role", "created_at", "user")


class MemberUpdateInput(InputSerializer):
    role = serializers.ChoiceField(choices=Role.choices)


class OrganizationCreateInput(InputSerializer):
    name = serializers.CharField(max_length=150, min_length=2)


class EmailVerificationStartInput(InputSerializer):
    email = serializers.EmailField(
        required=False, help_text="A new address to switch to; omit to verify the current one."
    )


class PhoneVerificationStartInput(InputSerializer):
    phone = PhoneNumberField(
        required=False, help_text="A new number to switch to (E.164, or Brazilian national)."
    )


class VerificationConfirmInput(InputSerializer):
    code = serializers.RegexField(r"^\s*\d{6}\s*$", max_length=12)


class VerificationSentOutput(serializers.Serializer):
    channel = serializers.CharField()
    target = serializers.CharField(help_text="Where the code went, partly hidden.")
    expires_at = serializers.DateTimeField()
    resend_after = serializers.DateTimeField()
    resend_in = serializers.IntegerField(
        help_text="Seconds until a new code may be asked for (0: now); needs no client clock."
    )


class VerificationPendingOutput(serializers.Serializer):
    pending = VerificationSentOutput(allow_null=True)


class TokenObtainInput(TokenObtainPairSerializer):
    """Email + password (+ ``otp`` for 2FA accounts) for a token pair; see token_pair_obtain."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["otp"] = serializers.CharField(
            required=False,
            max_length=20,
            help_text="The authenticator (or recovery) code, for accounts with 2FA.",
        )

    def validate(self, attrs: dict[str, Any]) -> dict[str, str]:
        # simplejwt's view calls validate(); the rules live in the service.
        request = self.context["request"]
        return services.token_pair_obtain(
            request=getattr(request, "_request", request),
            email=str(attrs.get(self.username_field, "")),
            password=attrs["password"],
            otp=attrs.get("otp"),
        )


class TwoFactorStatusOutput(serializers.Serializer):
    enabled = serializers.BooleanField()
    recovery_codes_left = serializers.IntegerField()


class TotpSetupOutput(serializers.Serializer):
    secret = serializers.CharField(help_text="Base32 secret, for typing into the app by hand.")
    otpauth_url = serializers.CharField()
    qr_svg = serializers.CharField(help_text="The otpauth URL as an SVG QR code.")


class OtpCodeInput(InputSerializer):
    code = serializers.CharField(max_length=20, min_length=6)


class PasswordInput(InputSerializer):
    password = serializers.CharField(max_length=200, trim_whitespace=False)


class RecoveryCodesOutput(serializers.Serializer):
    recovery_codes = serializers.ListField(child=serializers.CharField())


class InvitationCreateInput(InputSerializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=Role.choices)


class InvitationOutput(serializers.ModelSerializer):
    invited_by = MemberUserOutput()

    class Meta:
        model = Invitation
        fields = ("id", "email", "role", "created_at", "expires_at", "invited_by")


class InvitationPublicOrganization(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class InvitationPublicOutput(serializers.Serializer):
    """What the invitation link shows, even to someone not signed in."""

    organization = InvitationPublicOrganization()
    role = serializers.CharField()
    email = serializers.CharField(help_text="The invited address, partly hidden.")
    expires_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=["pending", "expired", "accepted", "revoked"])


class ActiveOrganizationInput(InputSerializer):
    organization_id = serializers.IntegerField(min_value=1)


class KycSubmitInput(InputSerializer):
    full_name = serializers.CharField(max_length=200, min_length=3)
    cpf = serializers.CharField(max_length=14, validators=[validate_cpf])
    birth_date = serializers.DateField()
    document_front = serializers.ImageField(validators=[validate_document_image])
    document_back = serializers.ImageField(validators=[validate_document_image])
    selfie = serializers.ImageField(validators=[validate_document_image])


class KycStatusOutput(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True)
    status = serializers.ChoiceField(choices=["none", "pending", "approved", "rejected"])
    rejection_reason = serializers.CharField()
    submitted_at = serializers.DateTimeField(allow_null=True)
    reviewed_at = serializers.DateTimeField(allow_null=True)
