"""Back office for the marketplace queue: read-only, since every change moves a held fee.

Entries change only through ``queueing.services`` (which void, post or convert their holds);
the admin shows them for support and disputes (the ledger reference is ``queue:<id>``).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from queueing.models import MarketplaceQueueEntry


@admin.register(MarketplaceQueueEntry)
class MarketplaceQueueEntryAdmin(admin.ModelAdmin):
    list_display = ("__str__", "professional", "client", "status", "fee", "joined_at")
    list_filter = ("status",)
    search_fields = ("professional__email", "client__email")
    raw_id_fields = ("professional", "client", "hold")
    date_hierarchy = "joined_at"
    ordering = ("-joined_at", "-id")
    readonly_fields = (
        "professional",
        "client",
        "status",
        "fee",
        "hold",
        "joined_at",
        "offered_at",
        "offer_expires_at",
        "resolved_at",
        "created_at",
        "updated_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
