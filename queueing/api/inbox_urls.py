"""Support inbox API routes for staff (agents, supervisors, org admins)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
