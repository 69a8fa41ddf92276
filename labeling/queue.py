"""The annotator queue: who labels what next.

Each item wants `overlap` (+ slots added in review) annotations from distinct annotators. A slot is
taken by an active Assignment or filled by an Annotation; Item.annotation_count and
Item.assigned_count count them so the queue never counts rows. Candidate items are locked with
SELECT ... FOR UPDATE SKIP LOCKED on PostgreSQL, so concurrent annotators never take the same slot;
SQLite serialises writers (IMMEDIATE transactions) to the same effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, F, OuterRef, QuerySet
from django.utils import timezone

from labeling.models import Annotation, Assignment
from projects.models import Item, Project


class QueueError(Exception):
    """The request cannot be served (e.g. the assignment is no longer active)."""


@dataclass(frozen=True)
class NextItem:
    assignment: Assignment
    item: Item


def _now() -> datetime:
    return timezone.now()


def open_items(project: Project) -> QuerySet[Item]:
    """Items that still have a free slot."""
    return Item.objects.filter(
        project=project,
        status=Item.Status.OPEN,
        annotation_count__lt=F("extra_slots") + project.overlap - F("assigned_count"),
    )


def _ordered(queryset: QuerySet[Item], project: Project) -> QuerySet[Item]:
    if project.ordering == Project.Ordering.PRIORITY:
        return queryset.order_by("-priority", "id")
    return queryset.order_by("id")


def assignments_expire(*, project: Project, now: datetime | None = None) -> int:
    """Return expired slots to the pool. Safe to run concurrently (locked rows are skipped)."""
    now = now or _now()
    released = 0
    with transaction.atomic():
        expired = list(
            Assignment.objects.select_for_update(skip_locked=True)
            .filter(project=project, state=Assignment.State.ACTIVE, expires_at__lte=now)
            .values_list("id", "item_id")
        )
        for assignment_id, item_id in expired:
            Assignment.objects.filter(id=assignment_id).update(
                state=Assignment.State.EXPIRED, finished_at=now
            )
            Item.objects.filter(id=item_id, assigned_count__gt=0).update(
                assigned_count=F("assigned_count") - 1
            )
            released += 1
    return released


def assignment_next(*, project: Project, annotator, now: datetime | None = None) -> NextItem | None:
    """The annotator's next item with its assignment, or None when nothing is left for them.

    An annotator who still holds an unexpired assignment gets that same item back.
    """
    now = now or _now()
    held = (
        Assignment.objects.select_related("item")
        .filter(project=project, annotator=annotator, state=Assignment.State.ACTIVE)
        .filter(expires_at__gt=now)
        .order_by("created_at")
        .first()
    )
    if held is not None:
        return NextItem(assignment=held, item=held.item)

    assignments_expire(project=project, now=now)
    touched_by_annotator = Assignment.objects.filter(
        item=OuterRef("pk"), annotator=annotator
    ).exclude(state=Assignment.State.EXPIRED)
    annotated_by_annotator = Annotation.objects.filter(item=OuterRef("pk"), annotator=annotator)
    candidates = (
        open_items(project)
        .filter(~Exists(touched_by_annotator), ~Exists(annotated_by_annotator))
        .select_for_update(skip_locked=True, of=("self",))
    )
    with transaction.atomic():
        item = _ordered(candidates, project).first()
        if item is None:
            return None
        Item.objects.filter(pk=item.pk).update(assigned_count=F("assigned_count") + 1)
        item.assigned_count += 1
        assignment, _ = Assignment.objects.update_or_create(
            item=item,
            annotator=annotator,
            defaults={
                "project": project,
                "state": Assignment.State.ACTIVE,
                "expires_at": now + timedelta(seconds=project.assignment_timeout),
                "created_at": now,
                "finished_at": None,
                "skip_reason": "",
            },
        )
    return NextItem(assignment=assignment, item=item)


def assignment_skip(*, assignment: Assignment, annotator, reason: str = "") -> Assignment:
    """Give the slot back so that others get the item; the annotator will not see it again."""
    with transaction.atomic():
        locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if locked.annotator_id != annotator.pk:
            raise QueueError("This assignment belongs to someone else.")
        if locked.state != Assignment.State.ACTIVE:
            raise QueueError(f"This assignment is {locked.state}, not active.")
        locked.state = Assignment.State.SKIPPED
        locked.skip_reason = reason[:500]
        locked.finished_at = _now()
        locked.save(update_fields=["state", "skip_reason", "finished_at"])
        Item.objects.filter(pk=locked.item_id, assigned_count__gt=0).update(
            assigned_count=F("assigned_count") - 1, skip_count=F("skip_count") + 1
        )
    return locked
