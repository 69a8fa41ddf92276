"""Which items came from which prediction events (for exports' monitor filter), and what that
filter can choose from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet, Value
from django.db.models.functions import Concat

from labeling.monitor.events import ITEM_PREFIX
from labeling.monitor.models import ModelVersion, PredictionEvent, RoutingRule
from projects.models import Project


def monitor_filter(raw: dict[str, Any]) -> dict[str, Any]:
    """An export's stored monitor option as keyword arguments of routed_item_external_ids."""
    out = dict(raw)
    for name in ("since", "until"):
        if out.get(name):
            out[name] = datetime.fromisoformat(out[name])
    return out


def routed_item_external_ids(
    *,
    project: Project,
    rule: int | None = None,
    model_version: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet:
    """The external ids of the items routed from the project's events (of a rule, a model
    version, a time range), as a subquery: items.filter(external_id__in=...)."""
    events = PredictionEvent.objects.filter(project_id=project.pk).exclude(
        rule__isnull=True, baseline=False
    )
    if rule is not None:
        events = events.filter(rule_id=rule)
    if model_version:
        events = events.filter(version__version=model_version)
    if since:
        events = events.filter(timestamp__gte=since)
    if until:
        events = events.filter(timestamp__lt=until)
    return (
        events.order_by()
        .annotate(item_external_id=Concat(Value(ITEM_PREFIX), "event_id"))
        .values("item_external_id")
    )


def monitor_filter_choices(*, project: Project) -> dict[str, list]:
    """What an export form offers for the monitor filter: the project's rules (id, name; the
    deleted ones' events keep their id, but the form offers the existing) and model versions.
    Empty lists when the project monitors no model."""
    return {
        "rules": list(
            RoutingRule.objects.filter(project=project)
            .order_by("name", "id")
            .values_list("id", "name")
        ),
        "versions": list(
            ModelVersion.objects.filter(project=project).values_list("version", flat=True)
        ),
    }
