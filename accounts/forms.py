"""Extra sign-up fields for django-allauth (used by its headless API too)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _


class SignupForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=150, required=False)

    def signup(self, request: Any, user: Any) -> None:
        # allauth has already saved the user; the adapter put display_name on it.
        pass
