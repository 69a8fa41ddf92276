"""Inter-annotator agreement statistics, vectorised over integer-coded annotations.

Inputs are flat arrays, one entry per annotation: item code, annotator code, label code (EMPTY
entries are ignored). The definitions are the standard ones and the tests check them against the
reference implementations: percent agreement and Fleiss' kappa (statsmodels' fleiss_kappa; items
may have different numbers of ratings here, which reduces to Fleiss when they are equal), Cohen's
kappa per annotator pair (scikit-learn's cohen_kappa_score) averaged over pairs, and
Krippendorff's alpha for nominal data (the krippendorff package) from the coincidence matrix.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np

from labeling.consensus.aggregation.base import mean_pairwise
from labeling.consensus.aggregation.shapes import shapes_matches
from labeling.consensus.aggregation.spans import span_keys, spans_overlap_counts
from labeling.consensus.aggregation.text import text_similarity
from labeling.consensus.answer_codes import EMPTY, category_counts


def _rated(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    totals = counts.sum(axis=1)
    keep = totals >= 2
    return counts[keep].astype(float), totals[keep].astype(float)


def item_agreement(counts: np.ndarray) -> np.ndarray:
    """Per item (with 2+ ratings): share of agreeing annotator pairs."""
    counts, totals = _rated(counts)
    return ((counts * (counts - 1)).sum(axis=1)) / (totals * (totals - 1))


def percent_agreement(counts: np.ndarray) -> float | None:
    per_item = item_agreement(counts)
    return float(per_item.mean()) if per_item.size else None


def fleiss_kappa(counts: np.ndarray) -> float | None:
    counts, totals = _rated(counts)
    if not counts.size:
        return None
    observed = (((counts * (counts - 1)).sum(axis=1)) / (totals * (totals - 1))).mean()
    shares = counts.sum(axis=0) / totals.sum()
    expected = float((shares**2).sum())
    if expected == 1.0:
        return None
    return float((observed - expected) / (1 - expected))


def krippendorff_alpha_nominal(counts: np.ndarray) -> float | None:
    counts, totals = _rated(counts)
    if not counts.size:
        return None
    weights = 1.0 / (totals - 1)
    coincidence = (counts * weights[:, None]).T @ counts - np.diag(
        (counts * weights[:, None]).sum(0)
    )
    by_value = coincidence.sum(axis=1)
    n = by_value.sum()
    disagreement_expected = n * n - float((by_value**2).sum())
    if disagreement_expected == 0:
        return None
    disagreement_observed = n - float(np.trace(coincidence))
    return float(1 - (n - 1) * disagreement_observed / disagreement_expected)


def item_slots(items: np.ndarray, n_items: int) -> tuple[np.ndarray, np.ndarray]:
    """(order, slot): a permutation sorting annotations by item, and each one's rank in its item."""
    order = np.argsort(items, kind="stable")
    sorted_items = items[order]
    first = np.searchsorted(sorted_items, sorted_items, side="left")
    return order, np.arange(len(items)) - first


@dataclass(frozen=True)
class AnnotatorPairs:
    """Every pair of annotations on the same item, as indices into the annotation arrays.

    first[k] and second[k] are on the same item and annotators[first] < annotators[second];
    pair[k] numbers the annotator pair. Built once per control, reused for every label.
    """

    first: np.ndarray
    second: np.ndarray
    pair: np.ndarray
    n_pairs: int


def annotator_pairs(items, annotators, n_items: int) -> AnnotatorPairs:
    empty = np.zeros(0, dtype=np.int64)
    if not len(items):
        return AnnotatorPairs(first=empty, second=empty, pair=empty, n_pairs=0)
    order, slot = item_slots(items, n_items)
    width = int(slot.max()) + 1
    at = np.full((n_items, width), -1, dtype=np.int64)  # annotation index per (item, slot)
    at[items[order], slot] = order
    firsts, seconds = [], []
    for s, t in combinations(range(width), 2):
        valid = (at[:, s] >= 0) & (at[:, t] >= 0)
        i, j = at[valid, s], at[valid, t]
        swap = annotators[i] > annotators[j]
        firsts.append(np.where(swap, j, i))
        seconds.append(np.where(swap, i, j))
    if not firsts:
        return AnnotatorPairs(first=empty, second=empty, pair=empty, n_pairs=0)
    first, second = np.concatenate(firsts), np.concatenate(seconds)
    base = int(annotators.max()) + 1
    keys, pair = np.unique(annotators[first] * base + annotators[second], return_inverse=True)
    return AnnotatorPairs(first=first, second=second, pair=pair.ravel(), n_pairs=len(keys))


def pair_confusions(pairs: AnnotatorPairs, labels, n_labels: int) -> np.ndarray:
    """Confusion matrix (labels x labels) for each pair of annotators who share items."""
    cells = (pairs.pair * n_labels + labels[pairs.first]) * n_labels + labels[pairs.second]
    return (
        np.bincount(cells, minlength=pairs.n_pairs * n_labels * n_labels)
        .reshape(pairs.n_pairs, n_labels, n_labels)
        .astype(float)
    )


