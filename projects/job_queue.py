"""Handing jobs to the workers reliably (imports here, exports use the same functions).

- Before a job is stored, `broker_refusal` says whether the broker can take it: while it is
  down the API answers 503 and stores nothing.
- A job is sent once its row commits; if the broker fails just then, the job stays queued and
  `jobs_sweep` (celery beat, every JOBS_SWEEP_SECONDS) sends it again.
- Each committed batch stamps its chunk's `heartbeat_at`. A pending chunk of a running import
  whose heartbeat is older than JOB_STALL_SECONDS, and that no session holds (its advisory lock
  is free: the worker died), is sent again at once, whatever the broker's visibility timeout.
"""

import logging
from datetime import timedelta

from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from projects.imports.jobs import ADVISORY_LOCK_CLASS
from projects.models import ImportChunk, ImportJob

logger = logging.getLogger(__name__)


def broker_refusal() -> str | None:
    """Why a job cannot be queued now (the broker is unreachable), or None."""
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None  # jobs run in-process
    try:
        with current_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
    except Exception as exc:  # kombu raises its transport's own errors
        logger.warning("broker unreachable: %s", exc)
        return (
            "The job queue (broker) is unreachable, so the job was not started and nothing was "
            "stored. Try again in a minute; if it keeps failing, tell an administrator."
        )
    return None


def send_after_commit(send, *args) -> None:
    """Send the task once the transaction commits. A broker failure then is logged, not
    raised: the job stays queued and jobs_sweep sends it again."""

    def deliver():
        try:
            send(*args)
        except Exception:
            logger.exception("could not send %s%s; the sweep will retry", send, args)

    transaction.on_commit(deliver)


def stale_queued(model, *, now=None):
    """Jobs of `model` queued for longer than JOB_STALL_SECONDS (their message lost)."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.JOB_STALL_SECONDS)
    return model.objects.filter(status=model.Status.QUEUED, created_at__lt=cutoff)


def chunk_is_held(chunk_id: int) -> bool:
    """Whether a live session works on the chunk (holds its advisory lock)."""
    if connection.vendor != "postgresql":
        return False
    key = (ADVISORY_LOCK_CLASS, chunk_id % 2**31)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        free = cursor.fetchone()[0]
        if free:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)
    return not free


def stalled_chunks(*, now=None) -> list[int]:
    """Pending chunks of running imports that nobody has worked on for JOB_STALL_SECONDS."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.JOB_STALL_SECONDS)
    candidates = (
        ImportChunk.objects.filter(
            status=ImportChunk.Status.PENDING, job__status=ImportJob.Status.RUNNING
        )
        .annotate(last_beat=Coalesce("heartbeat_at", "job__started_at"))
        .filter(Q(last_beat__lt=cutoff) | Q(last_beat__isnull=True))
        .values_list("pk", flat=True)
    )
    return [pk for pk in candidates if not chunk_is_held(pk)]


def import_files_expired(*, now=None) -> int:
    """Delete the source files of imports finished more than IMPORT_FILE_RETENTION_DAYS ago
    (0 keeps them). The items and their images stay. Returns how many were removed."""
    days = settings.IMPORT_FILE_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    removed = 0
    finished = [ImportJob.Status.DONE, ImportJob.Status.FAILED, ImportJob.Status.CANCELLED]
    for job in ImportJob.objects.filter(status__in=finished, finished_at__lt=cutoff).exclude(
        file=""
    ):
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")
        removed += 1
    return removed
