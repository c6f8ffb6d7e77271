"""Queue API routes (the marketplace queue; the support inbox's join later)."""

from django.urls import URLPattern

app_name = "queueing"

urlpatterns: list[URLPattern] = []
