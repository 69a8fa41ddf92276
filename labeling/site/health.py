"""`GET /health/`: whether this process reaches the database, the cache and the broker.

200 with {"database": "ok", "cache": "ok", "broker": "ok"} when all answer; 503 naming what
failed otherwise (a load balancer or docker-compose's healthcheck reads the status). No login:
it says nothing but ok or failing.
"""

import logging
import uuid

from celery import current_app
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _cache() -> None:
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("the cache does not keep what it is given")
    cache.delete(key)


def _broker() -> None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return  # no broker: jobs run in-process
    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)


CHECKS = {"database": _database, "cache": _cache, "broker": _broker}


@never_cache
@require_GET
def health(request):
    results, healthy = {}, True
    for name, check in CHECKS.items():
        try:
            check()
            results[name] = "ok"
        except Exception as exc:
            logger.warning("health check %s failed: %s", name, exc)
            results[name] = "failing"
            healthy = False
    return JsonResponse(results, status=200 if healthy else 503)
