"""The statistics of model monitoring, on plain numbers (no database here).

Wilson score interval for proportions; inverse-probability weighted accuracy (Hajek estimator)
with a Wilson interval on Kish's effective sample size; per-class precision, recall and F1 from
a confusion matrix; reliability bins and expected calibration error; population stability index.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

Z95 = 1.959963984540054
SCORE_BINS = 10
PSI_FLOOR = 1e-4  # an empty bin counts as this share, as is usual for PSI


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float] | None:
    if n <= 0:
        return None
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def weighted_accuracy(pairs: Iterable[tuple[float, bool]]) -> dict:
    """(weight, correct) pairs -> estimate of the whole stream's accuracy, with its CI.

    Weights are 1 / inclusion probability. The interval is Wilson's on the effective sample
    size (sum w)^2 / sum w^2, the usual design-effect approximation."""
    total = hits = squares = 0.0
    for weight, correct in pairs:
        total += weight
        squares += weight * weight
        if correct:
            hits += weight
    if total <= 0:
        return {"weighted_accuracy": None, "weighted_ci_low": None, "weighted_ci_high": None}
    estimate = hits / total
    effective_n = total * total / squares
    low, high = wilson_interval(estimate * effective_n, effective_n)
    return {
        "weighted_accuracy": estimate,
        "weighted_ci_low": low,
        "weighted_ci_high": high,
        "effective_n": effective_n,
    }


def class_scores(confusion: Mapping[str, Mapping[str, int]]) -> dict[str, dict]:
    """confusion[true][predicted] -> {label: {precision, recall, f1, support}}."""
    labels = sorted(set(confusion) | {p for row in confusion.values() for p in row})
    scores = {}
    for label in labels:
        tp = confusion.get(label, {}).get(label, 0)
        support = sum(confusion.get(label, {}).values())
        predicted = sum(row.get(label, 0) for row in confusion.values())
        precision = tp / predicted if predicted else None
        recall = tp / support if support else None
        f1 = (
            2 * precision * recall / (precision + recall)
            if precision is not None and recall is not None and precision + recall
            else (0.0 if precision is not None and recall is not None else None)
        )
        scores[label] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    return scores


def score_bin(score: float) -> int:
    return min(int(score * SCORE_BINS), SCORE_BINS - 1)


def calibration(pairs: Iterable[tuple[float, bool]]) -> tuple[list[dict], float | None]:
    """(confidence, correct) pairs -> reliability bins and the expected calibration error."""
    counts = [0] * SCORE_BINS
    confidence = [0.0] * SCORE_BINS
    hits = [0] * SCORE_BINS
    for score, correct in pairs:
        b = score_bin(score)
        counts[b] += 1
        confidence[b] += score
        hits[b] += bool(correct)
    total = sum(counts)
    bins = []
    ece = 0.0
    for b in range(SCORE_BINS):
        if not counts[b]:
            bins.append({"bin": b, "n": 0, "confidence": None, "accuracy": None})
            continue
        mean_conf = confidence[b] / counts[b]
        accuracy = hits[b] / counts[b]
        ece += counts[b] / total * abs(accuracy - mean_conf)
        bins.append({"bin": b, "n": counts[b], "confidence": mean_conf, "accuracy": accuracy})
    return bins, (ece if total else None)


def population_stability(
    reference: Mapping[str, float], current: Mapping[str, float]
) -> float | None:
    """PSI = sum (cur - ref) ln(cur / ref) over the shares of each key."""
    ref_total, cur_total = sum(reference.values()), sum(current.values())
    if not ref_total or not cur_total:
        return None
    psi = 0.0
    for key in set(reference) | set(current):
        r = max(reference.get(key, 0) / ref_total, PSI_FLOOR)
        c = max(current.get(key, 0) / cur_total, PSI_FLOOR)
        psi += (c - r) * math.log(c / r)
    return psi
