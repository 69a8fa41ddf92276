"""Celery tasks of the data manager (thin: each calls one service)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

from labeling.datamanager.bulk import item_bulk_job_run
from labeling.models import ItemBulkJob

TIME_LIMIT = 60 * 60


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=10,
    time_limit=TIME_LIMIT,
)
def item_bulk_job_run_task(job_id: int) -> None:
    item_bulk_job_run(job_id=job_id)


def item_bulk_job_enqueue(*, job: ItemBulkJob) -> None:
    """Hand the job to a worker once its row is committed (in-process without a broker)."""
    transaction.on_commit(lambda: item_bulk_job_run_task.delay(job.pk))
