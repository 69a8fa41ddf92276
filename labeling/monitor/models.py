"""Models, versions, prediction events, routing rules, rollups and alerts of monitoring.

The app `monitor` (labeling.monitor.apps): its tables are monitor_*.
"""

import secrets

from django.db import models, transaction

from projects.models import Project


class MonitoredModel(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="monitored_model_unique")
        ]


class ModelVersion(models.Model):
    """A version of a model; registered the first time an event names it."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey(MonitoredModel, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=100)
    first_seen_at = models.DateTimeField()
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["first_seen_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "version"], name="model_version_unique")
        ]


class MonitorSettings(models.Model):
    """A project's monitoring settings beside Project.monitor_baseline_rate (one row, optional)."""

    class Truth(models.TextChoices):
        HUMAN = "human", "Human resolution wins; business actual where no human label"
        ACTUAL = "actual", "Business actual wins; human resolution where no actual"

    project = models.OneToOneField(Project, on_delete=models.CASCADE, related_name="+")
    truth = models.CharField(max_length=10, choices=Truth.choices, default=Truth.HUMAN)
    accuracy_alert_below = models.FloatField(default=0.8)
    psi_alert_above = models.FloatField(default=0.25)
    failure_rate_alert_rise = models.FloatField(
        default=0.15, help_text="Routed failure share up by this much over the previous bucket."
    )
    min_alert_samples = models.PositiveIntegerField(default=20)
    reference_start = models.DateTimeField(null=True, blank=True)
    reference_end = models.DateTimeField(null=True, blank=True)
    # Watermark: the highest Resolution id the rollups have read.
    resolution_watermark = models.BigIntegerField(default=0)
    counts_refreshed_at = models.DateTimeField(null=True, blank=True)


class RoutingRule(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=200)
    condition = models.JSONField(default=dict)
    sample_rate = models.FloatField(default=1.0)
    cap_per_day = models.PositiveIntegerField(null=True, blank=True)
    cap_per_hour = models.PositiveIntegerField(null=True, blank=True)
    priority = models.IntegerField(default=0)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-priority", "id"]

    # Saving or deleting a rule gives its project a new rules' generation in the same
    # transaction (Project.monitor_rules_generation), so every process reads the rules again.
    def save(self, *args, **kwargs):
        with transaction.atomic():
            super().save(*args, **kwargs)
            self._rules_generation_renew()

    def delete(self, *args, **kwargs):
        with transaction.atomic():
            deleted = super().delete(*args, **kwargs)
            self._rules_generation_renew()
        return deleted

    def _rules_generation_renew(self) -> None:
        generation = secrets.randbits(62)
        Project.objects.filter(pk=self.project_id).update(monitor_rules_generation=generation)
        if RoutingRule.project.is_cached(self):
            self.project.monitor_rules_generation = generation


class RuleUsage(models.Model):
    """How many events a rule routed in one hour (caps per hour and day read these)."""

    rule = models.ForeignKey(RoutingRule, on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["rule", "hour"], name="rule_usage_unique")]


class PredictionEvent(models.Model):
    """One prediction a production model made. Most never become items.

    Built for volume: no foreign key constraints (the project's delete cascades through the ORM),
    a BRIN index on time on PostgreSQL (migration), one unique (project, event_id) index.
    """

    # CASCADE without a constraint: nothing cascades from an event (LabeledEvent.event does
    # not), so Django deletes a project's events with one DELETE.
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, db_constraint=False, db_index=False, related_name="+"
    )
    event_id = models.CharField(max_length=255)
    timestamp = models.DateTimeField()
    version = models.ForeignKey(
        ModelVersion, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False
    )
    data = models.JSONField(default=dict)
    result = models.JSONField()
    label = models.CharField(max_length=255, blank=True, help_text="Predicted monitored label.")
    score = models.FloatField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    # Routing: the rule that routed it (or baseline), and the probability it was sampled at all.
    # A deleted rule keeps its id here: the events it routed stay attributed to it.
    rule = models.ForeignKey(
        RoutingRule, null=True, on_delete=models.DO_NOTHING, db_constraint=False, db_index=False
    )
    baseline = models.BooleanField(default=False)
    inclusion_probability = models.FloatField(default=0.0)
    actual = models.JSONField(null=True, blank=True)
    actual_label = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-timestamp", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["project", "event_id"], name="prediction_event_unique")
        ]


class EventCount(models.Model):
    """Events per version, hour and score bin / predicted label: drift reads these, not events.

    Each ingest call appends its own rows (no shared counter row to lock, so concurrent calls
    never wait on each other); the rollup worker sums them and compacts an hour's rows into one
    per key once the hour is over."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    hour = models.DateTimeField()
    kind = models.CharField(max_length=5)  # "score" (key: bin 0-9) or "label"
    key = models.CharField(max_length=255)
    count = models.PositiveBigIntegerField(default=0)
    routed = models.PositiveBigIntegerField(default=0)
    changed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["project", "version", "hour"], name="event_count_hour"),
            models.Index(fields=["project", "changed_at"], name="event_count_changed"),
        ]


class LabeledEvent(models.Model):
    """An event with a true label (human resolution and/or business actual): what accuracy
    reads. One row per labeled event, at most as many as resolutions plus actuals."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    # Deleted with its project (and version), not through the event: see PredictionEvent.project.
    event = models.OneToOneField(PredictionEvent, on_delete=models.DO_NOTHING, db_constraint=False)
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    timestamp = models.DateTimeField()
    predicted = models.CharField(max_length=255)
    human = models.CharField(max_length=255, blank=True)
    actual = models.CharField(max_length=255, blank=True)
    score = models.FloatField(null=True)
    weight = models.FloatField(help_text="1 / inclusion probability.")
    routed_by_rule = models.BooleanField(default=False)
    baseline = models.BooleanField(default=False)
    metadata = models.JSONField(default=dict)
    item_id = models.BigIntegerField(null=True)
    changed_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["project", "version", "timestamp"], name="labeled_event_t"),
            models.Index(fields=["project", "changed_at"], name="labeled_event_changed"),
        ]


class Rollup(models.Model):
    """The figures of one model version over one time bucket, kept by the worker."""

    class Bucket(models.TextChoices):
        HOUR = "hour"
        DAY = "day"
        WEEK = "week"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+", db_index=False)
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    bucket = models.CharField(max_length=4, choices=Bucket.choices)
    bucket_start = models.DateTimeField()
    n = models.PositiveIntegerField(default=0)
    events = models.PositiveBigIntegerField(default=0)
    figures = models.JSONField(default=dict, help_text="The scalar figures (the series).")
    # Confusion matrix, per-class scores, reliability bins, worst segments: read only when asked.
    details = models.JSONField(default=dict)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["bucket_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "bucket", "version", "bucket_start"], name="rollup_unique"
            )
        ]


class Alert(models.Model):
    class Kind(models.TextChoices):
        ACCURACY = "accuracy", "Accuracy below threshold"
        DRIFT = "drift", "Drift above threshold"
        FAILURES = "failures", "Routed failure rate up"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    version = models.ForeignKey(ModelVersion, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    bucket = models.CharField(max_length=4)
    bucket_start = models.DateTimeField()
    message = models.CharField(max_length=500)
    evidence = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "version", "kind", "bucket", "bucket_start"],
                name="alert_once_per_bucket",
            )
        ]


__all__ = [
    "Alert",
    "EventCount",
    "LabeledEvent",
    "ModelVersion",
    "MonitoredModel",
    "MonitorSettings",
    "PredictionEvent",
    "Rollup",
    "RoutingRule",
    "RuleUsage",
]
