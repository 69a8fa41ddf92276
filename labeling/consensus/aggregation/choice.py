"""Single choice (and pairwise preference): majority vote; a tie at the top is undecided.

An empty answer (optional control left blank) votes for "no answer".
"""

from __future__ import annotations

from collections import Counter

from labeling.consensus.aggregation.base import ControlOutcome, is_empty, mean_pairwise
from projects.label_schema import Control


def choice_similarity(a, b) -> float:
    return float((None if is_empty(a) else a) == (None if is_empty(b) else b))


def choice_aggregate(control: Control, answers: list) -> ControlOutcome:
    votes = Counter(None if is_empty(a) else a for a in answers)
    ranked = votes.most_common()
    winner, top = ranked[0]
    decided = len(ranked) == 1 or ranked[1][1] < top
    agreement = mean_pairwise(answers, choice_similarity)
    note = "" if decided else f"tie between {sorted(str(v) for v, n in ranked if n == top)}"
    return ControlOutcome(
        value=winner if decided else None, agreement=agreement, decided=decided, note=note
    )
