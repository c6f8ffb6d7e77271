"""The calls back office: calls and ratings read-only (services own them), profiles with only
what staff decide (listing), specialties editable."""

from __future__ import annotations

from typing import Any

from django.contrib import admin

from calls.models import Call, CallRating, ProfessionalProfile, Specialty


class ReadOnlyAdmin(admin.ModelAdmin):
    """Written by services only: staff look, never edit."""

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Specialty)
class SpecialtyAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(ProfessionalProfile)
class ProfessionalProfileAdmin(admin.ModelAdmin):
    list_display = (
        "user",
        "price_per_minute",
        "status",
        "accepting_calls",
        "is_listed",
        "rating_average",
        "rating_count",
        "calls_completed",
    )
    list_filter = ("status", "accepting_calls", "is_listed", "specialties")
    search_fields = ("user__email", "user__display_name", "headline")
    raw_id_fields = ("user",)
    # Staff may hide a profile; everything else is the professional's, or kept by services.
    readonly_fields = tuple(
        field
        for field in (
            "user",
            "headline",
            "bio",
            "photo",
            "price_per_minute",
            "accepting_calls",
            "status",
            "status_changed_at",
            "presence_lost_at",
            "rating_count",
            "rating_sum",
            "rating_average",
            "calls_completed",
            "average_call_seconds",
        )
    )
    exclude = ("specialties",)

    def has_add_permission(self, request: Any) -> bool:
        return False


@admin.register(Call)
class CallAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "client",
        "professional",
        "status",
        "end_reason",
        "requested_at",
        "connected_at",
        "ended_at",
        "billed_units",
        "billed_amount",
    )
    list_filter = ("status", "end_reason", "media_path")
    search_fields = ("=id", "client__email", "professional__email")
    date_hierarchy = "requested_at"
    list_select_related = ("client", "professional")


@admin.register(CallRating)
class CallRatingAdmin(ReadOnlyAdmin):
    list_display = ("call", "professional", "client", "stars", "created_at")
    list_filter = ("stars",)
    search_fields = ("=call__id", "professional__email", "client__email")
    list_select_related = ("call", "professional", "client")
