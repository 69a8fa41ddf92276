"""Project annotations as integer codes for vectorised statistics: one bulk query, no per-row ORM.

Choice-like controls (single choice, pairwise) are read with the database's JSON operators
(result->>'control'), so a million annotations arrive as a few flat columns in one query.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from django.db.models.fields.json import KeyTextTransform

from labeling.models import Annotation
from projects.direct_sql import rows_fetch
from projects.label_schema import PAIRWISE, PAIRWISE_ANSWERS, Control
from projects.models import Project

EMPTY = -1  # the label code of an annotation that left the control blank


def category_counts(items, labels, n_items: int, n_labels: int) -> np.ndarray:
    """(items, labels) matrix: how many annotators gave each label to each item."""
    keep = labels != EMPTY
    cells = items[keep] * n_labels + labels[keep]
    return np.bincount(cells, minlength=n_items * n_labels).reshape(n_items, n_labels)


@dataclass(frozen=True)
class ChoiceCodes:
    """One row per annotation: items[i], annotators[i], labels[i] (EMPTY when left blank)."""

    label_values: list[str]
    item_ids: np.ndarray  # item code -> Item.id
    annotator_ids: np.ndarray  # annotator code -> user id
    items: np.ndarray
    annotators: np.ndarray
    labels: np.ndarray
    lead_times: np.ndarray

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_annotators(self) -> int:
        return len(self.annotator_ids)

    @property
    def n_labels(self) -> int:
        return len(self.label_values)

    def answered(self) -> ChoiceCodes:
        """Only the annotations that gave a label."""
        keep = self.labels != EMPTY
        return ChoiceCodes(
            label_values=self.label_values,
            item_ids=self.item_ids,
            annotator_ids=self.annotator_ids,
            items=self.items[keep],
            annotators=self.annotators[keep],
            labels=self.labels[keep],
            lead_times=self.lead_times[keep],
        )


@dataclass(frozen=True)
class AnnotationTable:
    """The project's annotations: shared item/annotator codes and one label column per control."""

    item_ids: np.ndarray
    annotator_ids: np.ndarray
    items: np.ndarray
    annotators: np.ndarray
    lead_times: np.ndarray
    labels: dict[str, np.ndarray]
    label_values: dict[str, list[str]]

    def codes(self, control_name: str) -> ChoiceCodes:
        return ChoiceCodes(
            label_values=self.label_values[control_name],
            item_ids=self.item_ids,
            annotator_ids=self.annotator_ids,
            items=self.items,
            annotators=self.annotators,
            labels=self.labels[control_name],
            lead_times=self.lead_times,
        )


def control_label_values(control: Control) -> list[str]:
    if control.kind == PAIRWISE:
        return list(PAIRWISE_ANSWERS)
    return [lb.value for lb in control.labels]


def label_codes(answers, label_values: list[str]) -> np.ndarray:
    """Code of each answer in label_values; EMPTY for blanks and unknown values."""
    import pandas as pd

    codes = pd.Categorical(list(answers), categories=label_values).codes.astype(np.int64)
    codes[codes < 0] = EMPTY
    return codes


@contextmanager
def gc_paused():
    """Building a million row tuples would trigger many full garbage collections for nothing:
    none of these objects form cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def dense_codes(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct ids, code of each id): np.unique's answer without sorting (ids are
    database keys, so a presence table up to the largest id is small and linear to fill)."""
    if not len(ids):
        return ids, ids
    present = np.zeros(int(ids.max()) + 1, dtype=bool)
    present[ids] = True
    code_of = np.cumsum(present) - 1
    return np.flatnonzero(present), code_of[ids]


def annotation_table_load(
    *, project: Project, controls: list[Control], items=None
) -> AnnotationTable:
    """One query for every annotation of the project (optionally of some items only)."""
    queryset = Annotation.objects.filter(project=project)
    if items is not None:
        queryset = queryset.filter(item__in=items)
    answer_columns = [KeyTextTransform(c.name, "result") for c in controls]
    rows = queryset.values_list("item_id", "annotator_id", "lead_time", *answer_columns)
    with gc_paused():
        fetched = rows_fetch(rows)
        columns = list(zip(*fetched, strict=True)) if fetched else [()] * (3 + len(controls))
        del fetched
        return _table_build(columns, controls)


def _table_build(columns: list, controls: list[Control]) -> AnnotationTable:
    item_ids, items_coded = dense_codes(np.asarray(columns[0], dtype=np.int64))
    annotator_ids, annotators_coded = dense_codes(np.asarray(columns[1], dtype=np.int64))
    values = {c.name: control_label_values(c) for c in controls}
    return AnnotationTable(
        item_ids=item_ids,
        annotator_ids=annotator_ids,
        items=items_coded.astype(np.int64).ravel(),
        annotators=annotators_coded.astype(np.int64).ravel(),
        lead_times=np.asarray(columns[2], dtype=float),
        labels={
            c.name: label_codes(columns[3 + i], values[c.name]) for i, c in enumerate(controls)
        },
        label_values=values,
    )


def choice_codes_load(*, project: Project, control: Control, items=None) -> ChoiceCodes:
    """All the project's answers to one choice-like control."""
    return annotation_table_load(project=project, controls=[control], items=items).codes(
        control.name
    )
