"""Celery tasks for exports (thin: each calls one service)."""

from celery import shared_task

from exports.jobs import export_files_expired, export_job_run
from exports.models import ExportJob
from projects.job_queue import send_after_commit, stale_queued

# A million items write in well under a minute; the limit stops a stuck job, not a big one.
TIME_LIMIT = 60 * 60


@shared_task(acks_late=True, time_limit=TIME_LIMIT, soft_time_limit=TIME_LIMIT - 60)
def export_job_run_task(job_id: int) -> None:
    export_job_run(job_id=job_id)


def export_job_enqueue(*, job: ExportJob) -> None:
    """Hand the job to a worker once its row is committed (in-process without a broker); a
    send that fails then leaves it queued for exports_sweep_task."""
    send_after_commit(export_job_run_task.delay, job.pk)


@shared_task(ignore_result=True)
def exports_sweep_task() -> None:
    """Celery beat, every JOBS_SWEEP_SECONDS: send again the exports whose message was lost."""
    for job_id in stale_queued(ExportJob).values_list("pk", flat=True):
        export_job_run_task.delay(job_id)


@shared_task(ignore_result=True)
def export_files_retention_task() -> None:
    """Celery beat, hourly: remove export files past EXPORT_RETENTION_DAYS, never a pinned one."""
    export_files_expired()
