"""What item events ask of the model backends: predictions for new items, training every N
resolved items. Runs inside the cause's transaction; the work is enqueued for after commit."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from labeling.integrations.models import ModelBackend
from projects.models import Item, Prediction


def backends_pre_annotating(*, project_id: int) -> bool:
    return ModelBackend.objects.filter(
        project_id=project_id, is_active=True, pre_annotate=True
    ).exists()


def items_created(*, project_id: int, item_ids: list[int]) -> None:
    """Queue the new items for prediction, batch by batch, on each pre-annotating backend."""
    from labeling.integrations.tasks import backend_predict_items  # tasks import the services

    backends = ModelBackend.objects.filter(project_id=project_id, is_active=True, pre_annotate=True)
    for backend_id, batch_size in backends.values_list("pk", "batch_size"):
        size = max(batch_size, 1)
        for start in range(0, len(item_ids), size):
            batch = item_ids[start : start + size]
            transaction.on_commit(
                lambda b=backend_id, ids=batch: backend_predict_items.delay(b, ids)
            )


def items_queue_for_prediction(*, backend: ModelBackend) -> int:
    """Queue every item of the project still without a prediction (a lead's "predict all")."""
    from labeling.integrations.tasks import backend_predict_items

    ids = list(
        Item.objects.filter(project_id=backend.project_id, gold__isnull=True)
        .exclude(
            pk__in=Prediction.objects.filter(item__project_id=backend.project_id).values("item_id")
        )
        .order_by("id")
        .values_list("pk", flat=True)
    )
    size = max(backend.batch_size, 1)
    for start in range(0, len(ids), size):
        batch = ids[start : start + size]
        transaction.on_commit(lambda b=batch: backend_predict_items.delay(backend.pk, b))
    return len(ids)


def item_resolved(*, project_id: int) -> None:
    """Count the resolution towards each backend's `train_every`; ask for training when due."""
    from labeling.integrations.tasks import backend_train

    counting = ModelBackend.objects.filter(project_id=project_id, is_active=True, train_every__gt=0)
    if not counting.update(resolved_since_training=F("resolved_since_training") + 1):
        return
    due = counting.filter(resolved_since_training__gte=F("train_every"))
    for backend_id in due.values_list("pk", flat=True):
        ModelBackend.objects.filter(pk=backend_id).update(resolved_since_training=0)
        transaction.on_commit(lambda b=backend_id: backend_train.delay(b))
