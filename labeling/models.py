"""The queue's assignments, the annotations, and the resolutions of consensus and review."""

from django.conf import settings
from django.db import models

from projects.models import Item, Project


class Assignment(models.Model):
    """One annotator holding one slot of one item until it expires: the queue's lock."""

    class State(models.TextChoices):
        ACTIVE = "active", "Active"
        SUBMITTED = "submitted", "Submitted"
        SKIPPED = "skipped", "Skipped"
        EXPIRED = "expired", "Expired"

    # project and item have no index of their own: assignment_holder and the unique
    # (item, annotator) constraint lead with them (every index costs every queue write).
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    item = models.ForeignKey(
        Item, on_delete=models.CASCADE, related_name="assignments", db_index=False
    )
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="assignments"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.ACTIVE)
    is_gold = models.BooleanField(default=False)
    skip_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # An annotator works on an item at most once (skips and expiries included).
            models.UniqueConstraint(
                fields=["item", "annotator"], name="assignment_once_per_annotator"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "annotator", "state"], name="assignment_holder"),
            models.Index(fields=["project", "state", "expires_at"], name="assignment_expiry"),
        ]


class Annotation(models.Model):
    # project and item have no index of their own: annotation_history and the unique
    # (item, annotator) constraint lead with them (every index costs every answer).
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    item = models.ForeignKey(
        Item, on_delete=models.CASCADE, related_name="annotations", db_index=False
    )
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotations"
    )
    result = models.JSONField()
    lead_time = models.FloatField(default=0.0, help_text="Seconds spent on the item.")
    # On gold items only: how well the answer matches the known one, 0-1 (labeling.annotate.gold).
    gold_score = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item", "annotator"], name="annotation_once_per_annotator"
            ),
        ]
        indexes = [
            models.Index(fields=["project", "annotator", "-created_at"], name="annotation_history"),
            # "My annotations", most recently changed first, paged without sorting them all.
            models.Index(
                fields=["project", "annotator", "-updated_at", "-id"], name="annotation_recent"
            ),
            models.Index(
                fields=["project", "annotator"],
                name="annotation_gold",
                condition=models.Q(gold_score__isnull=False),
            ),
        ]


class AnnotatorStats(models.Model):
    """One annotator's queue counters in one project (kept by the queue and the submit path).

    The row is also the annotator's queue lock: assignment_next locks it first, so one
    annotator's concurrent requests (two tabs) are served one after the other.
    """

    # Indexed by the unique (project, annotator) constraint, which leads with it.
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="annotator_stats"
    )
    served = models.PositiveIntegerField(default=0, help_text="Assignments handed out.")
    gold_served = models.PositiveIntegerField(default=0)
    annotated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    last_active_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        # No index on the counters or last_active_at: the row changes on every request for an
        # item and every answer, and with no indexed column changing PostgreSQL updates it in
        # place (HOT). "Working now" reads a project's few rows through the unique index.
        constraints = [
            models.UniqueConstraint(fields=["project", "annotator"], name="annotator_stats_unique"),
        ]


class Resolution(models.Model):
    """The final answer for an item. Older resolutions stay as history (is_current=False)."""

    class Method(models.TextChoices):
        UNANIMOUS = "unanimous", "Unanimous"
        MAJORITY = "majority", "Majority vote"
        DAWID_SKENE = "dawid_skene", "Dawid-Skene"
        REVIEWER = "reviewer", "Reviewer"
        SINGLE = "single", "Single annotation"
        WEIGHTED_VOTE = "weighted_vote", "Weighted vote"

    class State(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"  # the item's final answer
        PENDING = "pending", "Waiting for review"  # the machine's proposal, result may be partial
        SENT_BACK = "sent_back", "Sent back for another annotation"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="resolutions")
    result = models.JSONField()
    method = models.CharField(max_length=20, choices=Method.choices)
    agreement = models.FloatField(null=True, blank=True)
    # How sure the machine is of its choice labels: the Dawid-Skene posterior of the chosen
    # label (the weakest choice control's), or the winner's share of the (weighted) votes.
    confidence = models.FloatField(null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=20, choices=State.choices, default=State.ACCEPTED)
    # Why the item went to review, or what the reviewer did; per-control agreement for the record.
    reason = models.CharField(max_length=500, blank=True)
    details = models.JSONField(default=dict, blank=True)
    accepted_annotation = models.ForeignKey(
        "Annotation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # A pending resolution is held by the reviewer working on it, so two reviewers do not
    # adjudicate the same item; the hold lapses on its own.
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_until = models.DateTimeField(null=True, blank=True)
    is_current = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item"], condition=models.Q(is_current=True), name="resolution_one_current"
            ),
        ]
        indexes = [
            # The data manager's sorts by agreement and by method walk these and stop.
            models.Index(
                fields=["agreement", "item"],
                name="resolution_current_agreement",
                condition=models.Q(is_current=True),
            ),
            models.Index(
                fields=["method", "item"],
                name="resolution_current_method",
                condition=models.Q(is_current=True),
            ),
        ]


