"""A simulated production model for monitoring tests: its accuracy drops at a known time.

Before the drop the model is calibrated (an event with score s is right with probability s);
after it, right with probability s * DROP_FACTOR. The true label of every event is known, so
tests can label routed items as a perfect annotator would and compare estimates with truth.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from labeling.annotate.submit import annotation_submit
from labeling.monitor.events import events_ingest
from labeling.monitor.models import MonitorSettings, RoutingRule
from labeling.monitor.rollups import monitor_rollups_refresh
from projects.models import Item

LABELS = ("positive", "negative", "neutral")
START = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
DROP_FACTOR = 0.5


@dataclass
class Simulation:
    events: list[dict]
    truth: dict[str, str]  # event_id -> true label
    drop_at: datetime

    def true_accuracy(self, start: datetime, end: datetime) -> float:
        rows = [e for e in self.events if start <= datetime.fromisoformat(e["timestamp"]) < end]
        right = sum(e["result"]["sentiment"] == self.truth[e["event_id"]] for e in rows)
        return right / len(rows)


def simulate(*, days: int = 4, per_day: int = 1000, drop_day: int = 2, seed: int = 7) -> Simulation:
    rng = random.Random(seed)
    drop_at = START + timedelta(days=drop_day)
    events, truth = [], {}
    for n in range(days * per_day):
        at = START + timedelta(seconds=n * 86400 / per_day)
        score = 0.4 + 0.6 * rng.random() ** 0.5
        right_chance = score if at < drop_at else score * DROP_FACTOR
        true_label = rng.choice(LABELS)
        if rng.random() < right_chance:
            predicted = true_label
        else:
            predicted = rng.choice([lb for lb in LABELS if lb != true_label])
        event_id = f"sim-{n}"
        truth[event_id] = true_label
        events.append(
            {
                "event_id": event_id,
                "timestamp": at.isoformat(),
                "model_version": "m-1",
                "data": {"text": f"input {n}"},
                "result": {"sentiment": predicted},
                "score": round(score, 4),
                "metadata": {"region": rng.choice(["eu", "us"]), "tier": rng.choice(["a", "b"])},
            }
        )
    return Simulation(events=events, truth=truth, drop_at=drop_at)


LOW_CONFIDENCE_RULE = {
    "name": "low confidence",
    "condition": {"field": "score", "op": "<", "value": 0.6},
    "sample_rate": 1.0,
    "priority": 1,
}


def label_routed_items(project, annotator, truth) -> int:
    count = 0
    for item in Item.objects.filter(project=project, status=Item.Status.OPEN):
        event_id = item.external_id.removeprefix("event:")
        annotation_submit(item=item, annotator=annotator, result={"sentiment": truth[event_id]})
        count += 1
    return count


def monitored_project(project, annotator):
    """The simulated model's events ingested, every routed item labeled, rollups refreshed."""
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
