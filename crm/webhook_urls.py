"""BotConversa's inbound endpoint (its flows' HTTP-request steps call it), under /webhooks/."""

from django.urls import URLPattern, URLResolver, path

from crm.api.botconversa import inbound_view

urlpatterns: list[URLPattern | URLResolver] = [
    path("<int:organization_id>/<str:token>/", inbound_view, name="crm-botconversa-inbound"),
]
