"""The monitoring demo: a real scikit-learn model whose inputs drift, routed and labeled."""

import pytest

from labeling.monitor.demo import demo_day_start, monitor_demo_load
from labeling.monitor.models import Alert, PredictionEvent
from labeling.monitor.rollups import metrics_series
from projects.demo import demo_load
from projects.models import Item

pytestmark = pytest.mark.django_db


def test_demo_shows_the_drift_and_the_drop():
    demo_load(item_count=3)
    project = monitor_demo_load(days=8, per_day=150)
    assert PredictionEvent.objects.filter(project=project).count() == 1200
    drift_at = demo_day_start(8 - 8 // 2)
    days = metrics_series(project=project, bucket="day")
    assert len(days) == 8  # whole days: none mixes the old camera with the new
    before = [d for d in days if d["bucket_start"] < drift_at]
    after = [d for d in days if d["bucket_start"] >= drift_at]
    assert len(before) == len(after) == 4
    assert max(d["psi"] for d in before) < 0.25 < min(d["psi"] for d in after)
    assert min(d["psi"] for d in before) < 0.1  # the reference days match the reference
    labeled_before = [d for d in before if d["n"] >= 8]
    labeled_after = [d for d in after if d["n"] >= 8]
    assert labeled_before and labeled_after
    assert max(d["weighted_accuracy"] for d in labeled_after) < min(
        d["weighted_accuracy"] for d in labeled_before
    )
    assert Alert.objects.filter(project=project, kind="drift").exists()
    assert Item.objects.filter(project=project, status=Item.Status.OPEN).exists()  # left to try
    assert monitor_demo_load(days=8, per_day=150) == project  # again: nothing added
    assert PredictionEvent.objects.filter(project=project).count() == 1200
