"""Rollups from labeled events: honest accuracy, calibration, drift, segments and alerts."""

from datetime import timedelta

import pytest

from labeling.monitor.models import Alert, LabeledEvent
from labeling.monitor.rollups import metrics_series, monitor_rollups_refresh
from tests.labeling.monitor.simulation import START

pytestmark = pytest.mark.django_db


def test_accuracy_drop_weighted_estimate_and_alert(monitored):
    project, simulation = monitored
    days = metrics_series(project=project, bucket="day")
    assert [d["bucket_start"] for d in days] == [START + timedelta(days=i) for i in range(4)]
    for day in days:
        start = day["bucket_start"]
        truth = simulation.true_accuracy(start, start + timedelta(days=1))
        # The inverse-probability estimate covers the true accuracy; the as-sampled one (mostly
        # low-confidence rule samples) is biased low.
        assert day["weighted_ci_low"] <= truth <= day["weighted_ci_high"], (day, truth)
        assert day["accuracy"] < truth
        if start < simulation.drop_at:
            assert day["accuracy"] < truth - 0.1
            assert abs(day["weighted_accuracy"] - truth) < 0.05
        assert day["rule_n"] > 0 and day["baseline_n"] > 0
    before, after = days[1], days[2]
    assert after["weighted_ci_high"] < before["weighted_ci_low"]
    alerts = list(Alert.objects.filter(project=project, kind=Alert.Kind.ACCURACY))
    assert {a.bucket_start for a in alerts} == {days[2]["bucket_start"], days[3]["bucket_start"]}
    assert alerts[0].evidence["n"] >= 20


def test_calibration_confusion_drift_segments(monitored):
    project, _ = monitored
    week = metrics_series(project=project, bucket="week")[0]
    assert sum(b["n"] for b in week["calibration"]) == week["n"]
    assert week["ece"] is not None and 0 <= week["ece"] <= 1
    assert sum(sum(row.values()) for row in week["confusion"].values()) == week["n"]
    assert set(week["classes"]) == {"positive", "negative", "neutral"}
    days = metrics_series(project=project, bucket="day")
    # Scores do not drift in the simulation (only correctness does): PSI stays small.
    assert all(d["psi_score"] < 0.1 for d in days)
    assert {s["key"] for s in week["segments"]} <= {"region", "tier"}
    assert week["segments"][0]["accuracy"] <= week["segments"][-1]["accuracy"]
    hours = metrics_series(project=project, bucket="hour")
    assert len(hours) == 96
    assert sum(h["n"] for h in hours) == LabeledEvent.objects.count()


def test_refresh_is_incremental_and_idempotent(monitored, annotator):
    project, _ = monitored
    before = metrics_series(project=project, bucket="day")
    monitor_rollups_refresh(project_id=project.pk)
    assert metrics_series(project=project, bucket="day") == before
    monitor_rollups_refresh(project_id=project.pk, full=True)
    assert metrics_series(project=project, bucket="day") == before


def test_event_counts_appended_then_compacted(project):
    from labeling.monitor.events import events_ingest
    from labeling.monitor.models import EventCount
    from tests.labeling.monitor.helpers import event

    events_ingest(project=project, raw_events=[event(n, score=0.95) for n in range(10)])
    events_ingest(project=project, raw_events=[event(n, score=0.95) for n in range(10, 20)])
    assert EventCount.objects.filter(kind="label").count() == 2  # one row per call
    monitor_rollups_refresh(project_id=project.pk)
    labels = list(EventCount.objects.filter(kind="label").values_list("key", "count"))
    assert labels == [("positive", 20)]
    assert EventCount.objects.filter(kind="score").count() == 1
    day = metrics_series(project=project, bucket="day")[0]
    assert day["events"] == 20
