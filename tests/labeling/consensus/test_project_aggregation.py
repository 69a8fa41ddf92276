"""Whole-project aggregation (vectorised) agrees with the per-item rules and with crowd-kit."""

import numpy as np
import pandas as pd
import pytest
from crowdkit.aggregation import DawidSkene

from labeling.consensus.aggregation import control_aggregate
from labeling.consensus.answer_codes import EMPTY, ChoiceCodes
from labeling.consensus.project_aggregation import dawid_skene_aggregate, majority_aggregate
from projects.label_schema import LabelSchema

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore:The (inplace|copy)")

LABELS = ["pos", "neg", "neu"]
CONTROL = LabelSchema(
    {"controls": [{"name": "sentiment", "kind": "choice", "labels": LABELS}]}
).controls[0]


def random_codes(seed: int, n_items=300, n_annotators=9, per_item=4) -> ChoiceCodes:
    rng = np.random.default_rng(seed)
    items, annotators, labels = [], [], []
    for item in range(n_items):
        for who in rng.choice(n_annotators, per_item, replace=False):
            items.append(item)
            annotators.append(who)
            labels.append(int(rng.integers(3)) if rng.random() > 0.05 else EMPTY)
    return ChoiceCodes(
        label_values=LABELS,
        item_ids=np.arange(1000, 1000 + n_items),
        annotator_ids=np.arange(n_annotators),
        items=np.array(items),
        annotators=np.array(annotators),
        labels=np.array(labels),
        lead_times=np.zeros(len(items)),
    )


def test_majority_matches_the_per_item_rule():
    codes = random_codes(3)
    aggregate = majority_aggregate(codes)
    for item in range(codes.n_items):
        answers = [LABELS[label] for label in codes.labels[codes.items == item] if label != EMPTY]
        outcome = control_aggregate(CONTROL, answers)
        item_id = int(codes.item_ids[item])
        assert aggregate.label_of(item_id) == (outcome.value if outcome.decided else None)


def test_dawid_skene_labels_match_crowd_kit():
    codes = random_codes(4).answered()
    frame = pd.DataFrame({"task": codes.items, "worker": codes.annotators, "label": codes.labels})
    reference = DawidSkene(n_iter=100, tol=1e-7).fit(frame).probas_.sort_index()
    aggregate = dawid_skene_aggregate(codes)
    confident = reference.max(axis=1).to_numpy() > 0.6  # ties may break either way
    expected = reference.to_numpy().argmax(axis=1)
    assert (aggregate.labels[confident] == expected[confident]).all()
    assert confident.mean() > 0.5
