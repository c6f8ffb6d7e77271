"""The CRM: pipelines (funnels) with stages, deals on a kanban, contacts, companies, leads,
their tasks and timeline, saved views, CSV imports and the BotConversa connection.

Every row belongs to one organization; every query starts from it. Money is in centavos.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import private_storage
from core.fields import BytewiseCharField
from core.models import TimestampedModel

# Fractional-index keys longer than this are rebalanced (the column gets short keys again).
POSITION_MAX_LENGTH = 255


class Label(TimestampedModel):
    """A tag an organization puts on deals, contacts, companies and leads."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="crm_labels"
    )
    name = models.CharField(_("name"), max_length=50)
    color = models.CharField(_("colour"), max_length=7, default="#64748b")

    class Meta:
        verbose_name = _("label")
        verbose_name_plural = _("labels")
        ordering = ("name", "id")
        constraints = [
            models.UniqueConstraint(fields=("organization", "name"), name="crm_label_unique_name")
        ]

    def __str__(self) -> str:
        return self.name


class Pipeline(TimestampedModel):
    """A funnel. ``restricted`` pipelines are seen only by org admins and the agents given
    the ``crm.use_pipeline`` object permission (django-guardian)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="crm_pipelines"
    )
    name = models.CharField(_("name"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3, default="BRL")
    order = models.PositiveIntegerField(_("order"), default=0)
    restricted = models.BooleanField(_("restricted to chosen agents"), default=False)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ("order", "id")
        permissions = [("use_pipeline", _("Can work on the pipeline"))]
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "name"),
                condition=Q(archived_at__isnull=True),
                name="crm_pipeline_unique_active_name",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Stage(TimestampedModel):
    """A column of a pipeline. Deleting one first moves its deals to another stage."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=60)
    color = models.CharField(_("colour"), max_length=7, default="#3b82f6")
    probability = models.PositiveSmallIntegerField(_("win probability (%)"), default=0)
    is_won = models.BooleanField(_("won stage"), default=False)
    is_lost = models.BooleanField(_("lost stage"), default=False)
    order = models.PositiveIntegerField(_("order"), default=0)
    # Deals untouched for this many days show as "rotting" (Pipedrive's rotten_days).
    rotting_days = models.PositiveSmallIntegerField(
        _("rotting after (days)"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("stage")
        verbose_name_plural = _("stages")
        ordering = ("order", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(probability__lte=100), name="crm_stage_probability_valid"
            ),
            models.CheckConstraint(
                condition=~Q(is_won=True, is_lost=True), name="crm_stage_not_won_and_lost"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CustomFieldKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    CHOICE = "choice", _("Choice")


class CustomField(TimestampedModel):
    """A field the deals of one pipeline carry, in ``Deal.custom_fields[key]``."""

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="custom_fields")
    key = models.SlugField(_("key"), max_length=40)
    label = models.CharField(_("label"), max_length=60)
    kind = models.CharField(_("kind"), max_length=10, choices=CustomFieldKind.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    order = models.PositiveIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ("order", "id")
        constraints = [
            models.UniqueConstraint(fields=("pipeline", "key"), name="crm_customfield_unique_key"),
            models.CheckConstraint(
                condition=Q(kind__in=CustomFieldKind.values), name="crm_customfield_kind_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.label


class LostReason(TimestampedModel):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="crm_lost_reasons"
    )
    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveIntegerField(_("order"), default=0)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("lost reason")
        verbose_name_plural = _("lost reasons")
        ordering = ("order", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "name"), name="crm_lostreason_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Company(TimestampedModel):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="crm_companies"
    )
    name = models.CharField(_("name"), max_length=150)
    domain = models.CharField(_("website domain"), max_length=150, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    tax_id = models.CharField(_("CNPJ"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=255, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="crm_companies",
    )
    source = models.CharField(_("source"), max_length=60, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    labels = models.ManyToManyField(Label, blank=True, related_name="companies")

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ("name", "id")
        indexes = [models.Index(fields=("organization", "name"))]

    def __str__(self) -> str:
        return self.name


class Contact(TimestampedModel):
    """A person the organization sells to or supports.

    ``phone`` is E.164 ("+5511999998888"). ``user`` links a platform account (a student,
    a client). A merged contact keeps ``merged_into`` and leaves every list.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="crm_contacts"
    )
    name = models.CharField(_("name"), max_length=150)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    company = models.ForeignKey(
        Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="contacts"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="crm_contacts",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="crm_contact_records",
    )
    source = models.CharField(_("source"), max_length=60, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    labels = models.ManyToManyField(Label, blank=True, related_name="contacts")
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ("name", "id")
        indexes = [
            models.Index(fields=("organization", "email")),
            models.Index(fields=("organization", "phone")),
            models.Index(fields=("organization", "name")),
        ]

    def __str__(self) -> str:
        return self.name


class SupportContactLink(models.Model):
    """Which CRM contact a support-inbox contact (widget visitor, student, WhatsApp) is.

    The link lives here because the CRM builds on the inbox, never the other way round.
    """

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="support_links")
    support_contact = models.OneToOneField(
        "queueing.Contact", on_delete=models.CASCADE, related_name="crm_link"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("support contact link")
        verbose_name_plural = _("support contact links")

    def __str__(self) -> str:
        return f"{self.support_contact_id} -> {self.contact_id}"


class LeadStatus(models.TextChoices):
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Contacted")
    QUALIFIED = "qualified", _("Qualified")
    DISQUALIFIED = "disqualified", _("Disqualified")
    CONVERTED = "converted", _("Converted")


class Lead(TimestampedModel):
    """Someone not yet qualified. Converting makes a contact (found or new) and a deal."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="crm_leads"
    )
    name = models.CharField(_("name"), max_length=150)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    company_name = models.CharField(_("company"), max_length=150, blank=True)
    source = models.CharField(_("source"), max_length=60, blank=True)
    status = models.CharField(
        _("status"), max_length=15, choices=LeadStatus.choices, default=LeadStatus.NEW
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="crm_leads",
    )
    notes = models.TextField(_("notes"), blank=True)
    labels = models.ManyToManyField(Label, blank=True, related_name="leads")
    converted_contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    converted_deal = models.ForeignKey(
        "Deal", on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    converted_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="merged"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=LeadStatus.values), name="crm_lead_status_valid"
            )
        ]
        indexes = [
            models.Index(fields=("organization", "email")),
            models.Index(fields=("organization", "phone")),
            models.Index(fields=("organization", "status", "created_at")),
        ]

    def __str__(self) -> str:
        return self.name


class DealStatus(models.TextChoices):
    OPEN = "open", _("Open")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class Deal(TimestampedModel):
    """A card on a pipeline's board.

    ``position`` is a fractional-index key (bytewise order) inside its stage; ties are broken
    by id. ``version`` grows by one on every change, so clients drop stale events and a move
    or edit made against an old version is refused with the current state.
    ``probability`` overrides the stage's when set.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="crm_deals"
    )
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="deals")
    position = BytewiseCharField(_("position"), max_length=POSITION_MAX_LENGTH)
    version = models.PositiveIntegerField(default=1)
    title = models.CharField(_("title"), max_length=200)
    value = models.BigIntegerField(_("value (centavos)"), default=0)
    currency = models.CharField(_("currency"), max_length=3, default="BRL")
    probability = models.PositiveSmallIntegerField(_("win probability (%)"), null=True, blank=True)
    contact = models.ForeignKey(
        Contact, on_delete=models.SET_NULL, null=True, blank=True, related_name="deals"
    )
    company = models.ForeignKey(
        Company, on_delete=models.SET_NULL, null=True, blank=True, related_name="deals"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="crm_deals",
    )
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    labels = models.ManyToManyField(Label, blank=True, related_name="deals")
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=5, choices=DealStatus.choices, default=DealStatus.OPEN
    )
    lost_reason = models.ForeignKey(
        LostReason, on_delete=models.SET_NULL, null=True, blank=True, related_name="deals"
    )
    lost_note = models.CharField(_("lost note"), max_length=255, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    stage_changed_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("deal")
        verbose_name_plural = _("deals")
        ordering = ("stage", "position", "id")
        constraints = [
            models.CheckConstraint(condition=Q(value__gte=0), name="crm_deal_value_not_negative"),
            models.CheckConstraint(
                condition=Q(probability__isnull=True) | Q(probability__lte=100),
                name="crm_deal_probability_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=DealStatus.values), name="crm_deal_status_valid"
            ),
        ]
        indexes = [
            models.Index(fields=("stage", "position", "id"), name="crm_deal_board_order"),
            models.Index(fields=("organization", "pipeline", "status")),
            models.Index(fields=("organization", "owner")),
            models.Index(fields=("organization", "created_at")),
        ]

    def __str__(self) -> str:
        return self.title


class ActivityKind(models.TextChoices):
    CREATED = "created", _("Created")
    NOTE = "note", _("Note")
    STAGE_CHANGE = "stage_change", _("Stage change")
    FIELD_CHANGE = "field_change", _("Edit")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")
    REOPENED = "reopened", _("Reopened")
    TASK = "task", _("Task")
    TASK_DONE = "task_done", _("Task done")
    CONVERSATION = "conversation", _("Support conversation")
    CALL = "call", _("Call")
    MERGE = "merge", _("Merge")
    CONVERSION = "conversion", _("Lead converted")
    IMPORT = "import", _("Imported")
    BOTCONVERSA = "botconversa", _("BotConversa")


class Activity(models.Model):
    """One line of a deal's, contact's or lead's timeline: what happened, who did it, when.

    ``data`` holds the details of the kind (a stage change's from/to, the changed fields).
    """

    id = models.BigAutoField(primary_key=True)
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="crm_activities"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=ActivityKind.choices)
    deal = models.ForeignKey(
        Deal, on_delete=models.CASCADE, null=True, blank=True, related_name="activities"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="activities"
    )
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, null=True, blank=True, related_name="activities"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    body = models.TextField(_("text"), blank=True)
    data = models.JSONField(default=dict, blank=True)
    conversation = models.ForeignKey(
        "queueing.Conversation",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="crm_activities",
    )
    call = models.ForeignKey(
        "calls.Call",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="crm_activities",
    )
    task = models.ForeignKey(
        "Task", on_delete=models.SET_NULL, null=True, blank=True, related_name="activities"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=ActivityKind.values), name="crm_activity_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(deal__isnull=False) | Q(contact__isnull=False) | Q(lead__isnull=False),
                name="crm_activity_has_subject",
            ),
        ]
        indexes = [
            models.Index(fields=("deal", "-created_at", "-id")),
            models.Index(fields=("contact", "-created_at", "-id")),
            models.Index(fields=("lead", "-created_at", "-id")),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.created_at:%Y-%m-%d %H:%M}"


class Task(TimestampedModel):
    """Something to do about a deal, contact or lead by a due time; reminded once at it."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="crm_tasks"
    )
    title = models.CharField(_("title"), max_length=200)
    notes = models.TextField(_("notes"), blank=True)
    due_at = models.DateTimeField(_("due"))
    deal = models.ForeignKey(
        Deal, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    lead = models.ForeignKey(
        Lead, on_delete=models.CASCADE, null=True, blank=True, related_name="tasks"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="crm_tasks"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("task")
        verbose_name_plural = _("tasks")
        ordering = ("due_at", "id")
        constraints = [
            models.CheckConstraint(
                condition=Q(deal__isnull=False) | Q(contact__isnull=False) | Q(lead__isnull=False),
                name="crm_task_has_subject",
            )
        ]
        indexes = [
            models.Index(fields=("organization", "assignee", "done_at", "due_at")),
            # The reminder sweep: open tasks not yet reminded, by due time.
            models.Index(
                fields=("due_at",),
                condition=Q(done_at__isnull=True, reminded_at__isnull=True),
                name="crm_task_reminder_due",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class SavedViewEntity(models.TextChoices):
    DEALS = "deals", _("Deals")
    CONTACTS = "contacts", _("Contacts")
    COMPANIES = "companies", _("Companies")
    LEADS = "leads", _("Leads")
    TASKS = "tasks", _("Tasks")


class SavedViewMode(models.TextChoices):
    LIST = "list", _("List")
    BOARD = "board", _("Board")


class SavedView(TimestampedModel):
    """A user's named filter set for one kind of record, shown as a list or a board."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="crm_saved_views"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="crm_saved_views"
    )
    name = models.CharField(_("name"), max_length=80)
    entity = models.CharField(_("records"), max_length=10, choices=SavedViewEntity.choices)
    mode = models.CharField(
        _("mode"), max_length=5, choices=SavedViewMode.choices, default=SavedViewMode.LIST
    )
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    order = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        ordering = ("order", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "user", "name"), name="crm_savedview_unique_name"
            ),
            models.CheckConstraint(
                condition=Q(entity__in=SavedViewEntity.values), name="crm_savedview_entity_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ImportEntity(models.TextChoices):
    CONTACTS = "contacts", _("Contacts")
    DEALS = "deals", _("Deals")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


def import_upload_path(instance: ImportJob, filename: str) -> str:
    return f"crm/imports/{instance.organization_id}/{secrets.token_hex(8)}.csv"


class ImportJob(TimestampedModel):
    """A CSV file being imported: uploaded, previewed and mapped, then run by a task.

    ``next_row`` is where a resumed run continues (the task is idempotent: rows before it
    are done). ``errors`` lists ``{"row": n, "field": name, "message": text}``.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="crm_imports"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    entity = models.CharField(_("records"), max_length=10, choices=ImportEntity.choices)
    file = models.FileField(upload_to=import_upload_path, storage=private_storage)
    filename = models.CharField(max_length=255, blank=True)
    pipeline = models.ForeignKey(
        Pipeline, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    mapping = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    total_rows = models.PositiveIntegerField(default=0)
    next_row = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ("-created_at", "-id")

    def __str__(self) -> str:
        return f"{self.entity} {self.filename}"


def new_inbound_token() -> str:
    return secrets.token_urlsafe(32)


class BotConversaConnection(TimestampedModel):
    """An organization's BotConversa account: the API key (encrypted), where WhatsApp
    attendances go in the inbox, and the secret of the inbound endpoint its flows call."""

    organization = models.OneToOneField(
        "accounts.Organization", on_delete=models.CASCADE, related_name="botconversa"
    )
    api_key_encrypted = models.TextField(blank=True)
    api_url = models.URLField(
        _("API address"), default="https://backend.botconversa.com.br/api/v1/webhook/"
    )
    inbound_token = models.CharField(max_length=64, unique=True, default=new_inbound_token)
    enabled = models.BooleanField(_("enabled"), default=True)
    queue = models.ForeignKey(
        "queueing.SupportQueue",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("BotConversa connection")
        verbose_name_plural = _("BotConversa connections")

    def __str__(self) -> str:
        return f"BotConversa {self.organization_id}"


class BotConversaSubscriber(TimestampedModel):
    """A CRM contact's BotConversa subscriber id (unique per organization)."""

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="botconversa_subscribers"
    )
    subscriber_id = models.CharField(max_length=40)
    phone = models.CharField(max_length=20, blank=True)

    class Meta:
        verbose_name = _("BotConversa subscriber")
        verbose_name_plural = _("BotConversa subscribers")
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "subscriber_id"), name="crm_bcsubscriber_unique"
            )
        ]

    def __str__(self) -> str:
        return self.subscriber_id


class BotConversaRuleKind(models.TextChoices):
    # A deal entering ``stage`` adds the tag ``tag_name`` to the contact's subscriber.
    STAGE_ADDS_TAG = "stage_adds_tag", _("Stage adds a tag")
    # A deal entering ``stage`` starts the flow ``flow_id`` for the contact's subscriber.
    STAGE_STARTS_FLOW = "stage_starts_flow", _("Stage starts a flow")
    # The tag ``tag_name`` arriving from BotConversa moves the contact's deal (or lead) to
    # ``stage``.
    TAG_MOVES_TO_STAGE = "tag_moves_to_stage", _("Tag moves to a stage")


class BotConversaRule(TimestampedModel):
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=BotConversaRuleKind.choices)
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="botconversa_rules")
    tag_name = models.CharField(max_length=100, blank=True)
    flow_id = models.CharField(max_length=40, blank=True)

    class Meta:
        verbose_name = _("BotConversa rule")
        verbose_name_plural = _("BotConversa rules")
        ordering = ("id",)
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=BotConversaRuleKind.values),
                name="crm_bcrule_kind_valid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.stage_id}"


class DispatchStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class BotConversaDispatch(TimestampedModel):
    """One call we make to BotConversa, sent by a task with bounded retries.

    ``key`` makes a dispatch idempotent (one per message, per rule and deal version...).
    Failed ones stay, with the error, for org admins to see and retry.
    """

    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.CASCADE, related_name="+"
    )
    action = models.CharField(max_length=20)
    key = models.CharField(max_length=120)
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=DispatchStatus.choices, default=DispatchStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("BotConversa dispatch")
        verbose_name_plural = _("BotConversa dispatches")
        ordering = ("-created_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("organization", "key"), name="crm_bcdispatch_unique_key"
            )
        ]
        indexes = [models.Index(fields=("organization", "status", "-created_at"))]

    def __str__(self) -> str:
        return f"{self.action} {self.key}"
