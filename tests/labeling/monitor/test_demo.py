"""The monitoring demo: a real scikit-learn model whose inputs drift, routed and labeled."""

import pytest

from labeling.monitor.demo import monitor_demo_load
from labeling.monitor.models import Alert, PredictionEvent
from labeling.monitor.rollups import metrics_series
from projects.demo import demo_load
from projects.models import Item

pytestmark = pytest.mark.django_db


def test_demo_shows_the_drift_and_the_drop():
    demo_load(item_count=3)
    project = monitor_demo_load(days=8, per_day=150)
    assert PredictionEvent.objects.filter(project=project).count() == 1200
    days = [d for d in metrics_series(project=project, bucket="day") if d["n"] >= 8]
    before = [d for d in days if d["psi"] is not None and d["psi"] < 0.1]
    after = [d for d in days if d["psi"] is not None and d["psi"] > 0.25]
    assert before and after
    assert max(d["weighted_accuracy"] for d in after) < min(d["weighted_accuracy"] for d in before)
    assert Alert.objects.filter(project=project, kind="drift").exists()
    assert Item.objects.filter(project=project, status=Item.Status.OPEN).exists()  # left to try
    assert monitor_demo_load(days=8, per_day=150) == project  # again: nothing added
    assert PredictionEvent.objects.filter(project=project).count() == 1200