class Draft(models.Model):
    """An annotator's unfinished answer for one item, saved as they work so a reload loses nothing.

    The result may be partial (required controls still empty); it is checked on submit, not here.
    """

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="drafts")
    annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="drafts"
    )
    result = models.JSONField(default=dict)
    lead_time = models.FloatField(default=0.0, help_text="Seconds spent so far.")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "annotator"], name="draft_once_per_annotator"),
        ]


class ConsensusState(models.Model):
    """A project's answer counter and its fitted Dawid-Skene model (consensus.fitted_model).

    `answer_changes` counts the answers edited or imported; with the answers submitted (each
    annotator's AnnotatorStats.annotated) it is the project's answer counter, and freshness is
    one comparison with `fitted_changes` (the counter the model was fitted at), never a count of
    the project's annotations. `model_version` grows with each refit; the
    model itself (per choice control: annotator codes, priors, confusion matrices) is `model`.
    """

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    answer_changes = models.PositiveBigIntegerField(default=0)
    fitted_changes = models.PositiveBigIntegerField(default=0)
    model_version = models.PositiveIntegerField(default=0)
    model = models.BinaryField(null=True, blank=True)
    fitted_at = models.DateTimeField(null=True, blank=True)


class ConsensusJob(models.Model):
    """A refit of a project's model and the re-resolution of its items, run by a worker."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Trigger(models.TextChoices):
        REQUEST = "request", "Asked for by a lead"
        IMPORT = "import", "An import carried answers"
        REVIEW = "review", "A review decision"
        SCHEDULE = "schedule", "Answers moved (schedule)"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    trigger = models.CharField(max_length=20, choices=Trigger.choices, default=Trigger.REQUEST)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    answers_count = models.PositiveBigIntegerField(default=0, help_text="Answers the fit read.")
    items_count = models.PositiveBigIntegerField(default=0, help_text="Items the model decides.")
    re_resolved_count = models.PositiveBigIntegerField(default=0)
    model_version = models.PositiveIntegerField(null=True, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class QualityReport(models.Model):
    """The project's quality report (labeling.quality), computed by a worker, kept by version."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    version = models.TextField()
    report = models.JSONField()
    computed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-computed_at", "-id"]
        indexes = [models.Index(fields=["project", "-computed_at"], name="quality_report_latest")]


class ItemBulkJob(models.Model):
    """One bulk action of the data manager over a selection of items, run in batches.

    Each batch commits its changes and this row's counters together, so a killed worker's job
    resumes after `last_item_id` and the report says exactly what was done.
    """

    class Action(models.TextChoices):
        DELETE = "delete", "Delete"
        SET_PRIORITY = "set_priority", "Set priority"
        SET_GOLD = "set_gold", "Mark gold with an answer"
        UNSET_GOLD = "unset_gold", "Unmark gold"
        SEND_TO_REVIEW = "send_to_review", "Send to review"
        RELEASE_ASSIGNMENTS = "release_assignments", "Release held assignments"
        REQUEUE = "requeue", "Back to the queue for more answers"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=30, choices=Action.choices)
    params = models.JSONField(default=dict, blank=True)
    # {"ids": [...]} or {"query": "<the data manager's filter query string>"}
    selection = models.JSONField(default=dict)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    selected_count = models.PositiveBigIntegerField(default=0)
    processed_count = models.PositiveBigIntegerField(default=0)
    changed_count = models.PositiveBigIntegerField(default=0)
    skipped_count = models.PositiveBigIntegerField(default=0)
    batch_count = models.PositiveIntegerField(default=0)
    last_item_id = models.BigIntegerField(default=0)
    # {"skipped": {reason: count}}: what was left alone and why.
    report = models.JSONField(default=dict, blank=True)
    message = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED, self.Status.CANCELLED}


# The integrations' rows live with their concern; imported here so Django sees them.
from labeling.integrations.models import (  # noqa: E402, F401
    CloudStorage,
    ModelBackend,
    StorageObject,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
