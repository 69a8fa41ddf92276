"""Submitting and editing annotations.

A first answer fills the slot the annotator holds, or a free one; an annotator who already
answered edits their answer, which is allowed until the item is resolved. Answers to gold items
sit outside the overlap (every annotator may answer each once) and are scored against the known
answer (labeling.gold); gold items are never resolved by consensus: their answer is known.

Locks are taken item first, then assignment, then the annotator's stats row (see labeling.queue).
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from labeling.consensus import item_resolve
from labeling.gold import gold_score
from labeling.models import Annotation, Assignment
from labeling.queue import annotator_stats_add
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


def _assignment_finish(assignment: Assignment | None, *, state: str, now: datetime) -> None:
    if assignment is None:
        return
    assignment.state = state
    assignment.finished_at = now
    assignment.save(update_fields=["state", "finished_at"])


def annotation_submit(
    *, item: Item, annotator, result: dict, lead_time: float = 0.0, now: datetime | None = None
) -> tuple[Annotation, bool]:
    """Store the annotator's answer for the item; return (annotation, created)."""
    project = item.project
    schema = LabelSchema(project.label_schema)
    annotation_validate(item=item, result=result, schema=schema)
    now = now or timezone.now()
    lead_time = max(lead_time, 0.0)
    with transaction.atomic():
        # Lock the item row only (of=self): locking the project row too would queue every
        # submit of the project behind one lock.
        locked_item = Item.objects.select_for_update(of=("self",)).get(pk=item.pk)
        locked_item.project = project
        score = (
            None
            if locked_item.gold is None
            else gold_score(schema=schema, result=result, gold=locked_item.gold)
        )
        existing = Annotation.objects.filter(item=locked_item, annotator=annotator).first()
        if existing is not None:
            if locked_item.status == Item.Status.RESOLVED:
                raise AnnotationRefused("This item is resolved; its answers can no longer change.")
            existing.result = result
            existing.lead_time += lead_time
            existing.gold_score = score
            existing.save(update_fields=["result", "lead_time", "gold_score", "updated_at"])
            annotation, created = existing, False
        else:
            annotation = _annotation_add(
                item=locked_item,
                annotator=annotator,
                result=result,
                lead_time=lead_time,
                score=score,
                now=now,
            )
            created = True
        if locked_item.gold is None and locked_item.annotation_count >= item_slots(locked_item):
            item_resolve(item=locked_item)
    return annotation, created


def _annotation_add(
    *, item: Item, annotator, result: dict, lead_time: float, score: float | None, now: datetime
) -> Annotation:
    """A first answer: take the held (or a free) slot, store it, count it. Item is locked."""
    assignment = (
        Assignment.objects.select_for_update()
        .filter(item=item, annotator=annotator, state=Assignment.State.ACTIVE)
        .first()
    )
    held_slot = assignment is not None and assignment.expires_at > now
    is_gold = item.gold is not None
    item_changes: dict = {}
    if not is_gold:
        if assignment is not None and not held_slot:
            # Expired but not yet released by the queue: release it here and compete anew.
            _assignment_finish(assignment, state=Assignment.State.EXPIRED, now=now)
            assignment = None
            item.assigned_count = max(item.assigned_count - 1, 0)
        free = item_slots(item) - item.annotation_count - item.assigned_count
        if not held_slot and (item.status != Item.Status.OPEN or free <= 0):
            raise AnnotationRefused("This item has all the annotations it needs.")
        if held_slot:
            item.assigned_count -= 1
        item.annotation_count += 1
        item_changes = {
            "annotation_count": F("annotation_count") + 1,
            "assigned_count": item.assigned_count,
        }
    annotation = Annotation.objects.create(
        project_id=item.project_id,
        item=item,
        annotator=annotator,
        result=result,
        lead_time=lead_time,
        gold_score=score,
    )
    _assignment_finish(assignment, state=Assignment.State.SUBMITTED, now=now)
    if item_changes:
        Item.objects.filter(pk=item.pk).update(**item_changes)
    annotator_stats_add(project_id=item.project_id, annotator_id=annotator.pk, now=now, annotated=1)
    return annotation
