"""Multiple choice: each label is kept if more than half the annotators chose it.

A label chosen by exactly half (an even number of annotators) is a tie and leaves the control
undecided. Agreement is the mean pairwise Jaccard similarity of the chosen sets.
"""

from __future__ import annotations

from collections import Counter

from labeling.consensus.aggregation.base import ControlOutcome, mean_pairwise, strict_majority, tied
from projects.label_schema import Control


def multi_similarity(a, b) -> float:
    set_a, set_b = set(a or ()), set(b or ())
    union = set_a | set_b
    return 1.0 if not union else len(set_a & set_b) / len(union)


def multi_aggregate(control: Control, answers: list) -> ControlOutcome:
    voters = len(answers)
    votes = Counter(label for answer in answers for label in set(answer or ()))
    order = {lb.value: i for i, lb in enumerate(control.labels)}
    kept = sorted(
        (label for label, n in votes.items() if strict_majority(n, voters)),
        key=lambda label: order.get(label, len(order)),
    )
    ties = sorted(label for label, n in votes.items() if tied(n, voters))
    agreement = mean_pairwise(answers, multi_similarity)
    return ControlOutcome(
        value=kept or None,
        agreement=agreement,
        decided=not ties,
        note=f"tie on {ties}" if ties else "",
    )
