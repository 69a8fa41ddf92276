"""Projects, their members, the raw items, predictions and import jobs; users' API tokens."""

import secrets

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from projects.items.order import ItemSequence, ItemShuffle
from projects.label_schema import default_label_schema, schema_validate


class Project(models.Model):
    class Ordering(models.TextChoices):
        SEQUENTIAL = "sequential", "Sequential"
        RANDOM = "random", "Random"
        PRIORITY = "priority", "By priority"
        UNCERTAINTY = "uncertainty", "By model uncertainty"

    class ReviewPolicy(models.TextChoices):
        NONE = "none", "No review"
        DISAGREEMENTS = "disagreements", "Disagreements only"
        ALL = "all", "Review everything"

    class Aggregation(models.TextChoices):
        MAJORITY = "majority", "Majority vote"
        DAWID_SKENE = "dawid_skene", "Dawid-Skene"

    name = models.CharField(max_length=200)
    instructions = models.TextField(blank=True, help_text="Markdown shown to annotators.")
    label_schema = models.JSONField(default=default_label_schema)
    overlap = models.PositiveSmallIntegerField(default=1, help_text="Annotations wanted per item.")
    max_overlap = models.PositiveSmallIntegerField(
        default=5,
        help_text="With no review, a tied item asks for more answers, up to this many in all.",
    )
    assignment_timeout = models.PositiveIntegerField(
        default=30 * 60, help_text="Seconds an annotator may hold an item."
    )
    ordering = models.CharField(
        max_length=20, choices=Ordering.choices, default=Ordering.SEQUENTIAL
    )
    review_policy = models.CharField(
        max_length=20, choices=ReviewPolicy.choices, default=ReviewPolicy.DISAGREEMENTS
    )
    auto_accept_threshold = models.FloatField(
        default=0.0, help_text="Agreement (0-1) at or above which a resolution is accepted."
    )
    aggregation = models.CharField(
        max_length=20, choices=Aggregation.choices, default=Aggregation.MAJORITY
    )
    gold_share = models.FloatField(default=0.0, help_text="Share (0-1) of each queue that is gold.")
    prefill_predictions = models.BooleanField(default=False)
    skip_reasons = models.JSONField(
        default=list,
        blank=True,
        help_text="Reasons offered to an annotator who skips an item (free text too).",
    )
    monitor_baseline_rate = models.FloatField(
        default=0.01, help_text="Share (0-1) of prediction events routed to labeling at random."
    )
    # Set anew (at random) whenever a routing rule is saved or deleted, by RoutingRule alone
    # (labeling.monitor.models): a process's copy of the rules holds while the project row it
    # reads says the generation it copied them under.
    monitor_rules_generation = models.BigIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(overlap__gte=1), name="project_overlap_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args, **kwargs):
        # Never the rules' generation: an instance read before a rule changed would put back
        # one that processes still hold the old rules under.
        updating = not self._state.adding and self.pk is not None
        if updating and kwargs.get("update_fields") is None and not kwargs.get("force_insert"):
            deferred = self.get_deferred_fields()
            kwargs["update_fields"] = [f for f in SAVED_FIELDS if f not in deferred]
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        # Items reference the project with no database constraint: inserts of items lock the
        # project row (projects.items.bulk.project_lock_for_items), so locking it first makes
        # this wait for batches in flight, and later batches find the project gone.
        with transaction.atomic():
            list(Project.objects.select_for_update().filter(pk=self.pk).values_list("pk"))
            return super().delete(*args, **kwargs)

    def clean(self) -> None:
        try:
            schema_validate(self.label_schema)
        except ValueError as exc:
            raise ValidationError(f"Label schema: {exc}") from exc


SAVED_FIELDS = [
    f.attname
    for f in Project._meta.concrete_fields
    if not f.primary_key and f.name != "monitor_rules_generation"
]


class Membership(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", "Lead"
        REVIEWER = "reviewer", "Reviewer"
        ANNOTATOR = "annotator", "Annotator"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "user"], name="membership_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} as {self.role} in {self.project}"


