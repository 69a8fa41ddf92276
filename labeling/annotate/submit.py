"""Submitting and editing annotations.

A first answer fills the slot the annotator holds, or a free one; an annotator who already
answered edits their answer, which is allowed until the item is resolved. Answers to gold items
sit outside the overlap (every annotator may answer each once) and are scored against the known
answer (labeling.annotate.gold); gold items are never resolved by consensus: their answer is known.

Locks are taken item first, then assignment, then the annotator's stats row
(see labeling.annotate.queue).
"""

from __future__ import annotations

from datetime import datetime

from django.db import connection, transaction
from django.utils import timezone

from labeling.annotate.gold import gold_score
from labeling.annotate.queue import annotator_stats_add
from labeling.consensus.fitted_model import consensus_answers_moved
from labeling.consensus.resolve import item_resolve
from labeling.models import Annotation, Assignment, Draft, Resolution
from projects.direct_sql import row_insert, rows_update, writes_batched
from projects.event_hooks import event_emit
from projects.label_schema import LabelSchema, label_schema_parsed
from projects.models import Item


class AnnotationRefused(Exception):
    """The annotation cannot be stored (no free slot, item already resolved, ...)."""


def annotation_validate(*, item: Item, result: dict, schema: LabelSchema | None = None) -> dict:
    """Check a result against the project schema; raises projects.label_schema.ResultError."""
    schema = schema or label_schema_parsed(item.project.label_schema)
    return schema.validate(result, data=item.data, width=item.width, height=item.height)


def item_slots(item: Item) -> int:
    return item.project.overlap + item.extra_slots


def _assignment_finish(assignment_id: int | None, *, state: str, now: datetime) -> None:
    if assignment_id is not None:
        rows_update(Assignment, {"pk": assignment_id}, set={"state": state, "finished_at": now})


def annotation_submit(
    *, item: Item, annotator, result: dict, lead_time: float = 0.0, now: datetime | None = None
) -> tuple[Annotation, bool]:
    """Store the annotator's answer for the item; return (annotation, created).

    Of `item` only its pk and project are read: the row itself is read under its lock.
    """
    project = item.project
    schema = label_schema_parsed(project.label_schema)
    now = now or timezone.now()
    lead_time = max(lead_time, 0.0)
    with transaction.atomic():
        locked_item = _item_lock(item=item, annotator=annotator, now=now)
        locked_item.project = project
        annotation_validate(item=locked_item, result=result, schema=schema)
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
            with writes_batched():  # the answer, its assignment and the annotator's counters
                annotation = _annotation_add(
                    item=locked_item,
                    annotator=annotator,
                    result=result,
                    lead_time=lead_time,
                    score=score,
                    now=now,
                )
            created = True
        if locked_item.my_draft_id is not None:  # the answer replaces the unfinished one
            Draft.objects.filter(pk=locked_item.my_draft_id).delete()
        event_emit(
            project_id=project.pk,
            event="annotation.created" if created else "annotation.updated",
            ids={"annotation": annotation.pk, "item": locked_item.pk},
        )
        with writes_batched():  # the resolution, if any, and the item row
            _item_update(item=locked_item, annotator=annotator, annotation=annotation, new=created)
        if not created:  # a new answer is counted on the annotator's stats row already
            consensus_answers_moved(project=project)
    return annotation, created


def _item_update(*, item: Item, annotator, annotation: Annotation, new: bool) -> None:
    """Resolve the item once it has all its answers, and write its row (locked) once."""
    item_changes = {}
    if new and item.gold is None:
        item_changes["annotation_count"] = item.annotation_count
        item_changes["assigned_count"] = item.assigned_count
    if item.gold is None and item.annotation_count >= item_slots(item):
        # An item that wants one answer has just this one: no need to read it back.
        only_this = new and item.annotation_count == 1
        answers = [(annotation.pk, annotator.pk, annotation.result)] if only_this else None
        item_resolve(item=item, status_write=False, annotations=answers)
        item_changes["status"] = item.status
    if item_changes:
        # One UPDATE of the item row: each one rewrites the row's entries in every index.
        rows_update(Item, {"pk": item.pk}, set=item_changes)


# Written out rather than built with the ORM: building it cost more CPU than running it, on the
# path every answer takes. (item, annotator) is unique in both subqueries.
ANNOTATION_TABLE = Annotation._meta.db_table
ASSIGNMENT_TABLE = Assignment._meta.db_table
ITEM_LOCK_SQL = (
    "SELECT i.*, "
    f"(SELECT a.id FROM {ANNOTATION_TABLE} a WHERE a.item_id = i.id AND a.annotator_id = %s)"
    " AS my_annotation_id, "
    f"(SELECT s.id FROM {ASSIGNMENT_TABLE} s WHERE s.item_id = i.id AND s.annotator_id = %s"
    " AND s.state = %s) AS my_assignment_id, "
    f"(SELECT s.expires_at > %s FROM {ASSIGNMENT_TABLE} s WHERE s.item_id = i.id"
    " AND s.annotator_id = %s AND s.state = %s) AS my_assignment_unexpired, "
    f"(SELECT d.id FROM {Draft._meta.db_table} d WHERE d.item_id = i.id AND d.annotator_id = %s)"
    " AS my_draft_id, "
    f"(SELECT r.id FROM {Resolution._meta.db_table} r WHERE r.item_id = i.id AND r.is_current)"
    " AS current_resolution_id "
    f"FROM {Item._meta.db_table} i WHERE i.id = %s"
)


def _item_lock(*, item: Item, annotator, now: datetime) -> Item:
    """Lock the item row (only it: locking the project row too would queue every submit of the
    project behind one lock) and read, in the same round trip, the annotator's answer, active
    assignment and draft, and the item's current resolution. The assignment needs no lock of
    its own: every writer of an assignment holds its item's lock first."""
    sql = ITEM_LOCK_SQL + (" FOR UPDATE OF i" if connection.features.has_select_for_update else "")
    active = Assignment.State.ACTIVE
    when = connection.ops.adapt_datetimefield_value(now)
    who = annotator.pk
    params = [who, who, active, when, who, active, who, item.pk]
    locked = next(iter(Item.objects.raw(sql, params)), None)
    if locked is None:
        raise Item.DoesNotExist(f"No item {item.pk}.")
    return locked


def _annotation_add(
    *, item: Item, annotator, result: dict, lead_time: float, score: float | None, now: datetime
) -> Annotation:
    """A first answer: take the held (or a free) slot, store it, count it. The item is locked;
    its new counts are left in `item` for the caller to write."""
    assignment_id = item.my_assignment_id
    held_slot = assignment_id is not None and bool(item.my_assignment_unexpired)
    is_gold = item.gold is not None
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
    annotation = row_insert(
        Annotation(
            project_id=item.project_id,
            item=item,
            annotator=annotator,
            result=result,
            lead_time=lead_time,
            gold_score=score,
        )
    )
    _assignment_finish(assignment_id, state=Assignment.State.SUBMITTED, now=now)
    annotator_stats_add(project_id=item.project_id, annotator_id=annotator.pk, now=now, annotated=1)
    return annotation
