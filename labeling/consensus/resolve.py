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
from django.core.cache import cache
from django.db import transaction

from labeling.consensus.aggregation import ControlOutcome, control_aggregate
from labeling.consensus.aggregation.base import is_empty, mean_pairwise
from labeling.consensus.aggregation.choice import choice_similarity
from labeling.consensus.answer_codes import choice_codes_load, control_label_values
from labeling.consensus.dawid_skene import dawid_skene_fit, item_posteriors
from labeling.models import Annotation, Resolution
from projects.direct_sql import row_insert, rows_select, rows_update
from projects.label_schema import CHOICE, Control, LabelSchema
from projects.models import Item, Project

# Refit the project's Dawid-Skene model when its annotations changed by more than this share
# (small projects refit on every change: it costs milliseconds).
DAWID_SKENE_REFIT_SHARE = 0.05
DAWID_SKENE_ALWAYS_REFIT_BELOW = 10_000


@dataclass
class ItemOutcome:
    result: dict[str, Any]
    agreement: float | None
    unanimous: bool
    decided: bool
    used_dawid_skene: bool = False
    controls: dict[str, dict] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


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
    """Aggregate answers control by control. choice_override replaces the vote for some controls."""
    unanimous = len(results) == 1 or results_unanimous(results, schema)
    if unanimous:
        return ItemOutcome(
            result={k: v for k, v in results[0].items() if not is_empty(v)},
            agreement=None if len(results) == 1 else 1.0,
            unanimous=True,
            decided=True,
            controls={
                c.name: {"agreement": None if len(results) == 1 else 1.0, "decided": True}
                for c in schema.controls
            },
        )
    final: dict[str, Any] = {}
    controls: dict[str, dict] = {}
    notes: list[str] = []
    agreements: list[float] = []
    used_dawid_skene = False
    for control in schema.controls:
        answers = [r.get(control.name) for r in results]
        outcome = (choice_override or {}).get(control.name) or control_aggregate(control, answers)
        used_dawid_skene |= control.name in (choice_override or {})
        controls[control.name] = {
            "agreement": None if outcome.agreement is None else float(outcome.agreement),
            "decided": bool(outcome.decided),
        }
        if outcome.agreement is not None:
            agreements.append(outcome.agreement)
        if not outcome.decided:
            notes.append(f"{control.name}: {outcome.note}")
        elif not is_empty(outcome.value):
            final[control.name] = outcome.value
    return ItemOutcome(
        result=final,
        # The weakest control decides whether a human must look.
        agreement=min(agreements) if agreements else None,
        unanimous=False,
        decided=not notes,
        used_dawid_skene=used_dawid_skene,
        controls=controls,
        notes=notes,
    )


def _dawid_skene_key(project: Project, control: Control) -> str:
    return f"quorum:dawid-skene:{project.pk}:{project.created_at.timestamp()}:{control.name}"


def dawid_skene_models_forget(*, project: Project) -> None:
    """Drop the cached models so the next resolution refits on the whole project."""
    schema = LabelSchema(project.label_schema)
    cache.delete_many([_dawid_skene_key(project, c) for c in schema.controls if c.kind == CHOICE])


def _dawid_skene_model(project: Project, control: Control, annotators: set[int]) -> dict:
    """The project's fitted Dawid-Skene model for one control, cached until the data moves."""
    key = _dawid_skene_key(project, control)
    count = Annotation.objects.filter(project=project).count()
    model = cache.get(key)
    stale = (
        model is None
        or (count < DAWID_SKENE_ALWAYS_REFIT_BELOW and model["count"] != count)
        or abs(count - model["count"]) > DAWID_SKENE_REFIT_SHARE * model["count"]
        or not annotators <= model["annotators"].keys()
    )
    if stale:
        codes = choice_codes_load(project=project, control=control).answered()
        fit = dawid_skene_fit(
            items=codes.items,
            annotators=codes.annotators,
            labels=codes.labels,
            n_items=codes.n_items,
            n_annotators=codes.n_annotators,
            n_labels=codes.n_labels,
        )
        model = {
            "count": count,
            "annotators": {int(a): i for i, a in enumerate(codes.annotator_ids)},
            "priors": fit.priors,
            "errors": fit.errors,
        }
        cache.set(key, model, timeout=24 * 3600)
    return model


