"""Celery tasks of the integrations (thin: each calls one service).

Acknowledged late and rejected when their worker dies (settings), so a killed worker's task is
redelivered; the services make a re-run harmless (deliveries are marked as they succeed, syncs
skip what they have, label objects are overwritten, predictions go only to items without one).
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from labeling.integrations import backends, storage, webhooks
from labeling.integrations.models import ModelBackend

DB_AWAY = (OperationalError, InterfaceError)
RETRIED = {"acks_late": True, "autoretry_for": DB_AWAY, "retry_backoff": True, "max_retries": 10}


@shared_task(**RETRIED)
def webhook_deliver(webhook_id: int) -> None:
    webhooks.webhook_deliver_pending(webhook_id=webhook_id)


@shared_task(acks_late=True)
def webhook_deliveries_due() -> None:
    """Beat: enqueue the webhooks with a retry due (a safety net for lost delayed tasks)."""
    webhooks.deliveries_due()


@shared_task(**RETRIED, time_limit=3600)
def storage_sync(storage_id: int) -> None:
    storage.storage_sync(storage_id=storage_id)


@shared_task(acks_late=True)
def storage_syncs_due() -> None:
    """Beat: start the scheduled syncs that are due."""
    for storage_id in storage.storages_due():
        storage_sync.delay(storage_id)


@shared_task(**RETRIED)
def storage_label_write(storage_id: int, resolution_id: int) -> None:
    storage.label_write(storage_id=storage_id, resolution_id=resolution_id)


@shared_task(**RETRIED)
def storage_export_write(storage_id: int, file_name: str) -> None:
    storage.export_write(storage_id=storage_id, file_name=file_name)


@shared_task(**RETRIED, time_limit=600)
def backend_predict_items(backend_id: int, item_ids: list[int]) -> None:
    backends.items_predict(backend_id=backend_id, item_ids=item_ids)


@shared_task(**RETRIED, time_limit=3600)
def backend_train(backend_id: int) -> None:
    backends.backend_train(backend_id=backend_id)


@shared_task(acks_late=True)
def backend_health_check(backend_id: int) -> None:
    backend = ModelBackend.objects.select_related("project").get(pk=backend_id)
    backends.backend_health_check(backend=backend)
