"""The wallet's back office: the ledger read-only, PIX charges and payments under review,
the payout queue and the disputes queue. Every decision goes through a service, which audits
it; nothing here edits a balance or a transfer.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import ApplicationError
from wallet import disputes, payouts, services
from wallet.models import (
    Account,
    Dispute,
    DisputeStatus,
    Hold,
    LedgerCheckRun,
    Payout,
    PayoutStatus,
    PixCharge,
    PixPayment,
    PixPaymentOutcome,
    TokenPackage,
    Transfer,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """The ledger is written by services only: staff look, never edit."""

    def has_add_permission(self, request: Any) -> bool:
        return False

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ("key", "user", "organization", "asset", "kind", "balance", "held")
    list_filter = ("asset", "kind", "never_negative")
    search_fields = ("key", "user__email", "organization__name")
    list_select_related = ("user", "organization")


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "created_at",
        "kind",
        "asset",
        "amount",
        "debit_account",
        "credit_account",
        "reference",
    )
    list_filter = ("kind", "asset", ("created_at", admin.DateFieldListFilter))
    search_fields = ("reference", "idempotency_key", "debit_account__key", "credit_account__key")
    list_select_related = ("debit_account", "credit_account")
    date_hierarchy = "created_at"


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "kind", "amount", "posted_amount", "status", "reference")
    list_filter = ("status", "kind", "asset")
    search_fields = ("reference", "idempotency_key", "debit_account__key")
    list_select_related = ("debit_account",)


@admin.register(TokenPackage)
class TokenPackageAdmin(admin.ModelAdmin):
    list_display = ("name", "tokens", "price_centavos", "active", "position")
    list_editable = ("active", "position")
    list_filter = ("active",)

    def has_delete_permission(self, request: Any, obj: Any = None) -> bool:
        # A package that was sold stays for the record; staff deactivate it instead.
        return obj is None or not obj.charges.exists()


class PixPaymentInline(admin.TabularInline):
    model = PixPayment
    extra = 0
    can_delete = False
    fields = ("end_to_end_id", "amount_centavos", "paid_at", "source", "outcome", "review_reason")
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(PixCharge)
class PixChargeAdmin(ReadOnlyAdmin):
    list_display = (
        "txid",
        "user",
        "tokens",
        "amount_centavos",
        "status",
        "review_reason",
        "created_at",
        "paid_at",
    )
    list_filter = ("status", "provider", ("created_at", admin.DateFieldListFilter))
    search_fields = ("txid", "user__email")
    list_select_related = ("user",)
    inlines = (PixPaymentInline,)


def _report(admin_: admin.ModelAdmin, request: Any, done: int, verb: str) -> None:
    if done:
        admin_.message_user(request, _("%(count)s %(verb)s.") % {"count": done, "verb": verb})


def _each(admin_: admin.ModelAdmin, request: Any, queryset: Any, work: Any) -> int:
    done = 0
    for obj in queryset.order_by("pk"):
        try:
            work(obj)
            done += 1
        except ApplicationError as exc:
            admin_.message_user(request, f"{obj}: {exc.message}", level=messages.ERROR)
    return done


@admin.register(PixPayment)
class PixPaymentAdmin(ReadOnlyAdmin):
    """Payments that did not match their charge wait here for a person's decision."""

    list_display = (
        "end_to_end_id",
        "charge",
        "amount_centavos",
        "paid_at",
        "source",
        "outcome",
        "review_reason",
        "resolved_by",
    )
    list_filter = ("outcome", "source")
    search_fields = ("end_to_end_id", "charge__txid", "charge__user__email")
    list_select_related = ("charge", "resolved_by")
    actions = ("credit_selected", "dismiss_selected")

    def has_resolve_permission(self, request: Any) -> bool:
        return bool(request.user.has_perm("wallet.change_pixpayment"))

    @admin.action(
        permissions=["resolve"],
        description=gettext_lazy("Credit the charge's tokens for the selected payments"),
    )
    def credit_selected(self, request: Any, queryset: Any) -> None:
        done = _each(
            self,
            request,
            queryset.filter(outcome=PixPaymentOutcome.REVIEW),
            lambda p: services.pix_payment_resolve(payment=p, actor=request.user, credit=True),
        )
        _report(self, request, done, _("credited"))

    @admin.action(
        permissions=["resolve"],
        description=gettext_lazy("Dismiss the selected payments (returned outside)"),
    )
    def dismiss_selected(self, request: Any, queryset: Any) -> None:
        done = _each(
            self,
            request,
            queryset.filter(outcome=PixPaymentOutcome.REVIEW),
            lambda p: services.pix_payment_resolve(payment=p, actor=request.user, credit=False),
        )
        _report(self, request, done, _("dismissed"))


