"""Celery tasks of monitoring (thin: each calls one service)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

from labeling.monitor.models import MonitorSettings, PredictionEvent
from labeling.monitor.rollups import monitor_rollups_refresh

RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "max_retries": 10,
}


@shared_task(**RETRY)
def monitor_rollups_task(project_id: int) -> None:
    monitor_rollups_refresh(project_id=project_id)


@shared_task(**RETRY)
def monitor_rollups_all_task() -> None:
    """Periodic (celery beat): every project with monitoring in use."""
    project_ids = set(MonitorSettings.objects.values_list("project_id", flat=True))
    project_ids |= set(
        PredictionEvent.objects.order_by().values_list("project_id", flat=True).distinct()[:10_000]
    )
    for project_id in sorted(project_ids):
        monitor_rollups_task.delay(project_id)


def monitor_rollups_enqueue(project_id: int) -> None:
    transaction.on_commit(lambda: monitor_rollups_task.delay(project_id))
