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
from django.db.models import F, OuterRef, Subquery
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


def _assignment_finish(assignment_id: int | None, *, state: str, now: datetime) -> None:
    if assignment_id is not None:
        Assignment.objects.filter(pk=assignment_id).update(state=state, finished_at=now)


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
        locked_item = _item_lock(item=item, annotator=annotator)
        locked_item.project = project
        score = (
            None
            if locked_item.gold is None
            else gold_score(schema=schema, result=result, gold=locked_item.gold)
        )
        if locked_item.my_annotation_id is not None:
            existing = Annotation.objects.get(pk=locked_item.my_annotation_id)
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


def _item_lock(*, item: Item, annotator) -> Item:
    """Lock the item row (only it: locking the project row too would queue every submit of the
    project behind one lock) and read, in the same round trip, the annotator's answer and
    active assignment. The assignment needs no lock of its own: every writer of an assignment
    holds its item's lock first."""
    mine = {"item": OuterRef("pk"), "annotator": annotator}
    active = Assignment.objects.filter(**mine, state=Assignment.State.ACTIVE)
    return (
        Item.objects.select_for_update(of=("self",))
        .annotate(
            my_annotation_id=Subquery(Annotation.objects.filter(**mine).values("pk")[:1]),
            my_assignment_id=Subquery(active.values("pk")[:1]),
            my_assignment_expires_at=Subquery(active.values("expires_at")[:1]),
        )
        .get(pk=item.pk)
    )


def _annotation_add(
    *, item: Item, annotator, result: dict, lead_time: float, score: float | None, now: datetime
) -> Annotation:
    """A first answer: take the held (or a free) slot, store it, count it. Item is locked."""
    assignment_id = item.my_assignment_id
    held_slot = assignment_id is not None and item.my_assignment_expires_at > now
    is_gold = item.gold is not None
    item_changes: dict = {}
    if not is_gold:
        if assignment_id is not None and not held_slot:
            # Expired but not yet released by the queue: release it here and compete anew.
            _assignment_finish(assignment_id, state=Assignment.State.EXPIRED, now=now)
            assignment_id = None
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
    _assignment_finish(assignment_id, state=Assignment.State.SUBMITTED, now=now)
    if item_changes:
        Item.objects.filter(pk=item.pk).update(**item_changes)
    annotator_stats_add(project_id=item.project_id, annotator_id=annotator.pk, now=now, annotated=1)
    return annotation
