"""Support widget API routes for visitors (public key + signed visitor token)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
