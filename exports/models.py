"""Export jobs: each finished export is an immutable snapshot with a manifest."""

import secrets

from django.conf import settings
from django.db import models

from projects.models import Project


def export_file_name(job: "ExportJob", filename: str) -> str:
    """Under a random folder: an export's URL cannot be guessed from its id or name."""
    return f"exports/{secrets.token_urlsafe(18)}/{filename}"


class ExportJob(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="export_jobs")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    format = models.CharField(max_length=30)
    options = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    items_total = models.PositiveBigIntegerField(default=0)
    items_written = models.PositiveBigIntegerField(default=0)
    file = models.FileField(upload_to=export_file_name, blank=True, max_length=255)
    manifest = models.JSONField(default=dict, blank=True)
    checksum = models.CharField(max_length=64, blank=True)
    message = models.TextField(blank=True)
    # A lead's pinned snapshot is never removed by the retention task.
    pinned = models.BooleanField(default=False)
    # Attempts whose worker died (projects.job_attempts).
    unfinished_attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
