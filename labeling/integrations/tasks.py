"""Celery tasks of the integrations (thin: each calls one service).

Acknowledged late and rejected when their worker dies (settings), so a killed worker's task is
redelivered; the services make a re-run harmless (deliveries are marked as they succeed, syncs
skip what they have, label objects are overwritten).
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from labeling.integrations import webhooks

DB_AWAY = (OperationalError, InterfaceError)


@shared_task(acks_late=True, autoretry_for=DB_AWAY, retry_backoff=True, max_retries=10)
def webhook_deliver(webhook_id: int) -> None:
    webhooks.webhook_deliver_pending(webhook_id=webhook_id)


@shared_task(acks_late=True)
def webhook_deliveries_due() -> None:
    webhooks.deliveries_due()
