"""django-allauth adapter: how allauth creates and shows our users."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.core.exceptions import ValidationError
from django.utils import translation


class AccountAdapter(DefaultAccountAdapter):
    def pre_authenticate(self, request: Any, **credentials: Any) -> None:
        """allauth's lock on failed sign-ins, plus an audit row when it refuses someone.

        Both doors (browser sign-in and the JWT endpoint) come through here.
        """
        try:
            super().pre_authenticate(request, **credentials)
        except ValidationError:
            from accounts import services
            from accounts.audit import AuditAction

            email = str(credentials.get("email") or "").strip().lower()[:254]
            services.audit_record(
                action=AuditAction.SIGN_IN_LOCKED, actor=None, data={"email": email}
            )
            raise

    def save_user(self, request: Any, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=False)
        user.email = user.email.strip().lower()
        user.display_name = form.cleaned_data.get("display_name", "") or ""
        # Unverified until a code sent to it is confirmed (accounts.verification).
        user.phone = form.cleaned_data.get("phone") or ""
        # A new account starts in the language the visitor was browsing in.
        language = translation.get_language() or ""
        if language in {"pt-br", "en"}:
            user.language = language
        if commit:
            user.save()
        return user


def user_display(user: Any) -> str:
    """How allauth names a user (settings.ACCOUNT_USER_DISPLAY): their chosen name first."""
    return user.display_name or user.email
