"""What item and export events ask of target storages: the resolved label written to the
bucket, the finished export copied there. Enqueued for after the cause commits."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from labeling.integrations.models import CloudStorage


def _targets(project_id: int):
    return CloudStorage.objects.filter(
        project_id=project_id, role=CloudStorage.Role.TARGET, is_active=True
    )


def item_resolved(*, project_id: int, resolution_id: int) -> None:
    from labeling.integrations.tasks import storage_label_write  # tasks import the services

    for storage_id in _targets(project_id).values_list("pk", flat=True):
        transaction.on_commit(lambda s=storage_id: storage_label_write.delay(s, resolution_id))


def export_finished(*, project_id: int, export: dict[str, Any] | None) -> None:
    from labeling.integrations.tasks import storage_export_write

    if not export or export.get("status") != "done" or not export.get("file"):
        return
    targets = _targets(project_id).filter(write_exports=True)
    for storage_id in targets.values_list("pk", flat=True):
        transaction.on_commit(lambda s=storage_id: storage_export_write.delay(s, export["file"]))
