"""The project's quality numbers: agreement per control and label, and per-annotator figures.

project_quality reads the project in a few bulk queries (one for every annotation, one for the
current resolutions, gold scores and skips) and computes everything with numpy; only span, shape,
multi-label and free-text controls walk their answers item by item.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

import numpy as np
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db.models import Avg, Count, Max, Min
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import TruncDate, TruncHour

from labeling.annotate.gold import SIMILARITY, gold_accuracy_by_annotator
from labeling.consensus.aggregation.shapes import BOX_KIND, POLYGON_KIND
from labeling.consensus.answer_codes import (
    AnnotationTable,
    ChoiceCodes,
    annotation_table_load,
    gc_paused,
    label_codes,
)
from labeling.consensus.project_aggregation import (
    choice_dawid_skene_fit,
    dawid_skene_aggregate,
    majority_aggregate,
)
from labeling.models import Annotation, Assignment, Resolution
from labeling.quality import agreement
from projects.direct_sql import rows_fetch
from projects.label_schema import (
    BOXES,
    CHOICE,
    MULTI,
    PAIRWISE,
    POLYGONS,
    SPANS,
    Control,
    LabelSchema,
)
from projects.models import Item, Project
from projects.progress import item_status_counts

CATEGORICAL = (CHOICE, PAIRWISE)


def answers_similarity(kind: str, a: Any, b: Any) -> float:
    """How far two answers to one control agree, 0..1 (equality, Jaccard, F1 ...)."""
    return SIMILARITY[kind](a, b)


class _Tally:
    """Per-annotator sums of scores (agreement with the consensus) and their counts."""

    def __init__(self, size: int):
        self.score = np.zeros(size)
        self.count = np.zeros(size)

    def add(self, annotators: np.ndarray, scores: np.ndarray) -> None:
        self.score += np.bincount(annotators, weights=scores, minlength=len(self.score))
        self.count += np.bincount(annotators, minlength=len(self.count))

    def mean(self, code: int) -> float | None:
        return float(self.score[code] / self.count[code]) if self.count[code] else None


def _item_codes(table: AnnotationTable, item_ids) -> np.ndarray:
    """Codes of the given item ids in the table (-1 when the item has no annotation)."""
    item_ids = np.asarray(item_ids, dtype=np.int64)
    if not len(table.item_ids) or not len(item_ids):
        return np.full(len(item_ids), -1, dtype=np.int64)
    where = np.clip(np.searchsorted(table.item_ids, item_ids), 0, len(table.item_ids) - 1)
    return np.where(table.item_ids[where] == item_ids, where, -1)


def _per_item_reference(table: AnnotationTable, rows, label_values) -> np.ndarray:
    """Label code of a reference answer (consensus, gold) per item code; EMPTY where unknown."""
    reference = np.full(len(table.item_ids), agreement.EMPTY, dtype=np.int64)
    if rows:
        with gc_paused():
            item_ids, answers = zip(*rows, strict=True)
            codes = _item_codes(table, item_ids)
            known = codes >= 0
            reference[codes[known]] = label_codes(answers, label_values)[known]
    return reference


def _categorical_control(
    control: Control,
    codes: ChoiceCodes,
    consensus_rows,
    table: AnnotationTable,
    consensus: _Tally,
    confusions: dict,
) -> dict:
    answered = codes.answered()
    pairs = agreement.annotator_pairs(answered.items, answered.annotators, codes.n_items)
    metrics = agreement.categorical_metrics(
        answered.items, answered.annotators, answered.labels, codes.n_items, codes.n_labels, pairs
    )
    labels = []
    for k, value in enumerate(codes.label_values):
        presence = agreement.one_vs_rest(answered.labels, k)
        labels.append(
            {
                "label": value,
                **agreement.binary_metrics_per_label(
                    presence, answered.items, answered.annotators, codes.n_items, pairs
                ),
            }
        )
    # Agreement with the consensus: one vectorised comparison.
    per_item = _per_item_reference(table, consensus_rows, codes.label_values)
    reference = per_item[codes.items]
    known = reference != agreement.EMPTY
    consensus.add(codes.annotators[known], (codes.labels[known] == reference[known]).astype(float))
    reference = per_item[answered.items]
    known = reference != agreement.EMPTY
    pooled = np.bincount(
        reference[known] * codes.n_labels + answered.labels[known],
        minlength=codes.n_labels * codes.n_labels,
    ).reshape(codes.n_labels, codes.n_labels)
    out = {
        "name": control.name,
        "kind": control.kind,
        **metrics,
        "labels": labels,
        "consensus_confusion": {
            "labels": codes.label_values,
            "matrix": pooled.astype(int).tolist(),
        },
    }
    majority = majority_aggregate(codes)
    out["aggregation"] = {"majority_decided": int(majority.decided.sum())}
    if control.kind == CHOICE and len(answered.labels):
        fit = choice_dawid_skene_fit(codes)
        by_model = dawid_skene_aggregate(codes, fit=fit)
        both = majority.decided & by_model.decided
        out["aggregation"].update(
            dawid_skene_decided=int(by_model.decided.sum()),
            # items whose label depends on the method: where annotator reliability matters
            methods_differ=int((majority.labels[both] != by_model.labels[both]).sum()),
        )
        out["dawid_skene"] = {"iterations": fit.iterations, "priors": fit.priors.tolist()}
        for a in range(codes.n_annotators):
            if fit.used[a].any():
                confusions[a][control.name] = {
                    "labels": codes.label_values,
                    "matrix": np.round(fit.confusion(a), 6).tolist(),
                }
    return out


def _grouped_answers(project: Project, control: Control):
    """[(item id, annotator id, answer)] for one control, read as JSON."""
    return list(
        Annotation.objects.filter(project=project)
        .order_by("item_id", "id")
        .values_list("item_id", "annotator_id", KeyTransform(control.name, "result"))
    )


def _structured_control(
    project: Project,
    control: Control,
    table: AnnotationTable,
    consensus_results: dict,
    consensus: _Tally,
) -> dict:
    rows = _grouped_answers(project, control)
    by_item: dict[int, list] = defaultdict(list)
    for item_id, _, answer in rows:
        by_item[item_id].append(answer)
    grouped = [answers for answers in by_item.values() if len(answers) >= 2]
    labels = [lb.value for lb in control.labels]
    if control.kind == SPANS:
        metrics = agreement.spans_agreement(grouped, labels)
    elif control.kind in (BOXES, POLYGONS):
        kind = BOX_KIND if control.kind == BOXES else POLYGON_KIND
        metrics = agreement.shapes_agreement(kind, grouped, labels)
    elif control.kind == MULTI:
        metrics = _multi_metrics(rows, table, labels)
    else:
        metrics = agreement.text_agreement(grouped)
    annotator_codes = {int(a): i for i, a in enumerate(table.annotator_ids)}
    who, scores = [], []
    for item_id, annotator_id, answer in rows:
        if item_id in consensus_results:
            who.append(annotator_codes[annotator_id])
            scores.append(
                answers_similarity(
                    control.kind, answer, consensus_results[item_id].get(control.name)
                )
            )
    if who:
        consensus.add(np.array(who, dtype=np.int64), np.array(scores))
    return {"name": control.name, "kind": control.kind, **metrics}


def _multi_metrics(rows, table: AnnotationTable, labels: list[str]) -> dict:
    """Per label: the categorical metrics on "chose this label or not"; the control: their mean."""
    if not rows:
        return {"labels": []}
    item_ids, annotator_ids, answers = zip(*rows, strict=True)
    items = _item_codes(table, item_ids)
    annotators = np.searchsorted(table.annotator_ids, np.asarray(annotator_ids, dtype=np.int64))
    pairs = agreement.annotator_pairs(items, annotators, len(table.item_ids))
    per_label = []
    for label in labels:
        presence = np.fromiter((label in (a or ()) for a in answers), dtype=np.int64)
        per_label.append(
            {
                "label": label,
                **agreement.binary_metrics_per_label(
                    presence, items, annotators, len(table.item_ids), pairs
                ),
            }
        )
    keys = ("percent_agreement", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha")
    return {
        "items": per_label[0]["items"] if per_label else 0,
        **{key: agreement.mean_of(per_label, key) for key in keys},
        "labels": per_label,
    }


HOURLY_PROGRESS_SPAN = timedelta(days=3)


def _per_period(queryset, trunc) -> dict:
    return dict(
        queryset.annotate(period=trunc("created_at"))
        .values_list("period")
        .annotate(n=Count("id"))
        .values_list("period", "n")
    )


def project_progress(*, project: Project) -> list[dict]:
    """Annotations and accepted resolutions per hour (projects younger than three days of work)
    or per day, with running totals."""
    annotations = Annotation.objects.filter(project=project)
    resolutions = Resolution.objects.filter(
        item__project=project, is_current=True, state=Resolution.State.ACCEPTED
    )
    span = annotations.aggregate(first=Min("created_at"), last=Max("created_at"))
    hourly = span["first"] is not None and span["last"] - span["first"] < HOURLY_PROGRESS_SPAN
    trunc = TruncHour if hourly else TruncDate
    annotated, resolved = _per_period(annotations, trunc), _per_period(resolutions, trunc)
    rows, total_annotated, total_resolved = [], 0, 0
    for period in sorted(set(annotated) | set(resolved)):
        total_annotated += annotated.get(period, 0)
        total_resolved += resolved.get(period, 0)
        rows.append(
            {
                "period": period.isoformat(),
                "unit": "hour" if hourly else "day",
                "annotations": annotated.get(period, 0),
                "resolved": resolved.get(period, 0),
                "annotations_total": total_annotated,
                "resolved_total": total_resolved,
            }
        )
    return rows


def project_quality(*, project: Project) -> dict:
    """Everything the agreement endpoint and the dashboard show."""
    schema = LabelSchema(project.label_schema)
    categorical = [c for c in schema.controls if c.kind in CATEGORICAL]
    table = annotation_table_load(project=project, controls=categorical)
    n_annotators = len(table.annotator_ids)
    consensus = _Tally(n_annotators)
    confusions: dict[int, dict] = defaultdict(dict)

    current = Resolution.objects.filter(
        item__project=project, is_current=True, state=Resolution.State.ACCEPTED
    )
    structured = [c for c in schema.controls if c.kind not in CATEGORICAL]
    consensus_results = dict(current.values_list("item_id", "result")) if structured else {}

    controls = []
    for control in schema.controls:
        if control.kind in CATEGORICAL:
            consensus_rows = rows_fetch(
                current.values_list("item_id", KeyTextTransform(control.name, "result"))
            )
            controls.append(
                _categorical_control(
                    control, table.codes(control.name), consensus_rows, table, consensus, confusions
                )
            )
        else:
            controls.append(
                _structured_control(project, control, table, consensus_results, consensus)
            )

    gold = gold_accuracy_by_annotator(project=project)
    annotators = _annotator_rows(project, table, gold, consensus, confusions)
    statuses = item_status_counts(project=project)
    mean_agreement = current.aggregate(mean=Avg("agreement"))["mean"]
    return {
        "project": {
            "id": project.pk,
            "items": sum(statuses.values()),
            "status_counts": statuses,
            "annotations": int(len(table.items)),
            "annotators": n_annotators,
            "mean_item_agreement": mean_agreement,
        },
        "controls": controls,
        "annotators": annotators,
        "progress": project_progress(project=project),
    }


def _annotator_rows(project, table, gold: dict, consensus: _Tally, confusions) -> list[dict]:
    n_annotators = len(table.annotator_ids)
    counts = np.bincount(table.annotators, minlength=n_annotators)
    seconds = np.bincount(table.annotators, weights=table.lead_times, minlength=n_annotators)
    order = np.argsort(table.annotators, kind="stable")
    bounds = np.searchsorted(table.annotators[order], np.arange(n_annotators + 1))
    sorted_times = table.lead_times[order]
    skips = dict(
        Assignment.objects.filter(project=project, state=Assignment.State.SKIPPED)
        .values_list("annotator_id")
        .annotate(n=Count("id"))
        .values_list("annotator_id", "n")
    )
    names = dict(
        get_user_model()
        .objects.filter(pk__in=[int(a) for a in table.annotator_ids])
        .values_list("pk", "username")
    )
    rows = []
    for code, user_id in enumerate(table.annotator_ids.tolist()):
        times = sorted_times[bounds[code] : bounds[code + 1]]
        rows.append(
            {
                "id": user_id,
                "username": names.get(user_id, str(user_id)),
                "annotations": int(counts[code]),
                # Scored as answers arrive (annotate.gold): the same similarities as consensus.
                "gold_answers": gold[user_id].answered if user_id in gold else 0,
                "gold_accuracy": gold[user_id].accuracy if user_id in gold else None,
                "consensus_answers": int(consensus.count[code]),
                "consensus_agreement": consensus.mean(code),
                # Throughput from the time spent on the items (Annotation.lead_time).
                "items_per_hour": float(counts[code] * 3600 / seconds[code])
                if seconds[code] > 0
                else None,
                "median_seconds": float(np.median(times)) if len(times) else None,
                "skips": int(skips.pop(user_id, 0)),
                "confusion": confusions.get(code, {}),
            }
        )
    only_skipped = dict(
        get_user_model().objects.filter(pk__in=list(skips)).values_list("pk", "username")
    )
    for user_id, n in skips.items():
        rows.append(
            {
                "id": user_id,
                "username": only_skipped.get(user_id, str(user_id)),
                "annotations": 0,
                "gold_answers": 0,
                "gold_accuracy": None,
                "consensus_answers": 0,
                "consensus_agreement": None,
                "items_per_hour": None,
                "median_seconds": None,
                "skips": n,
                "confusion": {},
            }
        )
    return rows


def _quality_version(project: Project) -> str:
    """Changes whenever anything the report reads changes (cheap aggregate queries)."""
    annotations = Annotation.objects.filter(project=project).aggregate(
        n=Count("id"), changed=Max("updated_at")
    )
    resolutions = Resolution.objects.filter(item__project=project).aggregate(last=Max("id"))
    assignments = Assignment.objects.filter(project=project).aggregate(
        last=Max("id"), finished=Max("finished_at")
    )
    items = Item.objects.filter(project=project).aggregate(n=Count("id"), last=Max("id"))
    return repr((annotations, resolutions, assignments, items, project.label_schema))


def project_quality_cached(*, project: Project) -> dict:
    """project_quality, reused until the project's data changes (large projects take seconds)."""
    key = f"quorum:quality:{project.pk}:{project.created_at.timestamp()}"
    version = _quality_version(project)
    cached = cache.get(key)
    if cached is not None and cached["version"] == version:
        return cached["report"]
    report = project_quality(project=project)
    cache.set(key, {"version": version, "report": report}, timeout=3600)
    return report
