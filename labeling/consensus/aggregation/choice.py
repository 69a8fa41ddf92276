"""Single choice (and pairwise preference): majority vote; a tie at the top is undecided.

An empty answer (optional control left blank) votes for "no answer".
"""

from __future__ import annotations

from collections import Counter

from labeling.consensus.aggregation.base import (
    ControlOutcome,
    is_empty,
    mean_pairwise,
    words_joined,
)
from projects.label_schema import PAIRWISE, Control

PAIRWISE_WORDS = {"a": "A is better", "b": "B is better", "tie": "tie"}


def choice_similarity(a, b) -> float:
    return float((None if is_empty(a) else a) == (None if is_empty(b) else b))


def choice_aggregate(control: Control, answers: list) -> ControlOutcome:
    votes = Counter(None if is_empty(a) else a for a in answers)
    ranked = votes.most_common()
    winner, top = ranked[0]
    decided = len(ranked) == 1 or ranked[1][1] < top
    agreement = mean_pairwise(answers, choice_similarity)
    tied_values = [v for v, n in ranked if n == top]
    if decided:
        note = ""
    elif control.kind == PAIRWISE:
        note = f"votes split between {words_joined(PAIRWISE_WORDS.get(v, v) for v in tied_values)}"
    else:
        note = f"tie between {words_joined(tied_values)}"
    return ControlOutcome(
        value=winner if decided else None,
        agreement=agreement,
        decided=decided,
        note=note,
        confidence=top / len(answers),
    )
