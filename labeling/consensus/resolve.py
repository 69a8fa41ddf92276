"""Consensus: turn an item's annotations into a resolution, or send it to review.

When an item has all its annotations, item_resolve aggregates them control by control
(labeling.consensus.aggregation; single choice by Dawid-Skene when the project says so) and
records a Resolution: accepted (the item is resolved) or pending (the item waits in the review
queue, and the resolution holds the machine's proposal). Every call adds a row; the earlier ones
stay as history with is_current=False, so a re-resolution never loses what came before.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import transaction
from django.db.models import Avg

from labeling.consensus.aggregation import ControlOutcome, control_aggregate
from labeling.consensus.aggregation.base import is_empty, mean_pairwise
from labeling.consensus.aggregation.choice import choice_similarity
from labeling.consensus.answer_codes import control_label_values
from labeling.consensus.fitted_model import (
    DEFAULT_ACCURACY,
    ConsensusModel,
    answers_posterior,
    consensus_model_current,
)
from labeling.models import Annotation, Assignment, Resolution
from projects.direct_sql import row_insert, rows_select, rows_update
from projects.event_hooks import event_emit
from projects.label_schema import CHOICE, PAIRWISE, Control, LabelSchema
from projects.models import Item, Membership, Project


@dataclass
class ItemOutcome:
    result: dict[str, Any]
    agreement: float | None
    unanimous: bool
    decided: bool
    used_dawid_skene: bool = False
    controls: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    confidence: float | None = None  # the weakest choice control's
    model_version: int | None = None  # the Dawid-Skene model that weighed the answers


def answer_canonical(value):
    if is_empty(value):
        return None
    if isinstance(value, list):
        return tuple(sorted((answer_canonical(v) for v in value), key=repr))
    if isinstance(value, dict):
        return tuple(sorted((k, answer_canonical(v)) for k, v in value.items()))
    if isinstance(value, str):
        return " ".join(value.split())
    return value


def results_unanimous(results: list[dict], schema: LabelSchema) -> bool:
    keyed = {tuple(answer_canonical(r.get(c.name)) for c in schema.controls) for r in results}
    return len(keyed) == 1


def results_aggregate(
    schema: LabelSchema,
    results: list[dict],
    choice_override: dict[str, ControlOutcome] | None = None,
) -> ItemOutcome:
    """Aggregate answers control by control. choice_override replaces the vote for some controls
    (Dawid-Skene, weighted vote): it applies to unanimous and single answers too."""
    single = len(results) == 1
    unanimous = single or results_unanimous(results, schema)
    override = choice_override or {}
    choice_like = {c.name for c in schema.controls if c.kind in (CHOICE, PAIRWISE)}
    if unanimous and not override:
        return ItemOutcome(
            result={k: v for k, v in results[0].items() if not is_empty(v)},
            agreement=None if single else 1.0,
            unanimous=True,
            decided=True,
            controls={
                c.name: {
                    "agreement": None if single else 1.0,
                    "decided": True,
                    "confidence": 1.0 if c.name in choice_like else None,
                }
                for c in schema.controls
            },
            confidence=1.0 if choice_like else None,
        )
    final: dict[str, Any] = {}
    controls: dict[str, dict] = {}
    notes: list[str] = []
    agreements: list[float] = []
    confidences: list[float] = []
    for control in schema.controls:
        answers = [r.get(control.name) for r in results]
        if control.name in override:
            outcome = override[control.name]
        elif unanimous:
            outcome = ControlOutcome(
                value=answers[0],
                agreement=None if single else 1.0,
                decided=True,
                confidence=1.0 if control.name in choice_like else None,
            )
        else:
            outcome = control_aggregate(control, answers)
        controls[control.name] = {
            "agreement": None if outcome.agreement is None else float(outcome.agreement),
            "decided": bool(outcome.decided),
            "confidence": outcome.confidence,
        }
        if outcome.agreement is not None:
            agreements.append(outcome.agreement)
        if outcome.confidence is not None and outcome.decided:
            confidences.append(outcome.confidence)
        if not outcome.decided:
            notes.append(f"{control.name}: {outcome.note}")
        elif not is_empty(outcome.value):
            final[control.name] = outcome.value
    # Not unanimous: the weakest control decides whether a human must look.
    agreement = min(agreements) if agreements and not unanimous else None
    if unanimous and not single:
        agreement = 1.0
    return ItemOutcome(
        result=final,
        agreement=agreement,
        unanimous=unanimous,
        decided=not notes,
        used_dawid_skene=bool(override),
        controls=controls,
        notes=notes,
        confidence=min(confidences) if confidences else None,
    )


def choice_dawid_skene(
    control: Control, annotations: list[tuple[int, dict]], model: ConsensusModel
) -> ControlOutcome:
    """The item's answer to a single-choice control by the project's stored Dawid-Skene model:
    unanimous and single answers too (the model may know those annotators are unreliable)."""
    label_values = control_label_values(control)
    lookup = {v: i for i, v in enumerate(label_values)}
    answers = [(who, r.get(control.name)) for who, r in annotations]
    given = [(who, lookup[a]) for who, a in answers if a in lookup]
    agreement = mean_pairwise([a for _, a in answers], choice_similarity)
    if not given:
        return ControlOutcome(value=None, agreement=agreement, decided=True)
    posterior = answers_posterior(
        model.control(control.name, label_values), given, len(label_values)
    )
    order = np.argsort(-posterior, kind="stable")
    decided = bool(len(order) == 1 or posterior[order[0]] - posterior[order[1]] > 1e-12)
    return ControlOutcome(
        value=label_values[order[0]] if decided else None,
        agreement=agreement,
        decided=decided,
        note="" if decided else "Dawid-Skene posterior tied",
        confidence=float(posterior[order[0]]),
    )


def review_reason(project: Project, outcome: ItemOutcome) -> str:
    """Why the item needs a reviewer, or "" when the aggregate can be accepted.

    Undecided items (ties, differing free text) always need one. Then the review policy: `all`
    reviews everything, `disagreements` every item whose answers are not unanimous, `none`
    nothing; and under any policy an agreement below the project's threshold needs a reviewer.
    """
    if not outcome.decided:
        return "no majority on " + "; ".join(outcome.notes)
    if project.review_policy == Project.ReviewPolicy.ALL:
        return "the project reviews every item"
    if project.review_policy == Project.ReviewPolicy.DISAGREEMENTS and not outcome.unanimous:
        return "annotators disagree"
    if outcome.agreement is not None and outcome.agreement < project.auto_accept_threshold:
        return f"agreement {outcome.agreement:.2f} below {project.auto_accept_threshold:.2f}"
    return ""


NOT_READ = object()


def resolution_record(*, item: Item, **fields) -> Resolution:
    """Add a resolution as the item's current one; earlier ones stay as history.

    When the caller read `item.current_resolution_id` under the item's lock (the submit does),
    an item without one is spared looking for it.
    """
    current_id = getattr(item, "current_resolution_id", NOT_READ)
    if current_id is NOT_READ:
        rows_update(Resolution, {"item_id": item.pk, "is_current": True}, set={"is_current": False})
    elif current_id is not None:
        rows_update(Resolution, {"pk": current_id}, set={"is_current": False})
    resolution = row_insert(Resolution(item=item, is_current=True, **fields))

    def ids() -> dict:  # the pk is known once held writes are sent
        return {"item": item.pk, "resolution": resolution.pk}

    if fields.get("reviewer") is not None:
        event_emit(project_id=item.project_id, event="review.decided", ids=ids)
    if resolution.state == Resolution.State.ACCEPTED:
        event_emit(project_id=item.project_id, event="item.resolved", ids=ids)
    return resolution


def item_outcome(
    *,
    item: Item,
    annotations: list[tuple[int, int, dict]] | None = None,
    model: ConsensusModel | None = None,
    schema: LabelSchema | None = None,
) -> ItemOutcome:
    """Aggregate the item's annotations [(annotation id, annotator id, result)] without saving.

    In a Dawid-Skene project every single-choice control is decided by the stored model's
    posterior, whatever the answers (model: the project's current one unless given).
    """
    project: Project = item.project
    if annotations is None:
        annotations = list(
            Annotation.objects.filter(item=item)
            .order_by("id")
            .values_list("id", "annotator_id", "result")
        )
    schema = schema or LabelSchema(project.label_schema)
    results = [r for _, _, r in annotations]
    override = {}
    choices = [c for c in schema.controls if c.kind == CHOICE]
    if project.aggregation == Project.Aggregation.DAWID_SKENE and choices:
        model = model or consensus_model_current(project=project)
        answers = [(who, r) for _, who, r in annotations]
        for control in choices:
            override[control.name] = choice_dawid_skene(control, answers, model)
    outcome = results_aggregate(schema, results, override)
    if override:
        outcome.model_version = model.version
    return outcome


def more_answers_possible(*, item: Item) -> bool:
    """Whether a tied item may ask for one more answer: below the project's max_overlap, and
    some member who can sign in has neither answered, nor held, nor skipped it."""
    project: Project = item.project
    if project.overlap + item.extra_slots >= max(project.max_overlap, project.overlap):
        return False
    return (
        Membership.objects.filter(project_id=project.pk, user__is_active=True)
        .exclude(user__password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .exclude(user_id__in=Annotation.objects.filter(item_id=item.pk).values("annotator_id"))
        .exclude(user_id__in=Assignment.objects.filter(item_id=item.pk).values("annotator_id"))
        .exists()
    )


def annotator_weights(
    *, project: Project, annotators: set[int], model: ConsensusModel, control: Control
) -> dict[int, float]:
    """Each annotator's vote weight: accuracy on gold where they answered gold, else the
    Dawid-Skene reliability of the stored model, else the default annotator's."""
    gold = dict(
        Annotation.objects.filter(
            project_id=project.pk, annotator_id__in=annotators, gold_score__isnull=False
        )
        .values("annotator_id")
        .annotate(accuracy=Avg("gold_score"))
        .values_list("annotator_id", "accuracy")
    )
    fitted = model.control(control.name, control_label_values(control))
    weights = {}
    for who in annotators:
        weight = gold.get(who)
        if weight is None and fitted is not None:
            weight = fitted.reliability(who)
        weights[who] = DEFAULT_ACCURACY if weight is None else float(weight)
    return weights


def choice_weighted_vote(
    control: Control, annotations: list[tuple[int, dict]], weights: dict[int, float]
) -> ControlOutcome:
    """Votes summed by annotator weight; a tie that remains goes to the label listed first."""
    order = {v: i for i, v in enumerate(control_label_values(control))}
    totals: dict[Any, float] = {}
    for who, result in annotations:
        value = result.get(control.name)
        value = None if is_empty(value) else value
        totals[value] = totals.get(value, 0.0) + weights.get(who, DEFAULT_ACCURACY)
    winner = min(totals, key=lambda v: (-totals[v], order.get(v, len(order))))
    total = sum(totals.values())
    return ControlOutcome(
        value=winner,
        agreement=mean_pairwise([r.get(control.name) for _, r in annotations], choice_similarity),
        decided=True,
        confidence=totals[winner] / total if total > 0 else None,
    )


def tie_weighted_vote(
    *, item: Item, outcome: ItemOutcome, annotations: list[tuple[int, int, dict]]
) -> ItemOutcome | None:
    """The outcome with every tied choice-like control decided by weighted vote; None when a
    control of another kind is undecided (free text, shapes: a person must merge those)."""
    project: Project = item.project
    schema = LabelSchema(project.label_schema)
    tied = [c for c in schema.controls if not outcome.controls[c.name]["decided"]]
    if any(c.kind not in (CHOICE, PAIRWISE) for c in tied):
        return None
    model = consensus_model_current(project=project)
    answers = [(who, r) for _, who, r in annotations]
    override = {}
    for control in schema.controls:
        if control in tied:
            weights = annotator_weights(
                project=project, annotators={w for w, _ in answers}, model=model, control=control
            )
            override[control.name] = choice_weighted_vote(control, answers, weights)
        elif project.aggregation == Project.Aggregation.DAWID_SKENE and control.kind == CHOICE:
            override[control.name] = choice_dawid_skene(control, answers, model)
    weighed = results_aggregate(schema, [r for _, _, r in annotations], override)
    weighed.model_version = model.version
    return weighed


def item_resolve(
    *,
    item: Item,
    only_if_changed: bool = False,
    status_write: bool = True,
    annotations: list[tuple[int, int, dict]] | None = None,
    model: ConsensusModel | None = None,
) -> Resolution | None:
    """Resolve a fully annotated item, or send it to review. Returns the new resolution row.

    With no review (review_policy none), a tie asks for one more answer while the project's
    max_overlap and its annotators allow (the item goes back to the queue), and is then decided
    by the annotators' weighted vote.

    only_if_changed: record nothing when the outcome is the item's current resolution already.
    status_write=False: only set item.status; the caller, inside the same transaction, writes it
    along with its own changes to the item row.
    annotations: the item's [(annotation id, annotator id, result)] in id order, when the caller
    knows them all already (read from the database otherwise).
    model: the Dawid-Skene model to use (the project's current one unless given).
    """
    if annotations is None:
        annotations = rows_select(
            Annotation, ["id", "annotator_id", "result"], {"item_id": item.pk}
        )
    if not annotations:
        return None
    project: Project = item.project
    outcome = item_outcome(item=item, annotations=annotations, model=model)
    method = resolution_method(outcome=outcome, answers=len(annotations))
    if not outcome.decided and project.review_policy == Project.ReviewPolicy.NONE:
        if more_answers_possible(item=item):
            return _one_more_answer(
                item=item, outcome=outcome, method=method, status_write=status_write
            )
        weighed = tie_weighted_vote(item=item, outcome=outcome, annotations=annotations)
        if weighed is not None:
            outcome, method = weighed, Resolution.Method.WEIGHTED_VOTE
    fields, status = _resolution_fields(project, outcome, method, annotations)
    if only_if_changed:
        current = item.resolutions.filter(is_current=True).values_list("result", "state").first()
        if current == (fields["result"], fields["state"]):
            return None
    with transaction.atomic(savepoint=False):  # no savepoint needed: all or nothing
        resolution = resolution_record(item=item, **fields)
        if status_write:
            rows_update(Item, {"pk": item.pk}, set={"status": status})
        item.status = status
    return resolution


def resolution_method(*, outcome: ItemOutcome, answers: int) -> str:
    if outcome.used_dawid_skene:
        return Resolution.Method.DAWID_SKENE
    if answers == 1:
        return Resolution.Method.SINGLE
    if outcome.unanimous:
        return Resolution.Method.UNANIMOUS
    return Resolution.Method.MAJORITY


def _resolution_fields(
    project: Project, outcome: ItemOutcome, method: str, annotations: list
) -> tuple[dict, str]:
    """The new resolution's fields, and the item's status that goes with it."""
    reason = review_reason(project, outcome)
    details = {"controls": outcome.controls, "annotations": [a for a, _, _ in annotations]}
    if outcome.model_version is not None:
        details["model_version"] = outcome.model_version
    fields = {
        "result": outcome.result,
        "method": method,
        "agreement": outcome.agreement,
        "confidence": outcome.confidence,
        "state": Resolution.State.PENDING if reason else Resolution.State.ACCEPTED,
        "reason": reason[:500],
        "details": details,
    }
    return fields, Item.Status.IN_REVIEW if reason else Item.Status.RESOLVED


def items_re_resolve(
    *, project: Project, item_ids: list[int], model: ConsensusModel, batch: int = 1000
) -> int:
    """Re-resolve many items (a refit's changes), a batch per transaction: the items locked,
    their answers read and their resolutions written in a few statements. An item whose outcome
    is its current resolution already records nothing; ties under review_policy none take
    item_resolve's path (more answers, weighted vote). Returns how many got a new resolution."""
    schema = LabelSchema(project.label_schema)
    re_resolved = 0
    for start in range(0, len(item_ids), batch):
        ids = item_ids[start : start + batch]
        with transaction.atomic():
            items = list(Item.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
            answers: dict[int, list] = {pk: [] for pk in ids}
            for item_id, *answer in (
                Annotation.objects.filter(item_id__in=ids)
                .order_by("id")
                .values_list("item_id", "id", "annotator_id", "result")
            ):
                answers[item_id].append(tuple(answer))
            current = {
                item_id: (pk, result, state)
                for pk, item_id, result, state in Resolution.objects.filter(
                    item_id__in=ids, is_current=True
                ).values_list("id", "item_id", "result", "state")
            }
            replaced, new, statuses, ties = [], [], {}, []
            for item in items:
                item.project = project
                annotations = answers[item.pk]
                if not annotations:
                    continue
                outcome = item_outcome(
                    item=item, annotations=annotations, model=model, schema=schema
                )
                if not outcome.decided and project.review_policy == Project.ReviewPolicy.NONE:
                    ties.append(item)
                    continue
                method = resolution_method(outcome=outcome, answers=len(annotations))
                fields, status = _resolution_fields(project, outcome, method, annotations)
                was = current.get(item.pk)
                if was is not None and (was[1], was[2]) == (fields["result"], fields["state"]):
                    continue
                if was is not None:
                    replaced.append(was[0])
                new.append(Resolution(item=item, is_current=True, **fields))
                statuses.setdefault(status, []).append(item.pk)
            Resolution.objects.filter(pk__in=replaced).update(is_current=False)
            Resolution.objects.bulk_create(new)
            for status, status_ids in statuses.items():
                Item.objects.filter(pk__in=status_ids).update(status=status)
            re_resolved += len(new)
            for item in ties:
                if item_resolve(item=item, only_if_changed=True, model=model) is not None:
                    re_resolved += 1
    return re_resolved


def _one_more_answer(*, item: Item, outcome: ItemOutcome, method: str, status_write: bool):
    """Dynamic overlap: the tied item wants one more answer and goes back to the queue (the
    queue serves items whose answers are fewer than overlap + extra_slots)."""
    slots = item.project.overlap + item.extra_slots + 1
    with transaction.atomic(savepoint=False):
        resolution = resolution_record(
            item=item,
            result=outcome.result,
            method=method,
            agreement=outcome.agreement,
            confidence=outcome.confidence,
            state=Resolution.State.SENT_BACK,
            reason=(
                f"tie, one more answer asked ({slots} of at most {item.project.max_overlap}): "
                + "; ".join(outcome.notes)
            )[:500],
            details={"controls": outcome.controls},
        )
        changes = {"extra_slots": item.extra_slots + 1}
        if status_write:
            changes["status"] = Item.Status.OPEN
        rows_update(Item, {"pk": item.pk}, set=changes)
        item.extra_slots += 1
        item.status = Item.Status.OPEN
    return resolution
