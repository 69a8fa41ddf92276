"""Review: reviewers adjudicate the items consensus could not accept.

A reviewer sees every annotator's answer side by side with the machine's proposal and either
accepts one answer, saves an edited (merged) answer, or sends the item back for one more
annotation. Each decision is a new Resolution row; the earlier rows stay as history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from labeling.consensus.aggregation.base import is_empty
from labeling.consensus.resolve import answer_canonical, resolution_record
from labeling.models import Annotation, Resolution
from projects.items.titles import item_title_of
from projects.label_schema import LabelSchema
from projects.models import Item, Membership, Project

REVIEWABLE = (Item.Status.IN_REVIEW, Item.Status.RESOLVED)


class ReviewRefused(Exception):
    """The decision does not apply to this item in its current state."""


@dataclass
class ReviewPacket:
    item: Item
    answers: list[dict[str, Any]]  # [{annotation, annotator, result, lead_time}]
    proposal: Resolution | None
    disagreements: list[str] = field(default_factory=list)  # control names
    history: list[Resolution] = field(default_factory=list)
    label_schema: dict[str, Any] = field(default_factory=dict)  # normalised (sources filled in)
    # The project's annotators who have not answered the item: who a send-back can go to.
    eligible_annotators: list[str] = field(default_factory=list)
    title: str = ""
    review_left: int = 0  # items waiting for review in the project, this one included


REVIEW_CLAIM = timedelta(minutes=15)


def review_queue(*, project: Project):
    return Item.objects.filter(project=project, status=Item.Status.IN_REVIEW).order_by(
        "-priority", "id"
    )


def review_next(
    *, project: Project, reviewer, after: int | None = None, now: datetime | None = None
) -> Item | None:
    """The next item waiting for review, held for this reviewer for a while.

    Items another reviewer holds are passed over (locked rows too, on PostgreSQL); `after` passes
    over items up to that id, to let a reviewer skip one. The reviewer's other holds are released.
    """
    now = now or timezone.now()
    waiting = Resolution.objects.filter(
        item__project=project, item__status=Item.Status.IN_REVIEW, is_current=True
    )
    with transaction.atomic():
        free = (
            waiting.filter(
                Q(claimed_by=reviewer) | Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
            )
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("-item__priority", "item_id")
        )
        chosen = None
        if after is not None:
            chosen = free.filter(item_id__gt=after).first()
        chosen = chosen or free.first()
        waiting.filter(claimed_by=reviewer).exclude(pk=getattr(chosen, "pk", None)).update(
            claimed_by=None, claimed_until=None
        )
        if chosen is None:
            return None
        chosen.claimed_by = reviewer
        chosen.claimed_until = now + REVIEW_CLAIM
        chosen.save(update_fields=["claimed_by", "claimed_until"])
    return Item.objects.select_related("project").get(pk=chosen.item_id)


def review_eligible_annotators(*, item: Item) -> list:
    """The project's annotators who have not answered the item yet (leads and reviewers may
    label too, but a send-back is work for the annotators)."""
    answered = Annotation.objects.filter(item=item).values("annotator_id")
    members = (
        Membership.objects.filter(project_id=item.project_id, role=Membership.Role.ANNOTATOR)
        .exclude(user_id__in=answered)
        .select_related("user")
        .order_by("user__username")
    )
    return [member.user for member in members]


def review_left(*, project: Project) -> int:
    return review_queue(project=project).count()


def review_packet(*, item: Item) -> ReviewPacket:
    schema = LabelSchema(item.project.label_schema)
    rows = list(
        Annotation.objects.filter(item=item)
        .select_related("annotator")
        .order_by("id")
        .values_list("id", "annotator__username", "result", "lead_time")
    )
    answers = [
        {"annotation": pk, "annotator": who, "result": result, "lead_time": lead_time}
        for pk, who, result, lead_time in rows
    ]
    disagreements = [
        control.name
        for control in schema.controls
        if len({answer_canonical(a["result"].get(control.name)) for a in answers}) > 1
    ]
    history = list(item.resolutions.select_related("reviewer").order_by("-created_at", "-id"))
    proposal = next((r for r in history if r.is_current), None)
    return ReviewPacket(
        item=item,
        answers=answers,
        proposal=proposal,
        disagreements=disagreements,
        history=history,
        label_schema=schema.as_json(),
        eligible_annotators=[user.username for user in review_eligible_annotators(item=item)],
        title=item_title_of(item),
        review_left=review_left(project=item.project),
    )


def _locked_for_review(item: Item) -> Item:
    locked = Item.objects.select_for_update().select_related("project").get(pk=item.pk)
    if locked.status not in REVIEWABLE:
        raise ReviewRefused(f"This item is {locked.status}: it has no answers to review yet.")
    return locked


def _current_agreement(item: Item) -> float | None:
    return item.resolutions.filter(is_current=True).values_list("agreement", flat=True).first()


def _decide(*, item: Item, reviewer, result: dict, reason: str, annotation=None) -> Resolution:
    resolution = resolution_record(
        item=item,
        result={k: v for k, v in result.items() if not is_empty(v)},
        method=Resolution.Method.REVIEWER,
        agreement=_current_agreement(item),
        reviewer=reviewer,
        state=Resolution.State.ACCEPTED,
        reason=reason,
        accepted_annotation=annotation,
    )
    Item.objects.filter(pk=item.pk).update(status=Item.Status.RESOLVED)
    item.status = Item.Status.RESOLVED
    return resolution


def resolution_accept(*, item: Item, reviewer, annotation: Annotation) -> Resolution:
    """Accept one annotator's answer as the item's final answer."""
    with transaction.atomic():
        locked = _locked_for_review(item)
        if annotation.item_id != locked.pk:
            raise ReviewRefused("That annotation belongs to another item.")
        return _decide(
            item=locked,
            reviewer=reviewer,
            result=annotation.result,
            reason=f"accepted the answer of annotation {annotation.pk}",
            annotation=annotation,
        )


def resolution_edit(*, item: Item, reviewer, result: dict) -> Resolution:
    """Save the reviewer's own (edited or merged) answer; raises ResultError if it is invalid."""
    schema = LabelSchema(item.project.label_schema)
    schema.validate(result, data=item.data, width=item.width, height=item.height)
    with transaction.atomic():
        locked = _locked_for_review(item)
        return _decide(item=locked, reviewer=reviewer, result=result, reason="edited by reviewer")


def item_send_back(*, item: Item, reviewer) -> Resolution:
    """Ask for one more annotation: a slot is added and the item returns to the queue.

    Refused when every annotator of the project has answered it: the slot would stay open for
    ever (labeling.annotate.queue.item_send_back_to directs it to one annotator)."""
    with transaction.atomic():
        locked = _locked_for_review(item)
        if not review_eligible_annotators(item=locked):
            raise ReviewRefused(
                "Every annotator of the project has already answered this item: add a member "
                "(or send it to one with `annotator`), or decide the final answer here."
            )
        current = locked.resolutions.filter(is_current=True).first()
        resolution = resolution_record(
            item=locked,
            result=current.result if current else {},
            method=Resolution.Method.REVIEWER,
            agreement=current.agreement if current else None,
            reviewer=reviewer,
            state=Resolution.State.SENT_BACK,
            reason="sent back for another annotation",
        )
        Item.objects.filter(pk=locked.pk).update(
            status=Item.Status.OPEN, extra_slots=F("extra_slots") + 1
        )
        item.status = Item.Status.OPEN
        item.extra_slots = locked.extra_slots + 1
    return resolution
