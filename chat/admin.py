"""Back office for chat: rooms (read-mostly, with their members) and message moderation.

Message text is never edited here; deleting goes through ``message_delete`` so it leaves the
same trace, audit record and event as in the app.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from chat import services
from chat.models import Message, Room, RoomMember


class RoomMemberInline(admin.TabularInline):
    model = RoomMember
    extra = 0
    fields = ("user", "role", "notify", "last_read_message_id", "created_at")
    readonly_fields = ("user", "last_read_message_id", "created_at")
    raw_id_fields = ("user",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ("__str__", "organization", "kind", "archived_at", "last_message_at")
    list_filter = ("kind", "organization")
    search_fields = ("name", "topic")
    readonly_fields = (
        "organization",
        "kind",
        "direct_key",
        "created_by",
        "created_at",
        "last_message_at",
    )
    fields = (
        "organization",
        "kind",
        "name",
        "topic",
        "archived_at",
        "direct_key",
        "created_by",
        "created_at",
        "last_message_at",
    )
    inlines = (RoomMemberInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("pk", "room", "author", "created_at", "edited_at", "deleted_at")
    list_filter = ("organization", "kind", ("deleted_at", admin.EmptyFieldListFilter))
    search_fields = ("body", "author__email", "room__name")
    raw_id_fields = ("room", "author", "parent")
    list_select_related = ("room", "author")
    readonly_fields = [field.name for field in Message._meta.fields]
    actions = ("delete_with_trace",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Hard deletes would drop the trace and the thread; use the action instead.
        return False

    @admin.action(description=_("Delete the selected messages (leaving a trace)"))
    def delete_with_trace(self, request: HttpRequest, queryset: QuerySet[Message]) -> None:
        count = 0
        for message in queryset.select_related("room"):
            services.message_delete_by_staff(staff=request.user, message=message)
            count += 1
        self.message_user(
            request, _("%(count)d messages deleted.") % {"count": count}, messages.SUCCESS
        )
