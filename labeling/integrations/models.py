"""Integrations' rows: webhooks and their outbox, cloud storages and their synced objects, and
model backends. Secrets are stored encrypted (labeling.integrations.secrets)."""

import uuid

from django.conf import settings
from django.db import models

from projects.models import Project


class Webhook(models.Model):
    """An HTTP endpoint told about events: of one project, or of every project (global, staff)."""

    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="webhooks"
    )
    url = models.URLField(max_length=2000)
    events = models.JSONField(default=list, help_text="Event names this webhook receives.")
    secret_encrypted = models.TextField(help_text="The signing secret, encrypted at rest.")
    send_payload = models.BooleanField(
        default=True, help_text="Send the full object; off: ids only."
    )
    is_active = models.BooleanField(default=True)
    # Set when the webhook was paused after too many failures in a row; cleared on resume.
    paused_reason = models.CharField(max_length=500, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["project", "is_active"], name="webhook_project_active")]

    def __str__(self) -> str:
        return f"webhook {self.pk} to {self.url}"


class WebhookEvent(models.Model):
    """One thing that happened, recorded in its cause's transaction (the outbox). Its id is the
    delivery id receivers dedupe by; a redelivery sends the same id again."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="+")
    event = models.CharField(max_length=50)
    ids = models.JSONField(default=dict)
    data = models.JSONField(null=True, blank=True, help_text="The full object, if any wants it.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at"]


class WebhookDelivery(models.Model):
    """One event for one webhook: its attempts until it succeeds or the retry window closes.

    A webhook's deliveries go out one at a time in id order (the event order), so a receiver
    sees an item's events in the order they happened."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RETRYING = "retrying", "Retrying"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed (gave up)"

    webhook = models.ForeignKey(Webhook, on_delete=models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.TextField(blank=True)
    error = models.TextField(blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(
                fields=["webhook", "id"],
                name="webhook_delivery_open",
                condition=models.Q(status__in=["pending", "retrying"]),
            ),
        ]


class CloudStorage(models.Model):
    """An S3-compatible bucket (AWS, MinIO, ...) a project reads items from or writes labels to."""

    class Role(models.TextChoices):
        SOURCE = "source", "Source: items come from the bucket"
        TARGET = "target", "Target: resolved labels and exports go to the bucket"

    class ObjectKind(models.TextChoices):
        IMAGES = "images", "Images (items reference the objects)"
        ROWS = "rows", "JSON / JSONL / CSV objects imported as rows"

    class FilterKind(models.TextChoices):
        GLOB = "glob", "Glob"
        REGEX = "regex", "Regular expression"

    class SyncStatus(models.TextChoices):
        NEVER = "never", "Never synced"
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="cloud_storages")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.SOURCE)
    title = models.CharField(max_length=200, blank=True)
    bucket = models.CharField(max_length=255)
    prefix = models.CharField(max_length=1000, blank=True)
    endpoint_url = models.CharField(max_length=1000, blank=True, help_text="Empty: AWS.")
    region = models.CharField(max_length=50, blank=True)
    access_key_encrypted = models.TextField(blank=True)
    secret_key_encrypted = models.TextField(blank=True)
    object_filter = models.CharField(max_length=500, blank=True)
    filter_kind = models.CharField(max_length=10, choices=FilterKind.choices, default="glob")
    object_kind = models.CharField(max_length=10, choices=ObjectKind.choices, default="images")
    write_exports = models.BooleanField(
        default=True, help_text="Target: copy each finished export to the bucket too."
    )
    presign_ttl = models.PositiveIntegerField(default=900, help_text="Seconds a media link lives.")
    sync_every_minutes = models.PositiveIntegerField(
        null=True, blank=True, help_text="Sync on a schedule (source); empty: on demand only."
    )
    is_active = models.BooleanField(default=True)
    sync_status = models.CharField(max_length=10, choices=SyncStatus.choices, default="never")
    sync_message = models.TextField(blank=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)
    objects_seen = models.PositiveBigIntegerField(default=0)
    objects_new = models.PositiveBigIntegerField(default=0)
    items_created = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.role} storage s3://{self.bucket}/{self.prefix}"


class StorageObject(models.Model):
    """One object of a source storage as last synced: a re-sync skips what has the same ETag."""

    storage = models.ForeignKey(CloudStorage, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=1024)
    etag = models.CharField(max_length=100)
    synced_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["storage", "key"], name="storage_object_unique_key"),
        ]


class ModelBackend(models.Model):
    """A model server speaking Label Studio's ML backend protocol, connected to one project."""

    class Health(models.TextChoices):
        UNKNOWN = "unknown", "Not checked yet"
        UP = "up", "Up"
        DOWN = "down", "Down"

    class Training(models.TextChoices):
        IDLE = "idle", "Never trained"
        REQUESTED = "requested", "Training requested"
        DONE = "done", "Trained"
        FAILED = "failed", "Training failed"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="model_backends")
    title = models.CharField(max_length=200, blank=True)
    # Not a URLField: its validator refuses the one-word hosts of a private network ("ml");
    # the service checks the URL (backends.backend_url_check).
    url = models.CharField(max_length=2000)
    is_active = models.BooleanField(default=True)
    pre_annotate = models.BooleanField(default=True, help_text="Predict new items after imports.")
    predict_timeout_ms = models.PositiveIntegerField(
        default=1000, help_text="How long an annotator opening an item waits for a prediction."
    )
    batch_size = models.PositiveIntegerField(default=50)
    train_every = models.PositiveIntegerField(
        default=0, help_text="Ask the backend to train every N resolved items; 0: only on request."
    )
    health = models.CharField(max_length=10, choices=Health.choices, default="unknown")
    health_message = models.TextField(blank=True)
    health_checked_at = models.DateTimeField(null=True, blank=True)
    model_version = models.CharField(max_length=200, blank=True)
    training = models.CharField(max_length=10, choices=Training.choices, default="idle")
    training_message = models.TextField(blank=True)
    trained_at = models.DateTimeField(null=True, blank=True)
    resolved_since_training = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    predictions_made = models.PositiveBigIntegerField(default=0)
    predictions_refused = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"model backend {self.url}"


__all__ = [
    "CloudStorage",
    "ModelBackend",
    "StorageObject",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
]
