"""Each aggregation rule on hand-made answers with known results (no database)."""

import numpy as np
import pytest

from labeling.consensus.aggregation import control_aggregate
from labeling.consensus.aggregation.shapes import box_array, box_iou_matrix, polygons_average
from projects.label_schema import LabelSchema

SCHEMA = LabelSchema(
    {
        "controls": [
            {"name": "sentiment", "kind": "choice", "labels": ["pos", "neg", "neu"]},
            {"name": "topics", "kind": "multi", "labels": ["sports", "politics", "tech"]},
            {"name": "entities", "kind": "spans", "labels": ["PER", "ORG"]},
            {"name": "objects", "kind": "boxes", "source": "image", "labels": ["car", "person"]},
            {"name": "regions", "kind": "polygons", "source": "image", "labels": ["road"]},
            {"name": "caption", "kind": "text", "source": "image"},
            {"name": "better", "kind": "pairwise", "source": ["a", "b"]},
        ]
    }
)
C = SCHEMA.by_name


def test_choice_majority_wins_and_agreement_is_the_share_of_agreeing_pairs():
    outcome = control_aggregate(C["sentiment"], ["pos", "pos", "neg"])
    assert outcome.value == "pos" and outcome.decided
    assert outcome.agreement == pytest.approx(1 / 3)  # one agreeing pair out of three


def test_choice_tie_is_undecided():
    outcome = control_aggregate(C["sentiment"], ["pos", "neg", "neu", "pos", "neg"])
    assert not outcome.decided and outcome.value is None
    assert "tie" in outcome.note


def test_pairwise_is_voted_like_a_choice():
    outcome = control_aggregate(C["better"], ["a", "b", "a"])
    assert outcome.value == "a" and outcome.decided


def test_multi_keeps_each_label_chosen_by_more_than_half():
    answers = [["sports", "politics"], ["sports"], ["sports", "tech"], ["politics", "sports"], []]
    outcome = control_aggregate(C["topics"], answers)
    # sports 4/5 kept, politics 2/5 dropped, tech 1/5 dropped
    assert outcome.value == ["sports"] and outcome.decided


def test_multi_label_chosen_by_exactly_half_is_a_tie():
    outcome = control_aggregate(C["topics"], [["sports", "tech"], ["sports"]])
    assert not outcome.decided and "tech" in outcome.note


def test_multi_agreement_is_mean_pairwise_jaccard():
    outcome = control_aggregate(C["topics"], [["sports", "tech"], ["sports"], ["sports"]])
    assert outcome.agreement == pytest.approx((0.5 + 0.5 + 1.0) / 3)


def test_spans_character_vote():
    # "Barack Obama visited Acme Corp"
    answers = [
        [{"start": 0, "end": 12, "label": "PER"}, {"start": 21, "end": 30, "label": "ORG"}],
        [{"start": 7, "end": 12, "label": "PER"}, {"start": 21, "end": 25, "label": "ORG"}],
        [{"start": 0, "end": 12, "label": "PER"}],
    ]
    outcome = control_aggregate(C["entities"], answers)
    # PER: chars 0-7 covered by 2 of 3, 7-12 by 3 of 3 -> one span 0-12.
    # ORG: 21-25 by 2 of 3 (kept), 25-30 by 1 of 3 (dropped).
    assert outcome.value == [
        {"start": 0, "end": 12, "label": "PER"},
        {"start": 21, "end": 25, "label": "ORG"},
    ]
    assert outcome.decided
    # Exact F1 per pair: (1,2): 0, (1,3): 2*1/3, (2,3): 0.
    assert outcome.agreement == pytest.approx((2 / 3) / 3)


def test_spans_tied_characters_are_undecided():
    outcome = control_aggregate(
        C["entities"],
        [[{"start": 0, "end": 5, "label": "PER"}], [{"start": 0, "end": 6, "label": "PER"}]],
    )
    assert not outcome.decided  # character 5 has one vote of two


def test_box_iou_matrix_known_values():
    a = box_array([{"x": 0, "y": 0, "width": 10, "height": 10}])
    b = box_array(
        [
            {"x": 5, "y": 0, "width": 10, "height": 10},  # overlap 50, union 150
            {"x": 20, "y": 20, "width": 5, "height": 5},  # disjoint
            {"x": 0, "y": 0, "width": 10, "height": 10},  # identical
        ]
    )
    np.testing.assert_allclose(box_iou_matrix(a, b), [[1 / 3, 0.0, 1.0]])


def box(x, y, w, h, label="car"):
    return {"x": x, "y": y, "width": w, "height": h, "label": label}


def test_boxes_are_matched_across_annotators_and_averaged():
    answers = [
        [box(10, 10, 100, 50), box(300, 300, 20, 20, "person")],
        [box(12, 8, 100, 54), box(500, 10, 30, 30)],  # the second box only this annotator drew
        [box(14, 12, 96, 52), box(302, 302, 20, 20, "person")],
    ]
    outcome = control_aggregate(C["objects"], answers)
    assert outcome.decided
    assert outcome.value == [
        {"x": 12.0, "y": 10.0, "width": 98.66666666666667, "height": 52.0, "label": "car"},
        {"x": 301.0, "y": 301.0, "width": 20.0, "height": 20.0, "label": "person"},
    ]


def test_boxes_with_different_labels_never_match():
    outcome = control_aggregate(
        C["objects"], [[box(0, 0, 10, 10, "car")], [box(0, 0, 10, 10, "person")], []]
    )
    assert outcome.value is None  # each box has 1 vote of 3
    assert outcome.agreement == 0.0


def test_boxes_below_iou_half_are_separate_shapes():
    # IoU of these two is 1/3: two clusters with one vote each of two annotators -> ties.
    outcome = control_aggregate(C["objects"], [[box(0, 0, 10, 10)], [box(5, 0, 10, 10)]])
    assert not outcome.decided


def test_polygons_matched_and_averaged_with_rotated_vertex_order():
    square = [[0, 0], [10, 0], [10, 10], [0, 10]]
    shifted = [[11, 1], [11, 11], [1, 11], [1, 1]]  # same square moved by (1, 1), other start
    reversed_order = [[0, 0], [0, 10], [10, 10], [10, 0]]  # clockwise
    answers = [
        [{"points": square, "label": "road"}],
        [{"points": shifted, "label": "road"}],
        [{"points": reversed_order, "label": "road"}],
    ]
    outcome = control_aggregate(C["regions"], answers)
    assert outcome.decided
    [polygon] = outcome.value
    assert polygon["label"] == "road"
    expected = [[1 / 3, 1 / 3], [31 / 3, 1 / 3], [31 / 3, 31 / 3], [1 / 3, 31 / 3]]
    np.testing.assert_allclose(polygon["points"], expected, atol=1e-6)


def test_polygon_average_resamples_different_vertex_counts():
    triangle_like = [[0, 0], [10, 0], [10, 10], [0, 10]]
    with_midpoint = [[0, 0], [5, 0], [10, 0], [10, 10], [0, 10]]
    averaged = polygons_average([triangle_like, with_midpoint])
    assert len(averaged) == 5


def test_free_text_goes_to_review_unless_identical():
    assert not control_aggregate(C["caption"], ["a red car", "a car"]).decided
    same = control_aggregate(C["caption"], ["a red car", "a  red car "])
    assert same.decided and same.value == "a red car"