def kappa_from_confusion(matrices: np.ndarray) -> np.ndarray:
    """Cohen's kappa of each confusion matrix (nan where chance agreement is 1, as sklearn)."""
    totals = matrices.sum(axis=(1, 2))
    observed = np.trace(matrices, axis1=1, axis2=2) / totals
    expected = (matrices.sum(axis=2) * matrices.sum(axis=1)).sum(axis=1) / totals**2
    with np.errstate(divide="ignore", invalid="ignore"):
        return (observed - expected) / (1 - expected)


def _answered(items, annotators, labels):
    keep = labels != EMPTY
    return items[keep], annotators[keep], labels[keep]


def cohen_kappa_mean(
    items, annotators, labels, n_items: int, n_labels: int, pairs: AnnotatorPairs | None = None
) -> float | None:
    """Cohen's kappa for each annotator pair on the items both labelled, averaged over pairs.

    Without `pairs`, blank answers are dropped first; with them, labels must have no blanks.
    """
    if pairs is None:
        items, annotators, labels = _answered(items, annotators, labels)
        pairs = annotator_pairs(items, annotators, n_items)
    kappas = kappa_from_confusion(pair_confusions(pairs, labels, n_labels))
    kappas = kappas[np.isfinite(kappas)]
    return float(kappas.mean()) if kappas.size else None


def categorical_metrics(
    items, annotators, labels, n_items: int, n_labels: int, pairs: AnnotatorPairs | None = None
) -> dict:
    counts = category_counts(items, labels, n_items, n_labels)
    return {
        "items": int((counts.sum(axis=1) >= 2).sum()),
        "percent_agreement": percent_agreement(counts),
        "cohen_kappa": cohen_kappa_mean(items, annotators, labels, n_items, n_labels, pairs),
        "fleiss_kappa": fleiss_kappa(counts),
        "krippendorff_alpha": krippendorff_alpha_nominal(counts),
    }


def one_vs_rest(labels: np.ndarray, label: int) -> np.ndarray:
    """Binary codes for one label: 1 = this label, 0 = another, EMPTY stays EMPTY."""
    return np.where(labels == EMPTY, EMPTY, (labels == label).astype(np.int64))


def mean_of(rows: list[dict], key: str) -> float | None:
    values = [r[key] for r in rows if r.get(key) is not None]
    return float(np.mean(values)) if values else None


def binary_metrics_per_label(
    presence: np.ndarray, items, annotators, n_items: int, pairs: AnnotatorPairs | None = None
) -> dict:
    """Categorical metrics on one label's presence (codes 0/1) across annotations."""
    return categorical_metrics(items, annotators, presence, n_items, 2, pairs)


def spans_agreement(grouped: list[list], labels: list[str]) -> dict:
    """Pairwise span F1 (exact and overlap), micro-averaged over annotator pairs; per label too.

    grouped: for each item, the list of its annotators' span lists.
    """

    def measure(only: str | None) -> dict:
        exact_hits = overlap_hits = total = pairs = 0
        for answers in grouped:
            chosen = [[s for s in a or () if only is None or s["label"] == only] for a in answers]
            for a, b in combinations(chosen, 2):
                keys_a, keys_b = span_keys(a), span_keys(b)
                exact_hits += 2 * len(keys_a & keys_b)
                hits, size = spans_overlap_counts(a, b)
                overlap_hits += hits
                total += size
                pairs += 1
        return {
            "pairs": pairs,
            "span_f1_exact": exact_hits / total if total else None,
            "span_f1_overlap": overlap_hits / total if total else None,
        }

    return {**measure(None), "labels": [{"label": lb, **measure(lb)} for lb in labels]}


def shapes_agreement(kind, grouped: list[list], labels: list[str]) -> dict:
    """Matched F1 at IoU 0.5 and mean IoU of matched shapes over annotator pairs; per label."""
    matched = dict.fromkeys(labels, 0)
    drawn = dict.fromkeys(labels, 0)
    ious = {lb: [] for lb in labels}
    pairs = 0
    for answers in grouped:
        for a, b in combinations([list(x or ()) for x in answers], 2):
            pairs += 1
            for shape in a + b:
                drawn[shape["label"]] = drawn.get(shape["label"], 0) + 1
            for i, _, iou in shapes_matches(kind, a, b):
                label = a[i]["label"]
                matched[label] = matched.get(label, 0) + 2
                ious.setdefault(label, []).append(iou)
    all_ious = [v for values in ious.values() for v in values]
    total_drawn, total_matched = sum(drawn.values()), sum(matched.values())
    return {
        "pairs": pairs,
        "f1_iou50": total_matched / total_drawn if total_drawn else None,
        "mean_iou": float(np.mean(all_ious)) if all_ious else None,
        "labels": [
            {
                "label": lb,
                "f1_iou50": matched[lb] / drawn[lb] if drawn[lb] else None,
                "mean_iou": float(np.mean(ious[lb])) if ious[lb] else None,
            }
            for lb in labels
        ],
    }


def text_agreement(grouped: list[list]) -> dict:
    shares = [mean_pairwise(answers, text_similarity) for answers in grouped if len(answers) >= 2]
    return {"items": len(shares), "percent_agreement": float(np.mean(shares)) if shares else None}
