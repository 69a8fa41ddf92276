"""Query stage of an export: stream a project's items with their final results, in batches."""

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from labeling.models import Resolution
from projects.models import Item, Project

BATCH_SIZE = 5000


@dataclass(frozen=True)
class ExportRecord:
    item_id: int
    external_id: str
    data: dict[str, Any]
    status: str
    result: dict[str, Any] | None
    method: str | None
    agreement: float | None


def export_records(*, project: Project, only_resolved: bool = True) -> Iterator[ExportRecord]:
    """Items in id order with their current resolution, keyset-paginated so memory stays flat."""
    items = Item.objects.filter(project=project)
    if only_resolved:
        items = items.filter(status=Item.Status.RESOLVED)
    last_id = 0
    while True:
        batch = list(
            items.filter(id__gt=last_id)
            .order_by("id")
            .values_list("id", "external_id", "data", "status")[:BATCH_SIZE]
        )
        if not batch:
            return
        resolutions = {
            item_id: (result, method, agreement)
            for item_id, result, method, agreement in Resolution.objects.filter(
                item_id__in=[row[0] for row in batch], is_current=True
            ).values_list("item_id", "result", "method", "agreement")
        }
        for item_id, external_id, data, status in batch:
            result, method, agreement = resolutions.get(item_id, (None, None, None))
            yield ExportRecord(item_id, external_id, data, status, result, method, agreement)
        last_id = batch[-1][0]
