"""Agreement statistics: hand-made cases with known answers, and the reference libraries to 1e-9.

References: statsmodels' fleiss_kappa, scikit-learn's cohen_kappa_score and the krippendorff
package, all fed the same random annotations as our vectorised versions.
"""

import itertools

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss_kappa

from labeling.consensus.aggregation.shapes import BOX_KIND
from labeling.quality import agreement

# Fleiss (1971) as used by Wikipedia's worked example: 10 items, 14 raters, 5 categories.
WIKIPEDIA_TABLE = np.array(
    [
        [0, 0, 0, 0, 14],
        [0, 2, 6, 4, 2],
        [0, 0, 3, 5, 6],
        [0, 3, 9, 2, 0],
        [2, 2, 8, 1, 1],
        [7, 7, 0, 0, 0],
        [3, 2, 6, 3, 0],
        [2, 5, 3, 2, 2],
        [6, 5, 2, 1, 0],
        [0, 2, 2, 3, 7],
    ]
)


def random_annotations(seed: int, n_items=120, n_annotators=8, n_labels=4, per_item=4, blank=0.0):
    rng = np.random.default_rng(seed)
    rows = []
    for item in range(n_items):
        truth = rng.integers(n_labels)
        for who in rng.choice(n_annotators, per_item, replace=False):
            label = truth if rng.random() < 0.7 else rng.integers(n_labels)
            if rng.random() < blank:
                label = agreement.EMPTY
            rows.append((item, who, label))
    items, annotators, labels = (
        np.array(column, dtype=np.int64) for column in zip(*rows, strict=True)
    )
    return items, annotators, labels


def reliability_matrix(items, annotators, labels, n_items, n_annotators):
    matrix = np.full((n_annotators, n_items), np.nan)
    keep = labels != agreement.EMPTY
    matrix[annotators[keep], items[keep]] = labels[keep]
    return matrix


def test_fleiss_kappa_wikipedia_example():
    assert agreement.fleiss_kappa(WIKIPEDIA_TABLE) == pytest.approx(0.20993070442195522, abs=1e-12)
    assert agreement.percent_agreement(WIKIPEDIA_TABLE) == pytest.approx(0.378021978021978)


def test_perfect_agreement_and_chance_level():
    perfect = np.array([[3, 0], [0, 3], [3, 0]])
    assert agreement.fleiss_kappa(perfect) == 1.0
    assert agreement.krippendorff_alpha_nominal(perfect) == 1.0
    assert agreement.percent_agreement(perfect) == 1.0
    # Two raters, each item split: observed agreement 0 -> kappa -1 for balanced labels.
    split = np.array([[1, 1], [1, 1]])
    assert agreement.fleiss_kappa(split) == pytest.approx(-1.0)


def test_single_ratings_are_ignored():
    counts = np.array([[2, 0], [0, 2], [1, 0]])  # the last item has one rating only
    assert agreement.percent_agreement(counts) == 1.0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fleiss_kappa_matches_statsmodels(seed):
    items, annotators, labels = random_annotations(seed)
    counts = agreement.category_counts(items, labels, 120, 4)
    reference = statsmodels_fleiss_kappa(counts, method="fleiss")
    assert abs(agreement.fleiss_kappa(counts) - reference) < 1e-9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_krippendorff_alpha_matches_the_krippendorff_package(seed):
    # With blanks: items end up with different numbers of ratings.
    items, annotators, labels = random_annotations(seed, blank=0.15)
    counts = agreement.category_counts(items, labels, 120, 4)
    reference = krippendorff.alpha(
        reliability_data=reliability_matrix(items, annotators, labels, 120, 8),
        level_of_measurement="nominal",
    )
    assert abs(agreement.krippendorff_alpha_nominal(counts) - reference) < 1e-9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cohen_kappa_pairwise_mean_matches_scikit_learn(seed):
    items, annotators, labels = random_annotations(seed, blank=0.1)
    matrix = reliability_matrix(items, annotators, labels, 120, 8)
    kappas = []
    for a, b in itertools.combinations(range(8), 2):
        both = ~np.isnan(matrix[a]) & ~np.isnan(matrix[b])
        if both.any():
            with np.errstate(all="ignore"):
                kappa = cohen_kappa_score(matrix[a][both], matrix[b][both])
            if np.isfinite(kappa):
                kappas.append(kappa)
    ours = agreement.cohen_kappa_mean(items, annotators, labels, 120, 4)
    assert abs(ours - np.mean(kappas)) < 1e-9


def test_one_vs_rest_keeps_blanks():
    labels = np.array([0, 2, agreement.EMPTY, 2])
    assert agreement.one_vs_rest(labels, 2).tolist() == [0, 1, agreement.EMPTY, 1]


def span(start, end, label="PER"):
    return {"start": start, "end": end, "label": label}


def test_span_f1_exact_and_overlap_hand_case():
    grouped = [
        # A and B have 2 spans each: one identical, one overlapping -> exact 2/4, overlap 4/4
        [[span(0, 5), span(10, 15, "ORG")], [span(0, 5), span(11, 15, "ORG")]],
        # pair: A has 1, B has 0 -> 0 of 1
        [[span(3, 4)], []],
    ]
    result = agreement.spans_agreement(grouped, ["PER", "ORG"])
    assert result["pairs"] == 2
    assert result["span_f1_exact"] == pytest.approx(2 / 5)
    assert result["span_f1_overlap"] == pytest.approx(4 / 5)
    per = {row["label"]: row for row in result["labels"]}
    assert per["PER"]["span_f1_exact"] == pytest.approx(2 / 3)
    assert per["ORG"]["span_f1_exact"] == 0.0
    assert per["ORG"]["span_f1_overlap"] == 1.0


def box(x, y, w, h, label="car"):
    return {"x": x, "y": y, "width": w, "height": h, "label": label}


def test_box_matched_f1_and_mean_iou_hand_case():
    grouped = [
        # identical car (IoU 1) + a person only one annotator drew
        [[box(0, 0, 10, 10), box(50, 50, 10, 10, "person")], [box(0, 0, 10, 10)]],
        # IoU 0.6 (0..10 vs 2.5..12.5 on x): matched; and IoU 1/3: not matched
        [[box(0, 0, 10, 10), box(100, 0, 10, 10)], [box(2.5, 0, 10, 10), box(105, 0, 10, 10)]],
    ]
    result = agreement.shapes_agreement(BOX_KIND, grouped, ["car", "person"])
    # matched shapes: 2 (pair 1) + 2 (pair 2) of 3 + 4 drawn
    assert result["f1_iou50"] == pytest.approx(4 / 7)
    assert result["mean_iou"] == pytest.approx((1.0 + 0.6) / 2)
    per = {row["label"]: row for row in result["labels"]}
    assert per["person"]["f1_iou50"] == 0.0
    assert per["car"]["f1_iou50"] == pytest.approx(4 / 6)


def test_text_agreement():
    result = agreement.text_agreement([["a cat", "a  cat"], ["dog", "cat", "dog"]])
    assert result["percent_agreement"] == pytest.approx((1.0 + 1 / 3) / 2)