def _form(
    admin_: admin.ModelAdmin,
    request: Any,
    objects: Any,
    *,
    action: str,
    question: str,
    submit: str,
    reason_label: str,
    reason_required: bool,
    amount_label: str = "",
) -> TemplateResponse:
    return TemplateResponse(
        request,
        "admin/wallet/action_form.html",
        {
            **admin_.admin_site.each_context(request),
            "objects": list(objects),
            "action": action,
            "question": question,
            "submit": submit,
            "reason_label": reason_label,
            "reason_required": reason_required,
            "amount_label": amount_label,
        },
    )


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    """The payout queue: approve (the PIX is sent) or reject (the tokens go back)."""

    list_display = (
        "id",
        "user",
        "amount",
        "amount_centavos",
        "pix_key_type",
        "masked_key",
        "status",
        "created_at",
        "reviewed_by",
        "completed_at",
    )
    list_filter = ("status", "pix_key_type", ("created_at", admin.DateFieldListFilter))
    search_fields = ("user__email", "provider_reference", "end_to_end_id")
    list_select_related = ("user", "reviewed_by")
    actions = ("approve_selected", "reject_selected")

    def has_resolve_permission(self, request: Any) -> bool:
        return bool(request.user.has_perm("wallet.change_payout"))

    @admin.action(
        permissions=["resolve"], description=gettext_lazy("Approve and send the selected payouts")
    )
    def approve_selected(self, request: Any, queryset: Any) -> None:
        done = _each(
            self,
            request,
            queryset,
            lambda p: payouts.payout_approve(payout=p, actor=request.user),
        )
        _report(self, request, done, _("approved"))

    @admin.action(
        permissions=["resolve"],
        description=gettext_lazy("Reject the selected payouts (asks for a reason)"),
    )
    def reject_selected(self, request: Any, queryset: Any) -> Any:
        reason = request.POST.get("reason", "").strip()
        if request.POST.get("confirm") != "yes" or not reason:
            return _form(
                self,
                request,
                queryset.filter(status=PayoutStatus.REQUESTED),
                action="reject_selected",
                question=_("Reject these payouts? The tokens go back to available earnings."),
                submit=_("Reject"),
                reason_label=_("Reason shown to the professional"),
                reason_required=True,
            )
        done = _each(
            self,
            request,
            queryset,
            lambda p: payouts.payout_reject(payout=p, actor=request.user, reason=reason),
        )
        _report(self, request, done, _("rejected"))
        return None


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    """The disputes queue: reject, refund in full, or refund part of the charge."""

    list_display = (
        "id",
        "client",
        "reference",
        "reason",
        "charged_amount",
        "status",
        "refunded_amount",
        "created_at",
        "resolved_by",
    )
    list_filter = ("status", "reason", ("created_at", admin.DateFieldListFilter))
    search_fields = ("client__email", "reference")
    list_select_related = ("client", "resolved_by")
    actions = ("refund_in_full", "refund_in_part", "reject_selected")

    def has_resolve_permission(self, request: Any) -> bool:
        return bool(request.user.has_perm("wallet.change_dispute"))

    @admin.action(
        permissions=["resolve"], description=gettext_lazy("Refund the selected disputes in full")
    )
    def refund_in_full(self, request: Any, queryset: Any) -> Any:
        if request.POST.get("confirm") != "yes":
            return _form(
                self,
                request,
                queryset.filter(status=DisputeStatus.OPEN),
                action="refund_in_full",
                question=_("Refund these charges in full?"),
                submit=_("Refund"),
                reason_label=_("Note to the client (optional)"),
                reason_required=False,
            )
        note = request.POST.get("reason", "")
        done = _each(
            self,
            request,
            queryset,
            lambda d: disputes.dispute_refund(dispute=d, actor=request.user, note=note),
        )
        _report(self, request, done, _("refunded"))
        return None

    @admin.action(
        permissions=["resolve"], description=gettext_lazy("Refund part of the selected dispute")
    )
    def refund_in_part(self, request: Any, queryset: Any) -> Any:
        raw = request.POST.get("amount", "")
        if request.POST.get("confirm") != "yes" or not raw.isdigit():
            return _form(
                self,
                request,
                queryset.filter(status=DisputeStatus.OPEN),
                action="refund_in_part",
                question=_("Refund part of these charges?"),
                submit=_("Refund"),
                reason_label=_("Note to the client (optional)"),
                reason_required=False,
                amount_label=_("Tokens to refund (for each dispute)"),
            )
        amount, note = int(raw), request.POST.get("reason", "")
        done = _each(
            self,
            request,
            queryset,
            lambda d: disputes.dispute_refund(
                dispute=d, actor=request.user, amount=amount, note=note
            ),
        )
        _report(self, request, done, _("refunded"))
        return None

    @admin.action(permissions=["resolve"], description=gettext_lazy("Reject the selected disputes"))
    def reject_selected(self, request: Any, queryset: Any) -> Any:
        if request.POST.get("confirm") != "yes":
            return _form(
                self,
                request,
                queryset.filter(status=DisputeStatus.OPEN),
                action="reject_selected",
                question=_("Reject these disputes without a refund?"),
                submit=_("Reject"),
                reason_label=_("Note to the client (optional)"),
                reason_required=False,
            )
        note = request.POST.get("reason", "")
        done = _each(
            self,
            request,
            queryset,
            lambda d: disputes.dispute_reject(dispute=d, actor=request.user, note=note),
        )
        _report(self, request, done, _("rejected"))
        return None


@admin.register(LedgerCheckRun)
class LedgerCheckRunAdmin(ReadOnlyAdmin):
    """The result of each ``ledger_check``, newest first (nightly, and on demand from here)."""

    list_display = ("ran_at", "ok", "accounts_checked", "transfers_checked", "problem_count")
    list_filter = ("ok",)
    actions = ("run_now",)

    @admin.display(description=gettext_lazy("problems"))
    def problem_count(self, obj: LedgerCheckRun) -> int:
        return len(obj.problems)

    @admin.action(description=gettext_lazy("Run the ledger check now"))
    def run_now(self, request: Any, queryset: Any) -> None:
        from wallet.checks import ledger_check_run

        run = ledger_check_run()
        level = messages.SUCCESS if run.ok else messages.ERROR
        self.message_user(request, str(run), level=level)
