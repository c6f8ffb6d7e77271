"""The audit trail's vocabulary: every action name written to AuditEvent."""

from __future__ import annotations

from enum import StrEnum


class AuditAction(StrEnum):
    SIGN_IN = "auth.sign_in"
    SIGN_IN_FAILED = "auth.sign_in_failed"
    SIGN_IN_LOCKED = "auth.sign_in_locked"
    SIGN_OUT = "auth.sign_out"
    TOKEN_ISSUED = "auth.token_issued"
    SIGN_UP = "accounts.signed_up"
    PASSWORD_CHANGED = "accounts.password_changed"
    PASSWORD_RESET = "accounts.password_reset"
    EMAIL_VERIFIED = "accounts.email_verified"
    EMAIL_CHANGED = "accounts.email_changed"
    EMAIL_UNDELIVERABLE = "accounts.email_undeliverable"
    PHONE_VERIFIED = "accounts.phone_verified"
    PHONE_CHANGED = "accounts.phone_changed"
    VERIFICATION_LOCKED = "accounts.verification_locked"
    BECAME_PROFESSIONAL = "accounts.became_professional"
    KYC_SUBMITTED = "kyc.submitted"
    KYC_APPROVED = "kyc.approved"
    KYC_REJECTED = "kyc.rejected"
    TWO_FACTOR_ENABLED = "auth.two_factor_enabled"
    TWO_FACTOR_DISABLED = "auth.two_factor_disabled"
    RECOVERY_CODES_REGENERATED = "auth.recovery_codes_regenerated"
    TWO_FACTOR_FAILED = "auth.two_factor_failed"
    ORGANIZATION_SETTINGS_CHANGED = "organizations.settings_changed"
    ORGANIZATION_CREATED = "organizations.created"
    MEMBER_ADDED = "organizations.member_added"
    ROLE_CHANGED = "organizations.role_changed"
    INVITATION_SENT = "organizations.invitation_sent"
    INVITATION_ACCEPTED = "organizations.invitation_accepted"
    INVITATION_REVOKED = "organizations.invitation_revoked"
    MEMBER_LEFT = "organizations.member_left"
    MEMBER_REMOVED = "organizations.member_removed"
