"""Aggregation: combine several annotators' answers to one control into one answer.

One module per control kind. Each aggregator takes the control and the list of answers (one per
annotator, None where the annotator left the control empty) and returns a ControlOutcome.
"""

from labeling.consensus.aggregation.base import ControlOutcome
from labeling.consensus.aggregation.choice import choice_aggregate
from labeling.consensus.aggregation.multi import multi_aggregate
from labeling.consensus.aggregation.shapes import boxes_aggregate, polygons_aggregate
from labeling.consensus.aggregation.spans import spans_aggregate
from labeling.consensus.aggregation.text import text_aggregate
from projects.label_schema import BOXES, CHOICE, MULTI, PAIRWISE, POLYGONS, SPANS, TEXT, Control

AGGREGATORS = {
    CHOICE: choice_aggregate,
    PAIRWISE: choice_aggregate,
    MULTI: multi_aggregate,
    SPANS: spans_aggregate,
    BOXES: boxes_aggregate,
    POLYGONS: polygons_aggregate,
    TEXT: text_aggregate,
}


def control_aggregate(control: Control, answers: list) -> ControlOutcome:
    return AGGREGATORS[control.kind](control, answers)


__all__ = ["AGGREGATORS", "ControlOutcome", "control_aggregate"]
