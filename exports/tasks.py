"""Celery tasks for exports (thin: each calls one service)."""

from celery import shared_task
from django.db import transaction

from exports.jobs import export_job_run
from exports.models import ExportJob

# A million items write in well under a minute; the limit stops a stuck job, not a big one.
TIME_LIMIT = 60 * 60


@shared_task(acks_late=True, time_limit=TIME_LIMIT, soft_time_limit=TIME_LIMIT - 60)
def export_job_run_task(job_id: int) -> None:
    export_job_run(job_id=job_id)


def export_job_enqueue(*, job: ExportJob) -> None:
    """Hand the job to a worker once its row is committed (in-process without a broker)."""
    transaction.on_commit(lambda: export_job_run_task.delay(job.pk))
