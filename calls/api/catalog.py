"""Placeholder until this area of the calls API is written."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
