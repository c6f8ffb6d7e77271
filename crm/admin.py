"""Back office for the CRM.

Organizations run their CRM in the web app (``/crm``); staff inspect it here. Deals are
read-only: their position, version and status change only through ``crm.deals`` (a move
written here would skip the lock, the version and the live event). BotConversa API keys are
never shown (only whether one is set), and dispatches are read-only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin

from crm.models import (
    Activity,
    BotConversaConnection,
    BotConversaDispatch,
    BotConversaRule,
    Company,
    Contact,
    CustomField,
    Deal,
    ImportJob,
    Label,
    Lead,
    LostReason,
    Pipeline,
    SavedView,
    Stage,
    Task,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StageInline(admin.TabularInline):
    model = Stage
    extra = 0
    fields = ("order", "name", "color", "probability", "is_won", "is_lost", "rotting_days")


class CustomFieldInline(admin.TabularInline):
    model = CustomField
    extra = 0
    fields = ("order", "key", "label", "kind", "choices", "required")


@admin.register(Pipeline)
class PipelineAdmin(GuardedModelAdmin):
    """Pipelines with their stages; "Object permissions" grants restricted pipelines."""

    list_display = ("name", "organization", "restricted", "archived_at", "created_at")
    list_filter = ("restricted",)
    search_fields = ("name", "organization__name")
    raw_id_fields = ("organization",)
    inlines = (StageInline, CustomFieldInline)


@admin.register(Deal)
class DealAdmin(ReadOnlyAdmin):
    list_display = ("title", "organization", "pipeline", "stage", "value", "status", "owner")
    list_filter = ("status",)
    search_fields = ("title", "contact__name", "organization__name")
    raw_id_fields = ("organization", "pipeline", "stage", "contact", "company", "owner")
    date_hierarchy = "created_at"


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "phone", "organization", "owner", "merged_into")
    search_fields = ("name", "email", "phone", "organization__name")
    raw_id_fields = ("organization", "company", "owner", "user", "merged_into", "created_by")


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ("name", "domain", "organization", "owner")
    search_fields = ("name", "domain", "organization__name")
    raw_id_fields = ("organization", "owner")


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ("name", "email", "phone", "status", "organization", "owner")
    list_filter = ("status",)
    search_fields = ("name", "email", "phone", "organization__name")
    raw_id_fields = (
        "organization",
        "owner",
        "converted_contact",
        "converted_deal",
        "merged_into",
        "created_by",
    )


@admin.register(Label, LostReason)
class NamedAdmin(admin.ModelAdmin):
    list_display = ("name", "organization")
    search_fields = ("name", "organization__name")
    raw_id_fields = ("organization",)


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ("title", "organization", "assignee", "due_at", "done_at", "reminded_at")
    search_fields = ("title", "organization__name")
    raw_id_fields = ("organization", "deal", "contact", "lead", "assignee", "created_by", "done_by")


@admin.register(Activity)
class ActivityAdmin(ReadOnlyAdmin):
    list_display = ("kind", "organization", "deal", "contact", "lead", "actor", "created_at")
    list_filter = ("kind",)
    raw_id_fields = ("organization", "deal", "contact", "lead", "actor", "conversation", "call")


@admin.register(SavedView)
class SavedViewAdmin(admin.ModelAdmin):
    list_display = ("name", "entity", "mode", "user", "organization")
    raw_id_fields = ("organization", "user")


@admin.register(ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    list_display = ("filename", "entity", "status", "total_rows", "error_count", "organization")
    list_filter = ("status", "entity")
    raw_id_fields = ("organization", "created_by", "pipeline")


@admin.register(BotConversaConnection)
class BotConversaConnectionAdmin(admin.ModelAdmin):
    list_display = ("organization", "enabled", "api_key_set", "last_checked_at", "last_check_ok")
    fields = ("organization", "api_url", "enabled", "queue", "last_checked_at", "last_error")
    readonly_fields = ("last_checked_at", "last_error")
    raw_id_fields = ("organization", "queue")

    @admin.display(boolean=True, description=_("API key set"))
    def api_key_set(self, obj: BotConversaConnection) -> bool:
        return bool(obj.api_key_encrypted)


@admin.register(BotConversaRule)
class BotConversaRuleAdmin(admin.ModelAdmin):
    list_display = ("kind", "stage", "tag_name", "flow_id", "organization")
    raw_id_fields = ("organization", "stage")


@admin.register(BotConversaDispatch)
class BotConversaDispatchAdmin(ReadOnlyAdmin):
    list_display = ("action", "key", "status", "attempts", "last_error", "organization")
    list_filter = ("status", "action")
    raw_id_fields = ("organization",)
