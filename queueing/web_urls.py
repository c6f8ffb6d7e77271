"""Plain (non-SPA) pages of the support widget: the demo page that embeds it."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
