"""Text spans: a character-level vote per label.

For each label, every character counts the annotators whose spans of that label cover it; the
characters covered by more than half the annotators form the aggregated spans (maximal runs).
A character covered by exactly half is a tie and leaves the control undecided.
"""

from __future__ import annotations

import numpy as np

from labeling.consensus.aggregation.base import ControlOutcome, mean_pairwise, tied
from projects.label_schema import Control


def span_keys(answer) -> set[tuple[int, int, str]]:
    return {(s["start"], s["end"], s["label"]) for s in answer or ()}


def spans_f1_exact(a, b) -> float:
    """F1 of one answer against the other on identical (start, end, label) spans."""
    keys_a, keys_b = span_keys(a), span_keys(b)
    total = len(keys_a) + len(keys_b)
    return 1.0 if total == 0 else 2 * len(keys_a & keys_b) / total


def spans_overlap_counts(a, b) -> tuple[int, int]:
    """(spans of a or b that overlap a same-label span of the other answer, spans in total)."""
    keys_a, keys_b = sorted(span_keys(a)), sorted(span_keys(b))

    def hits(mine, theirs):
        return sum(
            any(
                label == other_label and start < o_end and o_start < end
                for o_start, o_end, other_label in theirs
            )
            for start, end, label in mine
        )

    return hits(keys_a, keys_b) + hits(keys_b, keys_a), len(keys_a) + len(keys_b)


def spans_f1_overlap(a, b) -> float:
    matched, total = spans_overlap_counts(a, b)
    return 1.0 if total == 0 else matched / total


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate(([False], mask, [False])).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def spans_aggregate(control: Control, answers: list) -> ControlOutcome:
    voters = len(answers)
    length = max((s["end"] for answer in answers for s in answer or ()), default=0)
    spans: list[dict] = []
    ties: list[str] = []
    for label in (lb.value for lb in control.labels):
        counts = np.zeros(length, dtype=np.int32)
        for answer in answers:
            covered = np.zeros(length, dtype=bool)
            for span in answer or ():
                if span["label"] == label:
                    covered[span["start"] : span["end"]] = True
            counts += covered
        if np.any(tied(counts, voters) & (counts > 0)):
            ties.append(label)
        for start, end in _runs(2 * counts > voters):
            spans.append({"start": start, "end": end, "label": label})
    spans.sort(key=lambda s: (s["start"], s["end"], s["label"]))
    return ControlOutcome(
        value=spans or None,
        agreement=mean_pairwise(answers, spans_f1_exact),
        decided=not ties,
        note=f"characters with a tied vote for {ties}" if ties else "",
    )
