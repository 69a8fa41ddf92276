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

    class State(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"  # the item's final answer
        PENDING = "pending", "Waiting for review"  # the machine's proposal, result may be partial
        SENT_BACK = "sent_back", "Sent back for another annotation"

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="resolutions")
    result = models.JSONField()
    method = models.CharField(max_length=20, choices=Method.choices)
    agreement = models.FloatField(null=True, blank=True)
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
