"""django-allauth adapter: how allauth creates and shows our users."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.utils import translation


class AccountAdapter(DefaultAccountAdapter):
    def save_user(self, request: Any, user: Any, form: Any, commit: bool = True) -> Any:
        user = super().save_user(request, user, form, commit=False)
        user.email = user.email.strip().lower()
        user.display_name = form.cleaned_data.get("display_name", "") or ""
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
