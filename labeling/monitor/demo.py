"""The monitoring demo `make run` loads: a digit classifier in production whose inputs drift.

A scikit-learn logistic regression is trained on half of the handwritten digits that ship with
scikit-learn (no download). A simulated month of its predictions on the other half goes in as
prediction events: from mid-month the inputs drift (noise and a smudge, as from a new camera), so
the model gets less accurate and less sure. Events are routed by a low-confidence rule and the
uniform baseline; the demo annotators have already labeled the routed items of all but the last
days, so the model health page shows the drop. Running it again adds nothing.
"""

from __future__ import annotations

import base64
import io
import random
from datetime import UTC, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from labeling.annotate.submit import annotation_submit
from labeling.monitor.events import events_ingest
from labeling.monitor.models import MonitorSettings, PredictionEvent, RoutingRule
from labeling.monitor.rollups import monitor_rollups_refresh
from projects.members import membership_set
from projects.models import Item, Membership, Project

DEMO_MONITOR_PROJECT = "Demo: digit classifier in production"
DAYS = 30
EVENTS_PER_DAY = 200
DRIFT_DAY = 15
UNLABELED_LAST_DAYS = 2  # left in the queue for whoever tries the demo
ANNOTATOR_ACCURACY = 0.97
SCHEMA = {
    "controls": [
        {
            "name": "digit",
            "kind": "choice",
            "source": "image",
            "labels": [str(d) for d in range(10)],
        }
    ]
}


def _png_data_url(pixels) -> str:
    from PIL import Image

    image = Image.fromarray((pixels * (255 / 16)).clip(0, 255).astype("uint8"), mode="L")
    image = image.resize((64, 64), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _drifted(pixels, rng):
    """The same digit seen through the 'new camera': noise and a smudged corner."""
    import numpy as np

    noisy = pixels + rng.normal(0, 4.5, size=pixels.shape)
    row, col = rng.integers(0, 5, size=2)
    noisy[row : row + 3, col : col + 3] = 16
    return np.clip(noisy, 0, 16)


def demo_day_start(days_ago: int = 0):
    """Midnight UTC, `days_ago` days before today's: the demo's days are the charts' day buckets."""
    today = timezone.now().astimezone(UTC)
    return today.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)


def demo_events(
    *, days: int = DAYS, per_day: int = EVENTS_PER_DAY, drift_day: int = DRIFT_DAY, seed: int = 11
) -> tuple[list[dict], dict[str, str]]:
    """The month's events (whole UTC days ending at today's midnight) and the true digit of each.

    Whole days, so that no day bucket mixes the days before the drift with those after it,
    whatever the hour the demo is loaded.
    """
    import numpy as np
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    digits = load_digits()
    images, targets = digits.images, digits.target
    order = np.random.default_rng(seed).permutation(len(targets))
    train, serve = order[: len(order) // 2], order[len(order) // 2 :]
    model = LogisticRegression(max_iter=2000)
    model.fit(images[train].reshape(len(train), -1), targets[train])
    rng = np.random.default_rng(seed)
    start = demo_day_start(days)
    events, truth = [], {}
    for n in range(days * per_day):
        index = serve[n % len(serve)]
        at = start + timedelta(seconds=n * 86400 / per_day)
        pixels = images[index]
        drifted = n >= drift_day * per_day
        if drifted:
            pixels = _drifted(pixels, rng)
        probabilities = model.predict_proba(pixels.reshape(1, -1))[0]
        predicted = int(probabilities.argmax())
        event_id = f"digits-{n}"
        truth[event_id] = str(int(targets[index]))
        events.append(
            {
                "event_id": event_id,
                "timestamp": at.isoformat(),
                "model": "digits-logreg",
                "model_version": "2026.11-a",
                "data": {"image": _png_data_url(pixels)},
                "result": {"digit": str(predicted)},
                "score": round(float(probabilities.max()), 4),
                "metadata": {
                    "camera": "new" if drifted else "old",
                    "site": ["north", "south"][n % 2],
                },
            }
        )
    return events, truth


@transaction.atomic  # one commit for the lot: SQLite would sync to disk once per answer
def _demo_annotators_label(project: Project, truth: dict[str, str], until) -> int:
    annotators = list(
        get_user_model().objects.filter(
            memberships__project=project, memberships__role=Membership.Role.ANNOTATOR
        )
    )
    rng = random.Random(3)
    labeled = 0
    routed = PredictionEvent.objects.filter(project=project, timestamp__lt=until).exclude(
        rule__isnull=True, baseline=False
    )
    wanted = {"event:" + e for e in routed.values_list("event_id", flat=True)}
    for item in Item.objects.filter(project=project, status=Item.Status.OPEN).order_by("id"):
        if item.external_id not in wanted:
            continue
        answer = truth[item.external_id.removeprefix("event:")]
        if rng.random() > ANNOTATOR_ACCURACY:
            answer = rng.choice([d for d in "0123456789" if d != answer])
        annotation_submit(
            item=item, annotator=annotators[labeled % len(annotators)], result={"digit": answer}
        )
        labeled += 1
    return labeled


def monitor_demo_load(
    *, lead_username: str = "admin", days: int = DAYS, per_day: int = EVENTS_PER_DAY
) -> Project | None:
    """Create the monitoring demo project next to the main demo (its users must exist)."""
    users = get_user_model().objects.filter(username__in=["admin", "anna", "ben"])
    by_name = {u.username: u for u in users}
    if lead_username not in by_name:
        return None
    with transaction.atomic():
        project, created = Project.objects.get_or_create(
            name=DEMO_MONITOR_PROJECT,
            defaults={
                "instructions": "Which **digit** is this? These are the production model's "
                "low-confidence predictions and a random 3% sample of all of them.",
                "label_schema": SCHEMA,
                "overlap": 1,
                "review_policy": Project.ReviewPolicy.NONE,
                "monitor_baseline_rate": 0.03,
                "created_by": by_name[lead_username],
            },
        )
        if not created and PredictionEvent.objects.filter(project=project).exists():
            return project
        membership_set(project=project, user=by_name[lead_username], role=Membership.Role.LEAD)
        for name in ("anna", "ben"):
            if name in by_name:
                membership_set(project=project, user=by_name[name], role=Membership.Role.ANNOTATOR)
        RoutingRule.objects.get_or_create(
            project=project,
            name="low confidence",
            defaults={
                "condition": {"field": "score", "op": "<", "value": 0.8},
                "sample_rate": 0.6,
                "cap_per_day": 15,
                "priority": 1,
            },
        )
    events, truth = demo_events(days=days, per_day=per_day, drift_day=days // 2)
    start = demo_day_start(days)
    MonitorSettings.objects.update_or_create(
        project=project,
        defaults={
            "accuracy_alert_below": 0.85,
            "reference_start": start,
            "reference_end": start + timedelta(days=max(days // 4, 1)),
        },
    )
    for offset in range(0, len(events), 2000):
        events_ingest(project=project, raw_events=events[offset : offset + 2000])
    _demo_annotators_label(project, truth, until=demo_day_start(UNLABELED_LAST_DAYS))
    monitor_rollups_refresh(project_id=project.pk)
    return project
