"""Dawid & Skene (1979): EM estimate of true labels and of each annotator's confusion matrix.

Pure numpy over integer-coded annotations (item, annotator, label), so a whole project fits in
one pass. The steps follow the published algorithm and crowd-kit's DawidSkene, which the tests use
as the reference: majority-vote initialisation, M-step counts clipped at 1e-10 for the labels an
annotator used, E-step in log2 space with per-row scaling.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS = 1e-10


@dataclass(frozen=True)
class DawidSkeneFit:
    posteriors: np.ndarray  # (items, labels): P(true label | answers)
    priors: np.ndarray  # (labels,)
    errors: np.ndarray  # (annotators, given label, true label): P(given | true)
    used: np.ndarray  # (annotators, labels): the labels each annotator gave at least once
    iterations: int

    def confusion(self, annotator: int) -> np.ndarray:
        """Rows: true label, columns: given label (each row sums to 1)."""
        return self.errors[annotator].T


def _per_item_sums(items: np.ndarray, values: np.ndarray, n_items: int) -> np.ndarray:
    return np.stack(
        [
            np.bincount(items, weights=values[:, k], minlength=n_items)
            for k in range(values.shape[1])
        ],
        axis=1,
    )


def majority_posteriors(items, labels, n_items: int, n_labels: int) -> np.ndarray:
    counts = np.bincount(items * n_labels + labels, minlength=n_items * n_labels).reshape(
        n_items, n_labels
    )
    totals = counts.sum(axis=1, keepdims=True)
    return counts / np.where(totals > 0, totals, 1)


def _m_step(posteriors, items, annotators, labels, used, n_annotators, n_labels) -> np.ndarray:
    cells = annotators * n_labels + labels
    errors = np.stack(
        [
            np.bincount(cells, weights=posteriors[items, k], minlength=n_annotators * n_labels)
            for k in range(n_labels)
        ],
        axis=1,
    ).reshape(n_annotators, n_labels, n_labels)
    errors = np.where(used[:, :, None], np.maximum(errors, EPS), 0.0)
    totals = errors.sum(axis=1, keepdims=True)
    return errors / np.where(totals > 0, totals, 1)


def item_posteriors(priors, errors, items, annotators, labels, n_items) -> np.ndarray:
    """E-step: posterior over true labels for each item, given the model."""
    with np.errstate(divide="ignore"):
        log_errors = np.log2(errors[annotators, labels, :])
    log_likelihood = np.log2(np.maximum(priors, EPS))[None, :] + _per_item_sums(
        items, log_errors, n_items
    )
    scaled = np.exp2(log_likelihood - log_likelihood.max(axis=1, keepdims=True))
    return scaled / scaled.sum(axis=1, keepdims=True)


def dawid_skene_fit(
    *,
    items: np.ndarray,
    annotators: np.ndarray,
    labels: np.ndarray,
    n_items: int,
    n_annotators: int,
    n_labels: int,
    max_iterations: int = 100,
    tolerance: float = 1e-7,
) -> DawidSkeneFit:
    """Fit on codes, one entry per annotation; stop once no posterior moves more than tolerance."""
    items, annotators, labels = (np.asarray(a, dtype=np.int64) for a in (items, annotators, labels))
    used = (
        np.bincount(annotators * n_labels + labels, minlength=n_annotators * n_labels).reshape(
            n_annotators, n_labels
        )
        > 0
    )
    posteriors = majority_posteriors(items, labels, n_items, n_labels)
    priors = posteriors.mean(axis=0)
    errors = _m_step(posteriors, items, annotators, labels, used, n_annotators, n_labels)
    iterations = 0
    for iterations in range(1, max_iterations + 1):  # noqa: B007 (kept for the result)
        updated = item_posteriors(priors, errors, items, annotators, labels, n_items)
        priors = updated.mean(axis=0)
        errors = _m_step(updated, items, annotators, labels, used, n_annotators, n_labels)
        moved = float(np.abs(updated - posteriors).max()) if updated.size else 0.0
        posteriors = updated
        if moved < tolerance:
            break
    return DawidSkeneFit(
        posteriors=posteriors, priors=priors, errors=errors, used=used, iterations=iterations
    )
