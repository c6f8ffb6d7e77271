"""Extra sign-up fields for django-allauth (used by its headless API too)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField


class SignupForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=150, required=False)
    # Brazilian national numbers are accepted (default region BR); any E.164 number too.
    phone = PhoneNumberField(label=_("Phone"), required=True)

    def clean_phone(self) -> Any:
        from accounts.models import User

        phone = self.cleaned_data["phone"]
        # A number another account has verified cannot be verified again: refuse it now
        # rather than create an account that could never pass phone verification.
        if User.objects.filter(phone=phone, phone_verified_at__isnull=False).exists():
            raise forms.ValidationError(_("This phone number is already in use."))
        return phone

    def signup(self, request: Any, user: Any) -> None:
        # allauth has already saved the user; the adapter put display_name and phone on it.
        pass
