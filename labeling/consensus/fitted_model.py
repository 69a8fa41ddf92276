"""A project's fitted Dawid-Skene model, one for every process: kept in the database by version.

consensus_model_fit (run by a worker, labeling.tasks) fits every choice-like control on all the
project's answers, with gold answers and reviewers' decisions held as known truths, and stores
the result as a new `model_version` of the project's ConsensusState row. Resolving an item reads
that version (one primary-key read) and the model of that version: memoised in the process,
else from the shared cache (Redis when configured), else from the row. A stored version never
changes, so every process that reads version N uses the same numbers.

No request or submit fits: an item resolved before the first fit, or an answer by an annotator
the model has not seen yet, uses a default annotator (right DEFAULT_ACCURACY of the time, wrong
answers spread evenly) and uniform priors, which votes like a majority until the next refit.

consensus_answers_seen is the counter a refit compares with (no count of annotations): the
answers submitted, summed over the annotators' own counter rows, plus those edited or imported
(consensus_answers_moved).
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from django.core.cache import cache
from django.db.models import F, OuterRef, Q, Subquery, Sum
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Coalesce
from django.utils import timezone

from labeling.consensus.answer_codes import (
    annotation_table_load,
    control_label_values,
    label_codes,
)
from labeling.consensus.dawid_skene import EPS, dawid_skene_fit
from labeling.models import AnnotatorStats, ConsensusState, Resolution
from projects.direct_sql import rows_fetch
from projects.label_schema import CHOICE, PAIRWISE, LabelSchema
from projects.models import Item, Project

DEFAULT_ACCURACY = 0.7
MEMO_SIZE = 32
CACHE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class ControlModel:
    """One control's fit: annotators (sorted user ids), priors and confusion matrices."""

    label_values: list[str]
    annotator_ids: np.ndarray
    priors: np.ndarray  # (labels,)
    errors: np.ndarray  # (annotators, given label, true label): P(given | true)

    def annotator_code(self, user_id: int) -> int | None:
        where = int(np.searchsorted(self.annotator_ids, user_id))
        if where < len(self.annotator_ids) and self.annotator_ids[where] == user_id:
            return where
        return None

    def reliability(self, user_id: int) -> float | None:
        """P(the annotator gives the true label), by the model's priors; None: not seen."""
        code = self.annotator_code(user_id)
        if code is None:
            return None
        return float((self.priors * np.diagonal(self.errors[code])).sum())

    def posterior(self, answers: list[tuple[int, int]]) -> np.ndarray:
        """P(true label | the item's answers [(user id, label code)])."""
        return answers_posterior(self, answers, len(self.label_values))


@dataclass(frozen=True)
class ConsensusModel:
    version: int  # 0: never fitted
    controls: dict[str, ControlModel]

    def control(self, name: str, label_values: list[str]) -> ControlModel | None:
        model = self.controls.get(name)
        # A schema whose labels changed since the fit is not the model's: defaults until a refit.
        return model if model is not None and model.label_values == label_values else None


def default_errors_row(given: int, n_labels: int) -> np.ndarray:
    """P(given | true) for an annotator the model has not seen."""
    if n_labels == 1:
        return np.ones(1)
    row = np.full(n_labels, (1.0 - DEFAULT_ACCURACY) / (n_labels - 1))
    row[given] = DEFAULT_ACCURACY
    return row


def answers_posterior(
    model: ControlModel | None, answers: list[tuple[int, int]], n_labels: int
) -> np.ndarray:
    priors = model.priors if model is not None else np.full(n_labels, 1.0 / n_labels)
    log_posterior = np.log2(np.maximum(priors, EPS))
    for user_id, given in answers:
        code = None if model is None else model.annotator_code(user_id)
        row = None if code is None else model.errors[code, given, :]
        if row is None or row.sum() <= 0:  # unseen annotator, or a label they never gave
            row = default_errors_row(given, n_labels)
        log_posterior = log_posterior + np.log2(np.maximum(row, EPS))
    scaled = np.exp2(log_posterior - log_posterior.max())
    return scaled / scaled.sum()


