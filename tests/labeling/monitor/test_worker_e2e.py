"""Done-when: on PostgreSQL with a real Celery worker, a simulated model's accuracy drops at a
known time; events go in through the API, simulated annotators label what the rules route
(through the queue API), the worker keeps the rollups; the series shows the drop outside the
confidence band, the weighted estimate covers the true accuracy while the rule-only (as-sampled)
one is biased, and an alert fires."""

import time
from datetime import timedelta

import pytest

from labeling.monitor.models import MonitorSettings, Rollup
from tests.conftest import api_client_for
from tests.factories import MembershipFactory, UserFactory
from tests.labeling.monitor.simulation import LOW_CONFIDENCE_RULE, START, simulate

pytestmark = [pytest.mark.postgres, pytest.mark.worker]


def wait_for(check, timeout=120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := check():
            return value
        time.sleep(0.5)
    raise AssertionError("timed out")


def test_monitoring_loop_with_worker(celery_worker_process, project, lead_api):
    project.monitor_baseline_rate = 0.08
    project.review_policy = "none"
    project.save()
    MonitorSettings.objects.create(
        project=project,
        accuracy_alert_below=0.7,
        reference_start=START,
        reference_end=START + timedelta(days=2),
    )
    base = f"/api/projects/{project.pk}/monitor/"
    assert lead_api.post(base + "rules/", LOW_CONFIDENCE_RULE, format="json").status_code == 201
    simulation = simulate()
    routed = 0
    for start in range(0, len(simulation.events), 1000):
        response = lead_api.post(
            base + "events/", simulation.events[start : start + 1000], format="json"
        )
        assert response.status_code == 201, response.content
        routed += response.json()["routed"]
    assert routed > 300

    # Two simulated annotators label what was routed, through the queue API.
    annotators = []
    for name in ("sim-a", "sim-b"):
        user = UserFactory(username=name)
        MembershipFactory(project=project, user=user, role="annotator")
        annotators.append(api_client_for(user))
    labeled = 0
    while True:
        client = annotators[labeled % 2]
        response = client.get(f"/api/projects/{project.pk}/next/")
        if response.status_code == 204:
            break
        item = response.json()["item"]
        truth = simulation.truth[item["external_id"].removeprefix("event:")]
        answer = client.post(
            f"/api/items/{item['id']}/annotations/", {"result": {"sentiment": truth}}, format="json"
        )
        assert answer.status_code in (200, 201), answer.content
        labeled += 1
    assert labeled == routed

    assert lead_api.post(base + "rollups/refresh/").status_code == 202
    wait_for(
        lambda: Rollup.objects.filter(project_id=project.pk, bucket="day", n__gt=0).count() == 4
    )

    days = lead_api.get(base + "metrics/", {"bucket": "day", "model_version": "m-1"}).json()[
        "series"
    ]
    assert len(days) == 4
    assert sum(d["n"] for d in days) == labeled
    for day in days:
        start = START + timedelta(days=days.index(day))
        truth = simulation.true_accuracy(start, start + timedelta(days=1))
        assert day["weighted_ci_low"] <= truth <= day["weighted_ci_high"]
        assert day["accuracy"] < truth  # the as-sampled estimate is biased low
        if start < simulation.drop_at:
            assert day["accuracy"] < truth - 0.1
    # The drop: after it, the whole band sits below the band before it.
    assert days[2]["weighted_ci_high"] < days[1]["weighted_ci_low"]
    alerts = lead_api.get(base + "alerts/").json()
    assert {a["kind"] for a in alerts} >= {"accuracy"}
    first = min(a["bucket_start"] for a in alerts if a["kind"] == "accuracy")
    assert first.startswith((START + timedelta(days=2)).date().isoformat())
