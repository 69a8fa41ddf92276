"""The outcome of aggregating one control, and helpers every aggregator shares."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any


@dataclass(frozen=True)
class ControlOutcome:
    value: Any  # the aggregated answer; None when the consensus is "no answer"
    agreement: float | None  # mean pairwise similarity of the answers, 0..1 (None: one answer)
    decided: bool  # False: no majority (a tie, free text that differs): a human decides
    note: str = ""


def is_empty(value: Any) -> bool:
    return (
        value is None
        or value == ""
        or value == []
        or (isinstance(value, str) and not value.strip())
    )


def mean_pairwise(answers: list, similarity) -> float | None:
    """Mean of similarity(a, b) over all pairs of answers; None for fewer than two answers."""
    pairs = list(combinations(answers, 2))
    if not pairs:
        return None
    return sum(similarity(a, b) for a, b in pairs) / len(pairs)


def strict_majority(count: int, voters: int) -> bool:
    return 2 * count > voters


def tied(count: int, voters: int) -> bool:
    """Exactly half the voters: neither kept nor dropped by a majority."""
    return 2 * count == voters
