"""Gold items: answers checked against a known one, and each annotator's accuracy on them.

An answer's gold score is the mean, over the schema's controls, of the same similarity the
consensus uses to measure agreement for that kind of control (exact match for choices and text,
Jaccard for multiple choice, F1 of exact spans, matched F1 at IoU 0.5 for boxes and polygons).
A control both leave empty counts as a match. An annotator's gold accuracy is the mean of their
gold scores; for single-choice schemas that is the share of gold items answered correctly.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Avg, Count

from labeling.consensus.aggregation.choice import choice_similarity
from labeling.consensus.aggregation.multi import multi_similarity
from labeling.consensus.aggregation.shapes import BOX_KIND, POLYGON_KIND, shapes_f1
from labeling.consensus.aggregation.spans import spans_f1_exact
from labeling.consensus.aggregation.text import text_similarity
from labeling.models import Annotation
from projects.label_schema import (
    BOXES,
    CHOICE,
    MULTI,
    PAIRWISE,
    POLYGONS,
    SPANS,
    TEXT,
    LabelSchema,
)
from projects.models import Project

SIMILARITY = {
    CHOICE: choice_similarity,
    PAIRWISE: choice_similarity,
    MULTI: multi_similarity,
    SPANS: spans_f1_exact,
    BOXES: lambda a, b: shapes_f1(BOX_KIND, a, b),
    POLYGONS: lambda a, b: shapes_f1(POLYGON_KIND, a, b),
    TEXT: text_similarity,
}


@dataclass(frozen=True)
class GoldAccuracy:
    answered: int
    accuracy: float | None


def gold_score(*, schema: LabelSchema, result: dict, gold: dict) -> float:
    """How well `result` matches the gold answer, from 0 to 1."""
    scores = [
        SIMILARITY[control.kind](result.get(control.name), gold.get(control.name))
        for control in schema.controls
    ]
    return sum(scores) / len(scores) if scores else 1.0


def gold_accuracy_by_annotator(*, project: Project) -> dict[int, GoldAccuracy]:
    """{annotator id: GoldAccuracy} over the project's answered gold items."""
    rows = (
        Annotation.objects.filter(project=project, gold_score__isnull=False)
        .values("annotator_id")
        .annotate(answered=Count("id"), accuracy=Avg("gold_score"))
        .order_by()
    )
    return {
        row["annotator_id"]: GoldAccuracy(answered=row["answered"], accuracy=row["accuracy"])
        for row in rows
    }


def gold_accuracy_of(*, project: Project, annotator) -> GoldAccuracy:
    row = Annotation.objects.filter(
        project=project, annotator=annotator, gold_score__isnull=False
    ).aggregate(answered=Count("id"), accuracy=Avg("gold_score"))
    return GoldAccuracy(answered=row["answered"], accuracy=row["accuracy"])
