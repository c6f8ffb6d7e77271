"""BotConversa's inbound endpoint (its flows' HTTP-request steps call it), under /webhooks/."""

from django.urls import URLPattern, URLResolver

urlpatterns: list[URLPattern | URLResolver] = []
