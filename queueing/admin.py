"""Back office for queues.

- Marketplace queue entries: read-only, since every change moves a held fee. Entries change
  only through ``queueing.services`` (which void, post or convert their holds); the admin shows
  them for support and disputes (the ledger reference is ``queue:<id>``).
- Support inbox: organizations configure departments, queues, canned responses and the widget
  in the web app (``/inbox/settings``); staff may inspect them here. Conversations are
  read-only (assignment, status and counters change only through the services).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from queueing.models import (
    CannedResponse,
    Contact,
    Conversation,
    CsatResponse,
    Department,
    MarketplaceQueueEntry,
    QueueMember,
    SupportAgent,
    SupportQueue,
    SupportWidget,
)


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


class QueueMemberInline(admin.TabularInline):
    model = QueueMember
    raw_id_fields = ("user",)
    extra = 0


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "organization__name")
    raw_id_fields = ("organization",)


@admin.register(SupportQueue)
class SupportQueueAdmin(admin.ModelAdmin):
    list_display = ("name", "department", "organization", "routing_strategy", "priority")
    list_filter = ("routing_strategy",)
    search_fields = ("name", "department__name", "organization__name")
    raw_id_fields = ("organization", "department")
    inlines = (QueueMemberInline,)


@admin.register(SupportAgent)
class SupportAgentAdmin(admin.ModelAdmin):
    list_display = ("user", "organization", "availability", "connected", "open_count", "capacity")
    list_filter = ("availability", "connected")
    search_fields = ("user__email", "organization__name")
    raw_id_fields = ("organization", "user")
    readonly_fields = ("connected", "disconnected_at", "open_count", "last_assigned_at")


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("__str__", "email", "organization", "user", "last_seen_at")
    search_fields = ("name", "email", "organization__name")
    raw_id_fields = ("organization", "user")
    readonly_fields = ("visitor_id", "last_seen_at")


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("__str__", "organization", "contact", "queue", "assignee", "status")
    list_filter = ("status", "channel", "first_response_status", "resolution_status")
    search_fields = ("contact__email", "contact__name", "organization__name")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [field.name for field in Conversation._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CannedResponse)
class CannedResponseAdmin(admin.ModelAdmin):
    list_display = ("shortcut", "title", "organization")
    search_fields = ("shortcut", "title", "organization__name")
    raw_id_fields = ("organization", "created_by")


@admin.register(CsatResponse)
class CsatResponseAdmin(admin.ModelAdmin):
    list_display = ("conversation", "agent", "rating", "created_at")
    list_filter = ("rating",)
    raw_id_fields = ("conversation", "organization", "agent")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(SupportWidget)
class SupportWidgetAdmin(admin.ModelAdmin):
    list_display = ("organization", "public_key", "enabled")
    search_fields = ("organization__name", "public_key")
    raw_id_fields = ("organization",)
    readonly_fields = ("public_key",)