def model_used_by(project: Project) -> bool:
    """Dawid-Skene projects resolve by the model; with no review, ties are weighed by it."""
    return (
        project.aggregation == Project.Aggregation.DAWID_SKENE
        or project.review_policy == Project.ReviewPolicy.NONE
    )


def consensus_answers_moved(*, project: Project, count: int = 1) -> None:
    """Count answers edited or imported. New answers submitted are counted already, each on its
    annotator's own AnnotatorStats row (`annotated`): counting them here too would make every
    submit of the project wait for this one row's lock."""
    if count <= 0 or not model_used_by(project):
        return
    updated = ConsensusState.objects.filter(pk=project.pk).update(
        answer_changes=F("answer_changes") + count
    )
    if not updated:
        ConsensusState.objects.get_or_create(project=project)
        ConsensusState.objects.filter(pk=project.pk).update(
            answer_changes=F("answer_changes") + count
        )


# -- storing and reading -------------------------------------------------------------------


def _model_bytes(controls: dict[str, ControlModel]) -> bytes:
    names = list(controls)
    arrays = {"names": np.array(names, dtype=str)}
    for i, name in enumerate(names):
        model = controls[name]
        arrays[f"c{i}_labels"] = np.array(model.label_values, dtype=str)
        arrays[f"c{i}_annotators"] = model.annotator_ids.astype(np.int64)
        arrays[f"c{i}_priors"] = model.priors
        arrays[f"c{i}_errors"] = model.errors
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _model_from_bytes(version: int, data: bytes) -> ConsensusModel:
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        controls = {
            str(name): ControlModel(
                label_values=[str(v) for v in arrays[f"c{i}_labels"]],
                annotator_ids=arrays[f"c{i}_annotators"],
                priors=arrays[f"c{i}_priors"],
                errors=arrays[f"c{i}_errors"],
            )
            for i, name in enumerate(arrays["names"])
        }
    return ConsensusModel(version=version, controls=controls)


_memo: OrderedDict[tuple[int, int], ConsensusModel] = OrderedDict()
_memo_lock = threading.Lock()


def _cache_key(project_id: int, fitted_at: str, version: int) -> str:
    return f"quorum:consensus-model:{project_id}:{fitted_at}:{version}"


def consensus_model_version(*, project: Project) -> int:
    version = (
        ConsensusState.objects.filter(pk=project.pk).values_list("model_version", flat=True).first()
    )
    return version or 0


def consensus_model_current(*, project: Project) -> ConsensusModel:
    """The project's model as last stored (version 0 and no controls before the first fit)."""
    stored = (
        ConsensusState.objects.filter(pk=project.pk)
        .values_list("model_version", "fitted_at")
        .first()
    )
    if not stored or not stored[0]:
        return ConsensusModel(version=0, controls={})
    version = stored[0]
    # The fit's time too: a project id reused (SQLite reuses freed ids) is another model.
    fitted_at = stored[1].isoformat() if stored[1] else ""
    key = (project.pk, fitted_at, version)
    with _memo_lock:
        model = _memo.get(key)
        if model is not None:
            _memo.move_to_end(key)
            return model
    data = cache.get(_cache_key(*key))
    if data is None:
        data = (
            ConsensusState.objects.filter(pk=project.pk, model_version=version)
            .values_list("model", flat=True)
            .first()
        )
        if data is None:  # refitted meanwhile: read the newer one
            return consensus_model_current(project=project)
        data = bytes(data)
        cache.set(_cache_key(*key), data, timeout=CACHE_SECONDS)
    model = _model_from_bytes(version, data)
    with _memo_lock:
        _memo[key] = model
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    return model


# -- fitting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ControlFit:
    item_ids: np.ndarray  # Item.id of each row of posteriors (items with an answer)
    posteriors: np.ndarray
    label_values: list[str]


@dataclass(frozen=True)
class ModelFit:
    version: int
    answers: int
    items: int
    controls: dict[str, ControlFit]


