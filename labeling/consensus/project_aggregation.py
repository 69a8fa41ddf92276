"""Whole-project aggregation of choice controls, vectorised: majority vote and Dawid-Skene.

item_resolve decides one item at a time as annotations arrive; this computes every item's
aggregate in one pass (for a project switching to Dawid-Skene, reports and the benchmark).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from labeling.consensus.answer_codes import ChoiceCodes, annotation_table_load, category_counts
from labeling.consensus.dawid_skene import DawidSkeneFit, dawid_skene_fit
from projects.label_schema import CHOICE, PAIRWISE, LabelSchema
from projects.models import Project


@dataclass(frozen=True)
class ChoiceAggregate:
    item_ids: np.ndarray
    labels: np.ndarray  # label code per item (-1: nobody answered)
    decided: np.ndarray  # False where the top of the vote is tied
    confidence: np.ndarray  # share of votes (majority) or posterior (Dawid-Skene) of the winner
    label_values: list[str]

    def label_of(self, item_id: int) -> str | None:
        where = int(np.searchsorted(self.item_ids, item_id))
        code = self.labels[where]
        return None if code < 0 or not self.decided[where] else self.label_values[code]


def majority_aggregate(codes: ChoiceCodes) -> ChoiceAggregate:
    answered = codes.answered()
    counts = category_counts(answered.items, answered.labels, codes.n_items, codes.n_labels)
    top = counts.max(axis=1)
    winners = counts.argmax(axis=1)
    totals = counts.sum(axis=1)
    decided = (counts == top[:, None]).sum(axis=1) == 1
    return ChoiceAggregate(
        item_ids=codes.item_ids,
        labels=np.where(totals > 0, winners, -1),
        decided=decided & (totals > 0),
        confidence=np.where(totals > 0, top / np.maximum(totals, 1), 0.0),
        label_values=codes.label_values,
    )


def choice_dawid_skene_fit(codes: ChoiceCodes) -> DawidSkeneFit:
    answered = codes.answered()
    return dawid_skene_fit(
        items=answered.items,
        annotators=answered.annotators,
        labels=answered.labels,
        n_items=codes.n_items,
        n_annotators=codes.n_annotators,
        n_labels=codes.n_labels,
        tolerance=1e-6,
    )


def dawid_skene_aggregate(codes: ChoiceCodes, fit: DawidSkeneFit | None = None) -> ChoiceAggregate:
    answered = codes.answered()
    fit = fit or choice_dawid_skene_fit(codes)
    ordered = np.sort(fit.posteriors, axis=1)
    answered_items = np.bincount(answered.items, minlength=codes.n_items) > 0
    return ChoiceAggregate(
        item_ids=codes.item_ids,
        labels=np.where(answered_items, fit.posteriors.argmax(axis=1), -1),
        decided=answered_items & (ordered[:, -1] - ordered[:, -2] > 1e-12)
        if codes.n_labels > 1
        else answered_items,
        confidence=ordered[:, -1],
        label_values=codes.label_values,
    )


def project_choice_aggregate(*, project: Project) -> dict[str, ChoiceAggregate]:
    """Every item's aggregate for each choice-like control, by the project's aggregation."""
    schema = LabelSchema(project.label_schema)
    controls = [c for c in schema.controls if c.kind in (CHOICE, PAIRWISE)]
    table = annotation_table_load(project=project, controls=controls)
    out = {}
    for control in controls:
        codes = table.codes(control.name)
        use_dawid_skene = (
            control.kind == CHOICE and project.aggregation == Project.Aggregation.DAWID_SKENE
        )
        out[control.name] = (
            dawid_skene_aggregate(codes) if use_dawid_skene else majority_aggregate(codes)
        )
    return out
