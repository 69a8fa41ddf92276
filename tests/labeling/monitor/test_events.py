"""Prediction events in: checks per line, idempotence, versions, routing into items."""

from datetime import timedelta

import pytest
from django.utils import timezone

from labeling.monitor.events import EventsRefused, events_ingest
from labeling.monitor.models import ModelVersion, PredictionEvent, RoutingRule
from projects.models import Item
from tests.labeling.monitor.helpers import event

pytestmark = pytest.mark.django_db


def test_events_stored_once_and_versions_registered(project):
    report = events_ingest(project=project, raw_events=[event(1), event(2, version="v2")])
    assert report.as_json() == {"created": 2, "duplicates": 0, "routed": 0}
    again = events_ingest(project=project, raw_events=[event(1), event(3), event(3)])
    assert again.as_json() == {"created": 1, "duplicates": 2, "routed": 0}
    assert PredictionEvent.objects.filter(project=project).count() == 3
    versions = dict(
        ModelVersion.objects.filter(project=project).values_list("version", "model__name")
    )
    assert versions == {"v1": "default", "v2": "default"}
    first = PredictionEvent.objects.get(project=project, event_id="e1")
    assert first.label == "positive" and first.score == 0.9


def test_bad_lines_refused_with_reasons_and_nothing_stored(project):
    future = (timezone.now() + timedelta(hours=1)).isoformat()
    rows = [
        event(1),
        {"timestamp": "2026-11-01T00:00:00Z"},  # missing most fields
        event(3, score=1.5),
        event(4, result={"sentiment": "furious"}),
        event(5, at=None, timestamp=future),
        event(6, score="high"),
        "not an object",
    ]
    rows[4]["timestamp"] = future
    with pytest.raises(EventsRefused) as refused:
        events_ingest(project=project, raw_events=rows)
    errors = {e["line"]: e for e in refused.value.errors}
    assert set(errors) == {2, 3, 4, 5, 6, 7}
    assert {"event_id", "model_version", "data", "result"} <= set(errors[2])
    assert "outside [0, 1]" in errors[3]["score"]
    assert set(errors[4]["result"]) == {"sentiment"}
    assert "future" in errors[5]["timestamp"]
    assert "score" in errors[6]
    assert not PredictionEvent.objects.filter(project=project).exists()


def test_per_control_score(project):
    events_ingest(project=project, raw_events=[event(1, score={"sentiment": 0.3})])
    assert PredictionEvent.objects.get(event_id="e1").score == 0.3
    with pytest.raises(EventsRefused):
        events_ingest(project=project, raw_events=[event(2, score={"sentiment": 2})])


def test_routed_events_become_items_with_prediction(project):
    RoutingRule.objects.create(
        project=project, name="unsure", condition={"field": "score", "op": "<", "value": 0.5}
    )
    project.monitor_baseline_rate = 0.0
    project.save()
    report = events_ingest(
        project=project, raw_events=[event(1, score=0.2), event(2, score=0.8), event(3, score=0.1)]
    )
    assert report.routed == 2
    items = Item.objects.filter(project=project).order_by("external_id")
    assert [i.external_id for i in items] == ["event:e1", "event:e3"]
    prediction = items[0].predictions.get()
    assert prediction.result == {"sentiment": "positive"} and prediction.score == 0.2
    assert prediction.model_version == "v1"
    assert items[0].data == {"text": "text 1"}
    routed = PredictionEvent.objects.get(event_id="e1")
    assert routed.inclusion_probability == 1.0 and routed.rule_id is not None
    assert PredictionEvent.objects.get(event_id="e2").inclusion_probability == 0.0
    # A resend routes nothing again and creates no item twice.
    assert events_ingest(project=project, raw_events=[event(1, score=0.2)]).routed == 0
    assert Item.objects.filter(project=project).count() == 2


def test_baseline_samples_about_its_rate_deterministically(project):
    project.monitor_baseline_rate = 0.1
    project.save()
    rows = [event(n) for n in range(2000)]
    report = events_ingest(project=project, raw_events=rows)
    assert 140 <= report.routed <= 260
    baseline = set(PredictionEvent.objects.filter(baseline=True).values_list("event_id", flat=True))
    assert len(baseline) == report.routed
    probabilities = set(PredictionEvent.objects.values_list("inclusion_probability", flat=True))
    assert [round(p, 9) for p in probabilities] == [0.1]


def test_caps_limit_routing_per_day(project):
    project.monitor_baseline_rate = 0.0
    project.save()
    RoutingRule.objects.create(project=project, name="all", condition={}, cap_per_day=5)
    first = events_ingest(project=project, raw_events=[event(n) for n in range(4)])
    second = events_ingest(project=project, raw_events=[event(n) for n in range(4, 10)])
    assert (first.routed, second.routed) == (4, 1)
    spent = PredictionEvent.objects.get(event_id="e9")
    assert spent.rule_id is None and spent.inclusion_probability == 0.0


@pytest.mark.parametrize("shown", [False, True])
def test_routed_prediction_shown_only_if_the_project_prefills(project, annotator_api, shown):
    project.monitor_baseline_rate = 1.0
    project.prefill_predictions = shown
    project.save()
    events_ingest(project=project, raw_events=[event(1, label="negative", score=0.4)])
    response = annotator_api.get(f"/api/projects/{project.pk}/next/")
    assert response.status_code == 200
    body = response.json()
    assert body["item"]["external_id"] == "event:e1"
    if shown:
        assert body["prediction"]["result"] == {"sentiment": "negative"}
    else:
        assert body["prediction"] is None