# Item states the queue's partial indexes cover (see Item.Meta.indexes and labeling.annotate.queue).
ITEM_FRESH = models.Q(status="open", gold__isnull=True, annotation_count=0, assigned_count=0)
ITEM_STARTED = models.Q(status="open", gold__isnull=True) & (
    models.Q(annotation_count__gt=0) | models.Q(assigned_count__gt=0)
)


def item_fresh(ordering: str) -> models.Q:
    """Fresh items filed under the queue ordering: what that ordering's partial index holds."""
    return ITEM_FRESH & models.Q(queue_ordering=ordering)


class Item(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"  # still wants annotations
        LABELED = "labeled", "Labeled"  # has all its annotations, not yet resolved
        IN_REVIEW = "in_review", "In review"
        RESOLVED = "resolved", "Resolved"

    # No index of its own: (project, external_id) and the queue indexes lead with it, and each
    # index costs every import and every queue write. No database constraint either: its check
    # locks the project row once per inserted row, about a quarter of an import's time.
    # Django still cascades deletes; item inserts lock the project row once per batch instead
    # (projects.items.bulk.project_lock_for_items) and Project.delete locks it first, so a
    # project deleted during an import leaves no orphan items.
    project = models.ForeignKey(
        Project,
        on_delete=models.CASCADE,
        related_name="items",
        db_index=False,
        db_constraint=False,
    )
    external_id = models.CharField(max_length=255)
    data = models.JSONField(default=dict)
    priority = models.IntegerField(default=0)
    gold = models.JSONField(null=True, blank=True, help_text="Known answer (label contract).")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    width = models.PositiveIntegerField(null=True, blank=True, help_text="Image width, pixels.")
    height = models.PositiveIntegerField(null=True, blank=True, help_text="Image height, pixels.")
    # Counters the queue reads instead of counting rows (kept by labeling.annotate.queue).
    annotation_count = models.PositiveIntegerField(default=0)
    assigned_count = models.PositiveIntegerField(default=0)  # active, unexpired assignments
    extra_slots = models.PositiveSmallIntegerField(default=0)  # added by "send back" in review
    skip_count = models.PositiveIntegerField(default=0)
    # Score of the newest prediction (kept by projects.items.predictions): the uncertainty ordering
    # serves the lowest first, items without a prediction last.
    prediction_score = models.FloatField(null=True, blank=True)
    # Model version of the newest prediction, kept with its score (the data manager sorts by it).
    prediction_model_version = models.CharField(max_length=100, null=True, blank=True)
    # The queue ordering the item is filed under: only that ordering's "fresh" index holds it,
    # so an insert updates one of those indexes, not four. New items take their project's
    # ordering; when the project changes it, projects.items.filing refiles the items.
    queue_ordering = models.CharField(
        max_length=20, choices=Project.Ordering.choices, default=Project.Ordering.SEQUENTIAL
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "external_id"], name="item_unique_external_id"
            ),
        ]
        indexes = [
            # Items past "open", by status (review, exports, listings). Open items, most of a
            # project, reach the queue through the partial indexes below, so an import (all
            # open) does not write this index at all.
            models.Index(
                fields=["project", "status", "id"],
                name="item_status_seq",
                condition=~models.Q(status="open"),
            ),
            # The queue (labeling.annotate) reads only these partial indexes, so the next item is
            # found in time independent of the project's size: "fresh" items nobody holds or
            # answered, one index per ordering, each holding the items filed under it; "started"
            # items (few: everyone finishes those first); and gold items.
            models.Index(
                models.F("project"),
                ItemSequence("id"),
                name="item_fresh_seq",
                condition=item_fresh(Project.Ordering.SEQUENTIAL),
            ),
            models.Index(
                fields=["project", "-priority", "id"],
                name="item_fresh_prio",
                condition=item_fresh(Project.Ordering.PRIORITY),
            ),
            models.Index(
                fields=["project", "prediction_score", "id"],
                name="item_fresh_uncertain",
                condition=item_fresh(Project.Ordering.UNCERTAINTY),
            ),
            # The id too, as the queue orders by it after the shuffle (ids past 2**31 share
            # positions): the index then gives that order itself, never a sort of the whole
            # project, whatever the planner's statistics say.
            models.Index(
                models.F("project"),
                ItemShuffle("id"),
                models.F("id"),
                name="item_fresh_shuffle",
                condition=item_fresh(Project.Ordering.RANDOM),
            ),
            models.Index(fields=["project", "id"], name="item_started", condition=ITEM_STARTED),
            models.Index(
                fields=["project", "id"], name="item_gold", condition=models.Q(gold__isnull=False)
            ),
            # The data manager's sorts (labeling.datamanager.query): a page in one of these
            # orders, first or deep, is an index range. Each costs imports a little; the other
            # sorts walk the resolutions' indexes, the search rows' (text) or read by value.
            models.Index(fields=["project", "priority", "id"], name="item_by_priority"),
            models.Index(fields=["project", "created_at", "id"], name="item_by_created"),
            # A submit rewrites every index of its item anyway (annotation_count is in the queue
            # indexes' conditions), so this one costs a submit one more entry, an import little.
            models.Index(fields=["project", "annotation_count", "id"], name="item_by_answers"),
            # Partial: an item without a prediction (most imports) costs these nothing; the
            # data manager reads the items without a value apart, in id order.
            models.Index(
                fields=["project", "prediction_score", "id"],
                name="item_by_score",
                condition=models.Q(prediction_score__isnull=False),
            ),
            models.Index(
                fields=["project", "prediction_model_version", "id"],
                name="item_by_model_version",
                condition=models.Q(prediction_model_version__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"item {self.external_id} of project {self.project_id}"

    def save(self, *args, **kwargs) -> None:
        if self._state.adding:
            self.queue_ordering = self.project.ordering  # filed where the queue looks for it
        super().save(*args, **kwargs)


class ItemSearch(models.Model):
    """The words of an item's data for full-text search (PostgreSQL): filled by
    projects.items.search_index after items arrive, not by the insert itself, so an import
    never writes a full-text index. Its GIN index on `document` is made in SQL by the
    migration (PostgreSQL only); on SQLite the table stays empty and search matches substrings.
    One row per item; it dies with its item."""

    item = models.OneToOneField(
        Item, on_delete=models.CASCADE, primary_key=True, related_name="search"
    )
    # The item's project, copied: the not-yet-searchable count compares two counts by project.
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="+", db_constraint=False
    )
    document = SearchVectorField()
    # The start of the item's `text`, for the data manager's sort by text: an index of it here
    # is written by the indexer, not by every import's insert.
    text_key = models.TextField(null=True, blank=True)

    TEXT_KEY_CHARS = 100

    class Meta:
        indexes = [
            models.Index(
                fields=["project", "text_key", "item"],
                name="item_search_text",
                condition=models.Q(text_key__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"search words of item {self.item_id}"


class Prediction(models.Model):
    # Indexed by prediction_item_recent, which leads with it.
    item = models.ForeignKey(
        Item, on_delete=models.CASCADE, related_name="predictions", db_index=False
    )
    model_version = models.CharField(max_length=100, default="")
    result = models.JSONField()
    score = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["item", "-created_at"], name="prediction_item_recent"),
            # The data manager's model version filter.
            models.Index(fields=["model_version", "item"], name="prediction_model_version"),
        ]


def import_file_name(job: "ImportJob", filename: str) -> str:
    """Under a random folder: an upload's URL cannot be guessed from its name."""
    return f"imports/uploads/{secrets.token_urlsafe(18)}/{filename}"


class ImportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="import_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    format = models.CharField(max_length=30, blank=True)
    file = models.FileField(upload_to=import_file_name, blank=True, max_length=255)
    original_name = models.CharField(max_length=255, blank=True)
    options = models.JSONField(default=dict, blank=True)
    rows_read = models.PositiveBigIntegerField(default=0)
    created_count = models.PositiveBigIntegerField(default=0)
    skipped_count = models.PositiveBigIntegerField(default=0)
    failed_count = models.PositiveBigIntegerField(default=0)
    # Answers (annotations) an export carried: stored, and refused (each with a report line).
    answers_carried = models.PositiveBigIntegerField(default=0)
    answers_skipped = models.PositiveBigIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[{line, reason}], capped.")
    message = models.TextField(blank=True, help_text="Why the whole job failed, if it did.")
    file_size = models.PositiveBigIntegerField(default=0)
    # Progress in the reader's own units (bytes, rows or zip entries), for the progress bar.
    progress_total = models.PositiveBigIntegerField(default=0)
    progress_done = models.PositiveBigIntegerField(default=0)
    chunk_count = models.PositiveIntegerField(default=0)
    # Planning attempts whose worker died (projects.job_attempts).
    unfinished_attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED, self.Status.CANCELLED}

    @property
    def percent(self) -> float:
        if self.status == self.Status.DONE:
            return 100.0
        if not self.progress_total:
            return 0.0
        return round(min(100.0, 100.0 * self.progress_done / self.progress_total), 1)


class ImportChunk(models.Model):
    """One slice of an import file (a byte range at line boundaries, a range of Parquet row
    groups, or the whole file), imported by one task. `position` is where the next batch starts,
    committed with each batch, so a redelivered task resumes where the killed one stopped."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    start = models.PositiveBigIntegerField(default=0)
    end = models.PositiveBigIntegerField(null=True, blank=True, help_text="Exclusive; null: EOF.")
    first_line = models.PositiveBigIntegerField(default=1)
    position = models.PositiveBigIntegerField(default=0)
    line = models.PositiveBigIntegerField(default=1, help_text="Line number at `position`.")
    progress = models.PositiveBigIntegerField(default=0, help_text="Progress units at `position`.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    rows_read = models.PositiveBigIntegerField(default=0)
    failed_count = models.PositiveBigIntegerField(default=0)
    # Attempts on this chunk whose worker died (projects.job_attempts).
    unfinished_attempts = models.PositiveSmallIntegerField(default=0)
    # Stamped with each committed batch: a stalled chunk is sent again (projects.job_queue).
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="import_chunk_unique_index"),
        ]


class ImportRowError(models.Model):
    """One bad row of an import: where it is and why it was refused."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    line = models.PositiveBigIntegerField()
    reason = models.TextField()

    class Meta:
        ordering = ["job", "line", "id"]
        indexes = [models.Index(fields=["job", "line"], name="import_row_error_line")]


class ProjectHistory(models.Model):
    """What changed in a project's setup and who changed it (schema edits and label renames)."""

    class Kind(models.TextChoices):
        SCHEMA = "schema", "Label schema changed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="history")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    # {control: {old label: new label}} and how many stored results each kind of row had moved.
    renames = models.JSONField(default=dict, blank=True)
    migrated = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["project", "-changed_at"], name="project_history_recent")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} in project {self.project_id}"


class ApiToken(models.Model):
    """A user's API token. Only the SHA-256 digest of its secret is stored (the secret is
    answered once, when the token is made); `prefix`, the secret's first characters, tells
    tokens apart on pages. projects.api_tokens makes, checks and revokes them."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64)  # hex; its unique index is what a request reads
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never.")
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # A constraint rather than unique=True: PostgreSQL then builds no second (LIKE) index.
        constraints = [models.UniqueConstraint(fields=["digest"], name="api_token_digest_unique")]

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name}) of {self.user_id}"

    def state(self, now=None) -> str:
        """Only an active token authenticates."""
        if self.revoked_at is not None:
            return self.State.REVOKED
        if self.expires_at is not None and self.expires_at <= (now or timezone.now()):
            return self.State.EXPIRED
        return self.State.ACTIVE
