"""Back office for users, organizations and memberships. Role changes go through services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from accounts import kyc, selectors, services
from accounts.models import AuditEvent, KycSubmission, Membership, Organization, User
from accounts.roles import Role
from accounts.services import LastOrgAdminError
from core.exceptions import ApplicationError


class UserCreationForm(AdminUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    ordering = ("email",)
    list_display = (
        "email",
        "display_name",
        "phone",
        "account_type",
        "email_verified_at",
        "phone_verified_at",
        "is_staff",
        "is_active",
        "created_at",
    )
    list_filter = ("is_staff", "is_superuser", "is_active", "account_type", "language")
    search_fields = ("email", "display_name", "phone")
    readonly_fields = ("created_at", "updated_at", "last_login")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("display_name", "phone", "language", "time_zone", "avatar")}),
        (
            "Verification",
            {
                "fields": (
                    "account_type",
                    "email_verified_at",
                    "phone_verified_at",
                    "email_undeliverable_at",
                    "email_undeliverable_reason",
                )
            },
        ),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = ("user", "role", "created_at")
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Organization)
class OrganizationAdmin(SimpleHistoryAdmin):
    list_display = ("name", "slug", "require_two_factor", "created_at")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (MembershipInline,)


class MembershipAdminForm(forms.ModelForm):
    """Refuses, as a form error, a change that would leave an organization with no admin."""

    class Meta:
        model = Membership
        fields = ("user", "organization", "role")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        membership = self.instance
        demoting = membership.pk and cleaned.get("role") not in (None, Role.ORG_ADMIN)
        if demoting and selectors.membership_is_last_org_admin(membership_id=membership.pk):
            raise forms.ValidationError(LastOrgAdminError.default_message)
        return cleaned


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    form = MembershipAdminForm
    list_display = ("user", "organization", "role", "created_at")
    list_filter = ("role", "organization")
    search_fields = ("user__email", "organization__name")
    autocomplete_fields = ("user", "organization")
    list_select_related = ("user", "organization")

    def get_readonly_fields(self, request: Any, obj: Any = None) -> tuple[str, ...]:
        # Once created, only the role changes, and only through the service.
        return ("user", "organization") if obj else ()

    def _refused(self, request: Any, error: ApplicationError) -> None:
        # The form check runs before the locks; the service (under its locks) has the last
        # word. When it refuses, say so and skip Django's "saved successfully".
        request._membership_refused = True
        self.message_user(request, error.message, level=messages.ERROR)

    def save_model(self, request: Any, obj: Membership, form: Any, change: bool) -> None:
        try:
            if change:
                services.membership_change_role(membership=obj, role=obj.role, actor=request.user)
            else:
                created = services.membership_create(
                    organization=obj.organization, user=obj.user, role=obj.role, actor=request.user
                )
                obj.pk = created.pk
        except ApplicationError as exc:
            self._refused(request, exc)

    def delete_model(self, request: Any, obj: Membership) -> None:
        try:
            services.membership_remove(membership=obj, actor=request.user)
        except ApplicationError as exc:
            self._refused(request, exc)

    def delete_queryset(self, request: Any, queryset: Any) -> None:
        # One by one through the service, so the last-admin rule and the events hold.
        for membership in queryset.order_by("pk"):
            self.delete_model(request, membership)

    def response_add(self, request: Any, obj: Membership, *args: Any) -> HttpResponse:
        if getattr(request, "_membership_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, *args)

    def response_change(self, request: Any, obj: Membership) -> HttpResponse:
        if getattr(request, "_membership_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def response_delete(self, request: Any, obj_display: str, obj_id: int) -> HttpResponse:
        if getattr(request, "_membership_refused", False):
            return HttpResponseRedirect(reverse("admin:accounts_membership_change", args=(obj_id,)))
        return super().response_delete(request, obj_display, obj_id)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """The audit trail: searchable and filterable, never editable."""

    list_display = ("created_at", "action", "actor_label", "target_type", "target_id", "ip_address")
    list_filter = ("action", "target_type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("actor_label", "target_id", "ip_address", "action")
    date_hierarchy = "created_at"
    list_select_related = ("organization",)
    readonly_fields = [field.name for field in AuditEvent._meta.fields]

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(KycSubmission)
class KycSubmissionAdmin(SimpleHistoryAdmin):
    """Staff review of identity documents; decisions go through the KYC services."""

    list_display = ("id", "user", "full_name", "status", "created_at", "reviewed_by", "reviewed_at")
    list_filter = ("status", ("created_at", admin.DateFieldListFilter))
    search_fields = ("user__email", "full_name", "cpf")
    list_select_related = ("user", "reviewed_by")
    actions = ("approve_selected", "reject_selected")
    fields = (
        "user",
        "full_name",
        "cpf",
        "birth_date",
        "document_front_preview",
        "document_back_preview",
        "selfie_preview",
        "status",
        "rejection_reason",
        "reviewed_by",
        "reviewed_at",
        "created_at",
    )
    readonly_fields = fields

    def has_view_permission(self, request: Any, obj: Any = None) -> bool:
        return request.user.has_perm("accounts.review_kyc")

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return request.user.has_perm("accounts.review_kyc")

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def _preview(self, obj: KycSubmission, kind: str) -> str:
        # Served by the permission-checked view, never by a public URL.
        url = reverse("accounts:kyc-file", args=(obj.pk, kind))
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" alt="" '
            'style="max-width:320px;max-height:240px;border:1px solid #ccc"></a>',
            url,
            url,
        )

    @admin.display(description="Document (front)")
    def document_front_preview(self, obj: KycSubmission) -> str:
        return self._preview(obj, "front")

    @admin.display(description="Document (back)")
    def document_back_preview(self, obj: KycSubmission) -> str:
        return self._preview(obj, "back")

    @admin.display(description="Selfie")
    def selfie_preview(self, obj: KycSubmission) -> str:
        return self._preview(obj, "selfie")

    @admin.action(description="Approve selected KYC submissions")
    def approve_selected(self, request: Any, queryset: Any) -> None:
        done = 0
        for submission in queryset.order_by("pk"):
            try:
                kyc.kyc_approve(submission=submission, reviewer=request.user)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{submission}: {exc.message}", level=messages.ERROR)
        if done:
            self.message_user(request, f"{done} approved.", level=messages.SUCCESS)

    @admin.action(description="Reject selected KYC submissions (asks for a reason)")
    def reject_selected(self, request: Any, queryset: Any) -> Any:
        reason = request.POST.get("reason", "").strip()
        if request.POST.get("confirm") != "yes" or not reason:
            return TemplateResponse(
                request,
                "admin/accounts/kycsubmission/reject.html",
                {**self.admin_site.each_context(request), "submissions": list(queryset)},
            )
        done = 0
        for submission in queryset.order_by("pk"):
            try:
                kyc.kyc_reject(submission=submission, reviewer=request.user, reason=reason)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{submission}: {exc.message}", level=messages.ERROR)
        if done:
            self.message_user(request, f"{done} rejected.", level=messages.SUCCESS)
        return None
