"""Dawid-Skene: our numpy EM against crowd-kit's DawidSkene posteriors on the same data.

crowd-kit (a dev dependency) is the established implementation. Both run a fixed number of EM
steps (crowd-kit's tol=-inf disables its early stop); crowd-kit clips returned posteriors at
1e-10, so the comparison allows 1e-9.
"""

import numpy as np
import pandas as pd
import pytest
from crowdkit.aggregation import DawidSkene

from labeling.consensus.dawid_skene import dawid_skene_fit

# crowd-kit still uses pandas keywords that pandas 3 deprecates; not our code.
pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning:crowdkit.*", "ignore:The (inplace|copy) keyword"
)


def simulated(seed, n_items=150, n_annotators=7, n_labels=3, per_item=5):
    rng = np.random.default_rng(seed)
    accuracy = rng.uniform(0.45, 0.95, n_annotators)
    rows = []
    for item in range(n_items):
        truth = rng.integers(n_labels)
        for who in rng.choice(n_annotators, per_item, replace=False):
            label = truth if rng.random() < accuracy[who] else rng.integers(n_labels)
            rows.append((item, who, label))
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


@pytest.mark.parametrize("seed,iterations", [(0, 1), (1, 10), (2, 50)])
def test_posteriors_match_crowd_kit(seed, iterations):
    data = simulated(seed)
    reference = DawidSkene(n_iter=iterations, tol=-np.inf).fit(data)
    fit = dawid_skene_fit(
        items=data.task.to_numpy(),
        annotators=data.worker.to_numpy(),
        labels=data.label.to_numpy(),
        n_items=150,
        n_annotators=7,
        n_labels=3,
        max_iterations=iterations,
        tolerance=-1.0,
    )
    expected = reference.probas_.sort_index()[[0, 1, 2]].to_numpy()
    assert np.abs(fit.posteriors - expected).max() < 1e-9
    assert fit.iterations == iterations
    # Confusion matrices: crowd-kit's errors_ rows are (worker, given label), columns true label.
    errors = reference.errors_
    for (worker, given), row in errors.iterrows():
        assert np.abs(fit.errors[worker, given] - row[[0, 1, 2]].to_numpy()).max() < 1e-9


def test_reliable_annotators_outweigh_a_colluding_majority():
    """Three careless annotators always answer 'x'; two reliable ones follow the truth.

    Majority vote says 'x' everywhere; Dawid-Skene learns the careless annotators carry no
    information and follows the reliable pair, also where they are outvoted.
    """
    rows = []
    truth = ["x", "y"] * 20
    for item, label in enumerate(truth):
        for careless in (0, 1, 2):
            rows.append((item, careless, 0))
        for reliable in (3, 4):
            rows.append((item, reliable, 0 if label == "x" else 1))
    items, annotators, labels = (np.array(c) for c in zip(*rows, strict=True))
    fit = dawid_skene_fit(
        items=items, annotators=annotators, labels=labels, n_items=40, n_annotators=5, n_labels=2
    )
    decided = fit.posteriors.argmax(axis=1)
    assert decided.tolist() == [0 if t == "x" else 1 for t in truth]
    # The reliable annotators' confusion matrices are near the identity.
    assert fit.confusion(3)[1, 1] > 0.99 and fit.confusion(3)[0, 0] > 0.99
