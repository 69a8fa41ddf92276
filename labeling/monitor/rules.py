"""Routing rules: saved only with a valid condition; a dry run counts what a rule would route."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from labeling.monitor.conditions import condition_compile, sample_draw
from labeling.monitor.models import PredictionEvent, RoutingRule

DRY_RUN_MAX_DAYS = 90


def rule_dry_run(*, rule: RoutingRule, days: int) -> dict:
    """How many events of the last `days` days the rule matches and would route (its sample
    rate and caps applied, as if no other rule took them first), per day."""
    since = timezone.now() - timedelta(days=days)
    predicate = condition_compile(rule.condition)
    salt = f"rule{rule.id}"
    rate = rule.sample_rate
    seen = matched = routed = 0
    per_day: dict[str, int] = {}
    per_hour: dict = {}
    events = (
        PredictionEvent.objects.filter(project_id=rule.project_id, timestamp__gte=since)
        .order_by()
        .values_list("event_id", "timestamp", "score", "label", "version__version", "metadata")
    )
    for event_id, timestamp, score, label, version, metadata in events.iterator(chunk_size=5000):
        seen += 1
        if not predicate(score, label, version, metadata or {}):
            continue
        matched += 1
        if rate < 1.0 and sample_draw(event_id, salt) >= rate:
            continue
        day = timestamp.date().isoformat()
        hour = timestamp.replace(minute=0, second=0, microsecond=0)
        if rule.cap_per_day is not None and per_day.get(day, 0) >= rule.cap_per_day:
            continue
        if rule.cap_per_hour is not None and per_hour.get(hour, 0) >= rule.cap_per_hour:
            continue
        per_day[day] = per_day.get(day, 0) + 1
        per_hour[hour] = per_hour.get(hour, 0) + 1
        routed += 1
    return {
        "days": days,
        "events": seen,
        "matched": matched,
        "would_route": routed,
        "per_day": [{"day": d, "routed": n} for d, n in sorted(per_day.items())],
    }
