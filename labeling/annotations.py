"""Submitting and editing annotations."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from labeling.consensus import item_resolve
from labeling.models import Annotation, Assignment
from projects.label_schema import LabelSchema
from projects.models import Item


class AnnotationRefused(Exception):
    """The annotation cannot be stored (no free slot, item already resolved, ...)."""


def annotation_validate(*, item: Item, result: dict, schema: LabelSchema | None = None) -> dict:
    """Check a result against the project schema; raises projects.label_schema.ResultError."""
    schema = schema or LabelSchema(item.project.label_schema)
    return schema.validate(result, data=item.data, width=item.width, height=item.height)


def item_slots(item: Item) -> int:
    return item.project.overlap + item.extra_slots


def annotation_submit(
    *, item: Item, annotator, result: dict, lead_time: float = 0.0
) -> tuple[Annotation, bool]:
    """Store the annotator's answer for the item; return (annotation, created).

    A first answer fills the slot the annotator holds, or a free one; an annotator who already
    answered edits their answer, which is allowed until the item is resolved.
    """
    annotation_validate(item=item, result=result)
    now = timezone.now()
    with transaction.atomic():
        locked_item = Item.objects.select_for_update().select_related("project").get(pk=item.pk)
        existing = Annotation.objects.filter(item=locked_item, annotator=annotator).first()
        if existing is not None:
            if locked_item.status == Item.Status.RESOLVED:
                raise AnnotationRefused("This item is resolved; its answers can no longer change.")
            existing.result = result
            existing.lead_time = existing.lead_time + max(lead_time, 0.0)
            existing.save(update_fields=["result", "lead_time", "updated_at"])
            annotation, created = existing, False
        else:
            assignment = (
                Assignment.objects.select_for_update()
                .filter(item=locked_item, annotator=annotator, state=Assignment.State.ACTIVE)
                .first()
            )
            held_slot = assignment is not None and assignment.expires_at > now
            if assignment is not None and not held_slot:
                # Expired but not yet released by the queue: release it here and compete anew.
                assignment.state = Assignment.State.EXPIRED
                assignment.finished_at = now
                assignment.save(update_fields=["state", "finished_at"])
                locked_item.assigned_count = max(locked_item.assigned_count - 1, 0)
            free = (
                item_slots(locked_item) - locked_item.annotation_count - locked_item.assigned_count
            )
            if not held_slot and (locked_item.status != Item.Status.OPEN or free <= 0):
                raise AnnotationRefused("This item has all the annotations it needs.")
            annotation = Annotation.objects.create(
                project_id=locked_item.project_id,
                item=locked_item,
                annotator=annotator,
                result=result,
                lead_time=max(lead_time, 0.0),
            )
            created = True
            if held_slot:
                assignment.state = Assignment.State.SUBMITTED
                assignment.finished_at = now
                assignment.save(update_fields=["state", "finished_at"])
                locked_item.assigned_count -= 1
            locked_item.annotation_count += 1
            Item.objects.filter(pk=locked_item.pk).update(
                annotation_count=F("annotation_count") + 1,
                assigned_count=locked_item.assigned_count,
            )
        if locked_item.annotation_count >= item_slots(locked_item):
            item_resolve(item=locked_item)
    return annotation, created
