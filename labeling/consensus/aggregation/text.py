"""Free text: accepted only when every annotator wrote the same text (whitespace aside).

Differing texts cannot be voted on, so they go to a reviewer.
"""

from __future__ import annotations

from labeling.consensus.aggregation.base import ControlOutcome, is_empty, mean_pairwise
from projects.label_schema import Control


def text_normalise(value) -> str | None:
    return None if is_empty(value) else " ".join(str(value).split())


def text_similarity(a, b) -> float:
    return float(text_normalise(a) == text_normalise(b))


def text_aggregate(control: Control, answers: list) -> ControlOutcome:
    distinct = {text_normalise(a) for a in answers}
    agreement = mean_pairwise(answers, text_similarity)
    if len(distinct) == 1:
        first = next(a for a in answers)
        return ControlOutcome(
            value=None if is_empty(first) else first, agreement=agreement, decided=True
        )
    return ControlOutcome(value=None, agreement=agreement, decided=False, note="free texts differ")
