"""Which labels a result uses, and the stratum an item falls in when a split is stratified."""

from __future__ import annotations

from collections import Counter
from typing import Any

from projects import label_schema as ls
from projects.label_schema import Control, LabelSchema

SHAPE_OR_SPAN_KINDS = (ls.SPANS, ls.BOXES, ls.POLYGONS)
# Controls whose answers carry labels, so a split can be stratified by them (not free text).
STRATIFY_KINDS = (ls.CHOICE, ls.MULTI, ls.PAIRWISE, *SHAPE_OR_SPAN_KINDS)
NO_LABEL = ""


def control_labels(control: Control, value: Any) -> list[str]:
    """Every label occurrence in one control's answer (a box or span counts once each)."""
    if value in (None, "", []):
        return []
    if control.kind in (ls.CHOICE, ls.PAIRWISE):
        return [value]
    if control.kind == ls.MULTI:
        return list(value)
    if control.kind in SHAPE_OR_SPAN_KINDS:
        return [part["label"] for part in value]
    return []  # free text has no labels


def stratify_controls(schema: LabelSchema) -> list[Control]:
    return [control for control in schema.controls if control.kind in STRATIFY_KINDS]


def stratify_control(schema: LabelSchema, name: str | None) -> Control | None:
    """The control named, else the first control that has labels (choice first)."""
    if name:
        return schema.by_name[name]
    for kinds in ((ls.CHOICE,), (ls.MULTI, ls.PAIRWISE), SHAPE_OR_SPAN_KINDS):
        for control in schema.controls:
            if control.kind in kinds:
                return control
    return None


def stratum_key(control: Control | None, result: dict | None) -> str:
    """One key per item: its label, the sorted set of its labels, or its most common label."""
    if control is None or not result:
        return NO_LABEL
    labels = control_labels(control, result.get(control.name))
    if not labels:
        return NO_LABEL
    if control.kind == ls.MULTI:
        return "|".join(sorted(labels))
    if control.kind in SHAPE_OR_SPAN_KINDS:
        counts = Counter(labels)
        # Most common label; ties go to the label listed first in the schema.
        order = {label.value: i for i, label in enumerate(control.labels)}
        return min(counts, key=lambda label: (-counts[label], order.get(label, len(order))))
    return labels[0]
