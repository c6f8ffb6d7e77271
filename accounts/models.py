"""Users, organizations and memberships."""

from __future__ import annotations

import os
import uuid
import zoneinfo
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from phonenumber_field.modelfields import PhoneNumberField
from simple_history.models import HistoricalRecords

from accounts.roles import Role
from core.models import TimestampedModel

DEFAULT_TIME_ZONE = "America/Sao_Paulo"


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class UserManager(BaseUserManager["User"]):
    """Creates users keyed by a lower-cased email; there is no username."""

    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **fields: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", False)
        fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **fields)

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields["is_staff"] = True
        fields["is_superuser"] = True
        return self._create_user(email, password, **fields)


class AccountType(models.TextChoices):
    """What a person is outside any organization (DESIGN.md §4)."""

    CLIENT = "client", _("Client or student")
    PROFESSIONAL = "professional", _("Professional")


class User(TimestampedModel, AbstractBaseUser, PermissionsMixin):
    """A person who signs in with an email address."""

    email = models.EmailField(_("email address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=150, blank=True)
    phone = PhoneNumberField(_("phone"), blank=True)
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=DEFAULT_TIME_ZONE, validators=[validate_time_zone]
    )
    avatar = models.ImageField(_("avatar"), upload_to="avatars/%Y/%m/", blank=True)
    account_type = models.CharField(
        _("account type"), max_length=20, choices=AccountType.choices, default=AccountType.CLIENT
    )
    # Verification is a fact about the current value: changing a contact goes through a code
    # sent to the new value, and only a confirmed code writes it here (accounts.verification).
    email_verified_at = models.DateTimeField(_("email verified at"), null=True, blank=True)
    phone_verified_at = models.DateTimeField(_("phone verified at"), null=True, blank=True)
    # Set by the email provider's bounce/drop events; cleared when the address changes.
    email_undeliverable_at = models.DateTimeField(
        _("email undeliverable since"), null=True, blank=True
    )
    email_undeliverable_reason = models.CharField(
        _("why email is undeliverable"), max_length=200, blank=True
    )
    # The organization the person works in right now (they may belong to several).
    active_organization = models.ForeignKey(
        "Organization",
        verbose_name=_("active organization"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)  # type: ignore[misc]

    objects = UserManager()
    history = HistoricalRecords(excluded_fields=["password", "last_login", "updated_at"])

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []  # Django reads it; never mutated

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            # Emails are stored lower-cased; this keeps "Ana@x" and "ana@x" one account even if
            # some path forgets to normalize.
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.email

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def phone_verified(self) -> bool:
        return self.phone_verified_at is not None and bool(self.phone)

    def get_full_name(self) -> str:
        return self.display_name or self.email

    def get_short_name(self) -> str:
        return self.display_name or self.email.split("@")[0]


class Organization(TimestampedModel):
    """A tenant: a school, clinic or company whose data is kept apart from all others."""

    name = models.CharField(_("name"), max_length=150)
    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    # When on, org admins must have two-factor authentication to manage the organization.
    require_two_factor = models.BooleanField(_("require 2FA for org admins"), default=False)
    members = models.ManyToManyField(User, through="Membership", related_name="organizations")
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ("name", "id")

    def __str__(self) -> str:
        return self.name


class Membership(TimestampedModel):
    """A user's role in one organization."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "user"), name="accounts_membership_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="accounts_membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.organization} ({self.role})"


class VerificationChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")


class VerificationCode(TimestampedModel):
    """A one-time code sent to an email address or phone, stored only as a keyed hash."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="verification_codes")
    channel = models.CharField(max_length=10, choices=VerificationChannel.choices)
    # The address being verified: the current one, or the new one of a change.
    target = models.CharField(max_length=254)
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)
    # A newer code for the same user and channel replaces this one.
    superseded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=("user", "channel", "-created_at"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(channel__in=VerificationChannel.values),
                name="accounts_verificationcode_channel_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} code for user {self.user_id}"


class AuditEvent(models.Model):
    """One security-relevant event: who did what to what, from where. Never updated."""

    created_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)
    action = models.CharField(_("action"), max_length=60, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="audit_events"
    )
    # Kept as written at the time: the actor's row may be anonymized later (LGPD).
    actor_label = models.CharField(_("actor"), max_length=254, blank=True)
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    target_type = models.CharField(_("target type"), max_length=60, blank=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=300, blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ("-created_at", "-id")
        indexes = [models.Index(fields=("target_type", "target_id"))]

    def __str__(self) -> str:
        return f"{self.action} by {self.actor_label or '-'}"


class Invitation(TimestampedModel):
    """An invitation to join an organization, sent by email as a single-use link."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices, default=Role.AGENT)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    # Only a hash of the link's token is kept: a database leak does not open invitations.
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            # At most one open invitation per address and organization.
            models.UniqueConstraint(
                fields=("organization", "email"),
                condition=models.Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="accounts_invitation_one_open_per_email",
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="accounts_invitation_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} to {self.organization}"


def kyc_upload_path(instance: KycSubmission, filename: str) -> str:
    # Random names: nothing about the person or the original file name is in the path.
    return f"kyc/{instance.user_id}/{uuid.uuid4().hex}{Path(filename).suffix.lower()[:8]}"


class PrivateFileStorage(FileSystemStorage):
    """Local storage under PRIVATE_MEDIA_ROOT, read at use (tests point it elsewhere).

    No URL serves this folder: files leave only through permission-checked views.
    """

    @property  # type: ignore[override]
    def base_location(self) -> str:
        return str(settings.PRIVATE_MEDIA_ROOT)

    @property  # type: ignore[override]
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    @property  # type: ignore[override]
    def base_url(self) -> None:  # type: ignore[override]
        return None


def private_storage() -> Any:
    """Storage for documents that must never be public (KYC).

    Local files live outside MEDIA_ROOT; on S3 objects are private and reached only through
    short-lived signed URLs. Either way the app serves them only through a checked view.
    """
    from django.core.files.storage import storages

    if settings.AWS_STORAGE_BUCKET_NAME:
        return storages["default"]
    return PrivateFileStorage()


class KycStatus(models.TextChoices):
    PENDING = "pending", _("Pending review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class KycSubmission(TimestampedModel):
    """A professional's identity documents, reviewed by staff before any withdrawal."""

    user = models.ForeignKey(User, on_delete=models.PROTECT, related_name="kyc_submissions")
    full_name = models.CharField(_("full name"), max_length=200)
    cpf = models.CharField(_("CPF"), max_length=11)
    birth_date = models.DateField(_("birth date"))
    document_front = models.ImageField(
        _("document (front)"), upload_to=kyc_upload_path, storage=private_storage
    )
    document_back = models.ImageField(
        _("document (back)"), upload_to=kyc_upload_path, storage=private_storage
    )
    selfie = models.ImageField(_("selfie"), upload_to=kyc_upload_path, storage=private_storage)
    status = models.CharField(
        _("status"), max_length=10, choices=KycStatus.choices, default=KycStatus.PENDING
    )
    rejection_reason = models.CharField(_("rejection reason"), max_length=500, blank=True)
    reviewed_by = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("KYC submission")
        verbose_name_plural = _("KYC submissions")
        permissions = [("review_kyc", "Can review KYC submissions and see their documents")]
        constraints = [
            models.UniqueConstraint(
                fields=("user",),
                condition=models.Q(status="pending"),
                name="accounts_kyc_one_pending_per_user",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "approved", "rejected"]),
                name="accounts_kyc_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="rejected") | ~models.Q(rejection_reason=""),
                name="accounts_kyc_rejection_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"KYC {self.pk} of {self.user} ({self.status})"