def choice_dawid_skene(
    project: Project, control: Control, annotations: list[tuple[int, dict]]
) -> ControlOutcome:
    """The item's answer to a single-choice control by the project's Dawid-Skene model."""
    label_values = control_label_values(control)
    lookup = {v: i for i, v in enumerate(label_values)}
    answers = [(who, r.get(control.name)) for who, r in annotations]
    given = [(who, lookup[a]) for who, a in answers if a in lookup]
    agreement = mean_pairwise([a for _, a in answers], choice_similarity)
    if not given:
        return ControlOutcome(value=None, agreement=agreement, decided=True)
    model = _dawid_skene_model(project, control, annotators={who for who, _ in given})
    codes = [(model["annotators"].get(who), label) for who, label in given]
    codes = [(a, label) for a, label in codes if a is not None]
    posterior = item_posteriors(
        model["priors"],
        model["errors"],
        np.zeros(len(codes), dtype=np.int64),
        np.array([a for a, _ in codes], dtype=np.int64),
        np.array([label for _, label in codes], dtype=np.int64),
        1,
    )[0]
    order = np.argsort(-posterior)
    decided = bool(len(order) == 1 or posterior[order[0]] - posterior[order[1]] > 1e-12)
    return ControlOutcome(
        value=label_values[order[0]] if decided else None,
        agreement=agreement,
        decided=decided,
        note="" if decided else "Dawid-Skene posterior tied",
    )


def review_reason(project: Project, outcome: ItemOutcome) -> str:
    """Why the item needs a reviewer, or "" when the aggregate can be accepted.

    Undecided items (ties, differing free text) always need one. Then the review policy: `all`
    reviews everything, `disagreements` every item whose answers are not unanimous, `none`
    nothing; and under any policy an agreement below the project's threshold needs a reviewer.
    """
    if not outcome.decided:
        return "no majority: " + "; ".join(outcome.notes)
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
    return row_insert(Resolution(item=item, is_current=True, **fields))


def item_outcome(
    *, item: Item, annotations: list[tuple[int, int, dict]] | None = None
) -> ItemOutcome:
    """Aggregate the item's annotations [(annotation id, annotator id, result)] without saving."""
    project: Project = item.project
    if annotations is None:
        annotations = list(
            Annotation.objects.filter(item=item)
            .order_by("id")
            .values_list("id", "annotator_id", "result")
        )
    schema = LabelSchema(project.label_schema)
    results = [r for _, _, r in annotations]
    override = {}
    # Unanimous answers need no model: skip the (possibly refitted) project-wide EM.
    disputed = len(results) > 1 and not results_unanimous(results, schema)
    if project.aggregation == Project.Aggregation.DAWID_SKENE and disputed:
        for control in schema.controls:
            if control.kind == CHOICE:
                override[control.name] = choice_dawid_skene(
                    project, control, [(who, r) for _, who, r in annotations]
                )
    return results_aggregate(schema, results, override)


def item_resolve(
    *,
    item: Item,
    only_if_changed: bool = False,
    status_write: bool = True,
    annotations: list[tuple[int, int, dict]] | None = None,
) -> Resolution | None:
    """Resolve a fully annotated item, or send it to review. Returns the new resolution row.

    only_if_changed: record nothing when the outcome is the item's current resolution already.
    status_write=False: only set item.status; the caller, inside the same transaction, writes it
    along with its own changes to the item row.
    annotations: the item's [(annotation id, annotator id, result)] in id order, when the caller
    knows them all already (read from the database otherwise).
    """
    if annotations is None:
        annotations = rows_select(
            Annotation, ["id", "annotator_id", "result"], {"item_id": item.pk}
        )
    if not annotations:
        return None
    outcome = item_outcome(item=item, annotations=annotations)
    if len(annotations) == 1:
        method = Resolution.Method.SINGLE
    elif outcome.unanimous:
        method = Resolution.Method.UNANIMOUS
    elif outcome.used_dawid_skene:
        method = Resolution.Method.DAWID_SKENE
    else:
        method = Resolution.Method.MAJORITY
    reason = review_reason(item.project, outcome)
    state = Resolution.State.PENDING if reason else Resolution.State.ACCEPTED
    status = Item.Status.IN_REVIEW if reason else Item.Status.RESOLVED
    if only_if_changed:
        current = item.resolutions.filter(is_current=True).values_list("result", "state").first()
        if current == (outcome.result, state):
            return None
    with transaction.atomic(savepoint=False):  # no savepoint needed: all or nothing
        resolution = resolution_record(
            item=item,
            result=outcome.result,
            method=method,
            agreement=outcome.agreement,
            state=state,
            reason=reason[:500],
            details={"controls": outcome.controls, "annotations": [a for a, _, _ in annotations]},
        )
        if status_write:
            rows_update(Item, {"pk": item.pk}, set={"status": status})
        item.status = status
    return resolution
