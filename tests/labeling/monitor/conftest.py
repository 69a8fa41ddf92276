"""Fixtures of the monitoring tests: a project fed by the simulated model, routed items labeled."""

from datetime import timedelta

import pytest

from labeling.annotations import annotation_submit
from labeling.monitor.events import events_ingest
from labeling.monitor.models import MonitorSettings, RoutingRule
from labeling.monitor.rollups import monitor_rollups_refresh
from projects.models import Item
from tests.labeling.monitor.simulation import LOW_CONFIDENCE_RULE, START, simulate


def label_routed_items(project, annotator, truth) -> int:
    count = 0
    for item in Item.objects.filter(project=project, status=Item.Status.OPEN):
        event_id = item.external_id.removeprefix("event:")
        annotation_submit(item=item, annotator=annotator, result={"sentiment": truth[event_id]})
        count += 1
    return count


@pytest.fixture
def monitored(project, annotator):
    project.monitor_baseline_rate = 0.08
    project.review_policy = "none"
    project.save()
    RoutingRule.objects.create(project=project, **LOW_CONFIDENCE_RULE)
    MonitorSettings.objects.create(
        project=project,
        accuracy_alert_below=0.7,
        reference_start=START,
        reference_end=START + timedelta(days=2),
    )
    simulation = simulate()
    for start in range(0, len(simulation.events), 1000):
        events_ingest(project=project, raw_events=simulation.events[start : start + 1000])
    label_routed_items(project, annotator, simulation.truth)
    monitor_rollups_refresh(project_id=project.pk)
    return project, simulation
