"""Input and output shapes of the accounts API."""

from __future__ import annotations

from django.conf import settings
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from accounts.models import Membership, Organization, User, validate_time_zone
from accounts.roles import Role
from core.serializers import InputSerializer


class OrganizationOutput(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ("id", "name", "slug")


class MyMembershipOutput(serializers.ModelSerializer):
    organization = OrganizationOutput()

    class Meta:
        model = Membership
        fields = ("id", "role", "organization")


class MeOutput(serializers.ModelSerializer):
    phone = serializers.SerializerMethodField()
    avatar_url = serializers.SerializerMethodField()
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
            "is_staff",
            "memberships",
        )

    def get_phone(self, user: User) -> str:
        return str(user.phone) if user.phone else ""

    def get_avatar_url(self, user: User) -> str | None:
        return user.avatar.url if user.avatar else None


class MeUpdateInput(InputSerializer):
    display_name = serializers.CharField(max_length=150, allow_blank=True, required=False)
    phone = PhoneNumberField(allow_blank=True, required=False)
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