def _known_labels(
    project: Project, control_name: str, label_values: list[str], item_ids: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(item codes, label codes) of the items whose answer is known: gold, then reviewers'."""
    gold = rows_fetch(
        Item.objects.filter(project=project, gold__isnull=False).values_list(
            "id", KeyTextTransform(control_name, "gold")
        )
    )
    reviewed = rows_fetch(
        Resolution.objects.filter(
            item__project=project,
            is_current=True,
            method=Resolution.Method.REVIEWER,
            state=Resolution.State.ACCEPTED,
        ).values_list("item_id", KeyTextTransform(control_name, "result"))
    )
    rows = gold + reviewed
    if not rows or not len(item_ids):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    ids = np.asarray([r[0] for r in rows], dtype=np.int64)
    labels = label_codes([r[1] for r in rows], label_values)
    where = np.clip(np.searchsorted(item_ids, ids), 0, len(item_ids) - 1)
    keep = (item_ids[where] == ids) & (labels >= 0)
    return where[keep], labels[keep]


def consensus_model_fit(*, project: Project) -> ModelFit:
    """Fit every choice-like control on all the project's answers; store it as a new version."""
    state, _ = ConsensusState.objects.get_or_create(project=project)
    # Read before the answers: those arriving during the fit keep the model stale.
    changes_seen = consensus_answers_seen(project_id=project.pk)
    schema = LabelSchema(project.label_schema)
    controls = [c for c in schema.controls if c.kind in (CHOICE, PAIRWISE)]
    table = annotation_table_load(project=project, controls=controls)
    models: dict[str, ControlModel] = {}
    fits: dict[str, ControlFit] = {}
    for control in controls:
        label_values = control_label_values(control)
        codes = table.codes(control.name).answered()
        known_items, known_labels = _known_labels(
            project, control.name, label_values, codes.item_ids
        )
        fit = dawid_skene_fit(
            items=codes.items,
            annotators=codes.annotators,
            labels=codes.labels,
            n_items=codes.n_items,
            n_annotators=codes.n_annotators,
            n_labels=codes.n_labels,
            tolerance=1e-6,
            known_items=known_items,
            known_labels=known_labels,
        )
        models[control.name] = ControlModel(
            label_values=label_values,
            annotator_ids=codes.annotator_ids,
            priors=fit.priors,
            errors=fit.errors,
        )
        fits[control.name] = ControlFit(
            item_ids=codes.item_ids, posteriors=fit.posteriors, label_values=label_values
        )
    ConsensusState.objects.filter(pk=project.pk).update(
        model_version=F("model_version") + 1,
        fitted_changes=changes_seen,
        model=_model_bytes(models),
        fitted_at=timezone.now(),
    )
    version = consensus_model_version(project=project)
    return ModelFit(
        version=version, answers=len(table.items), items=len(table.item_ids), controls=fits
    )


def _submitted(project_ref) -> Subquery:
    return Subquery(
        AnnotatorStats.objects.filter(project_id=project_ref)
        .values("project_id")
        .annotate(total=Sum("annotated"))
        .values("total")[:1]
    )


def consensus_answers_seen(*, project_id: int) -> int:
    """The project's answer counter: answers submitted (summed over its annotators' rows) plus
    answers edited or imported. It only grows; a refit records the value it saw."""
    submitted = (
        AnnotatorStats.objects.filter(project_id=project_id).aggregate(total=Sum("annotated"))[
            "total"
        ]
        or 0
    )
    other = (
        ConsensusState.objects.filter(pk=project_id)
        .values_list("answer_changes", flat=True)
        .first()
    )
    return submitted + (other or 0)


def consensus_model_stale_projects() -> list[int]:
    """Projects using a model whose answers moved since it was fitted."""
    state = ConsensusState.objects.filter(project_id=OuterRef("pk"))
    return list(
        Project.objects.filter(
            Q(aggregation=Project.Aggregation.DAWID_SKENE)
            | Q(review_policy=Project.ReviewPolicy.NONE)
        )
        .annotate(
            seen=Coalesce(_submitted(OuterRef("pk")), 0)
            + Coalesce(Subquery(state.values("answer_changes")[:1]), 0),
            fitted=Coalesce(Subquery(state.values("fitted_changes")[:1]), 0),
        )
        .filter(seen__gt=F("fitted"))
        .values_list("pk", flat=True)
    )
