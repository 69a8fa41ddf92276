"""What every ingest looks up before it routes: the project's active rules and the ids of the
model versions its events name, kept in the cache (Redis in production, shared by every web and
worker process), so a call of one event reads neither from the database.

Rules: cached with the generation they were read under. `rules_changed` gives the project a new
generation when a rule is saved or deleted (at once, and again once the change commits), so no
process routes by rules older than the last committed change: a reader that read the database
just before the commit cached them under a generation nobody asks for any more. A reader inside
a transaction does not fill the cache (what it reads may never commit).
Versions: a version's id never changes once registered (it goes only with its project), so it is
cached once its registration commits.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction

from labeling.monitor.models import ModelVersion, MonitoredModel, RoutingRule
from projects.models import Project

RULES_SECONDS = 3600
VERSION_SECONDS = 7 * 86400
RULE_FIELDS = ("id", "condition", "sample_rate", "cap_per_day", "cap_per_hour", "priority")


@dataclass(frozen=True, slots=True)
class RuleRow:
    """An active rule as routing reads it."""

    id: int
    condition: dict
    sample_rate: float
    cap_per_day: int | None
    cap_per_hour: int | None
    priority: int


def _project_key(project: Project) -> str:
    """The project's id and creation time: a database recreated or restored under the same
    cache starts its ids again, and must not read the ids another database cached."""
    return f"{project.pk}.{project.created_at.timestamp():.6f}"


def _rules_key(project: Project) -> str:
    return f"monitor:rules:{_project_key(project)}"


def _generation_key(project: Project) -> str:
    return f"monitor:rules-generation:{_project_key(project)}"


def _version_key(project: Project, version: str) -> str:
    # A version is any text: its digest keeps the key short and valid for every cache backend.
    digest = hashlib.blake2b(version.encode(), digest_size=12).hexdigest()
    return f"monitor:version:{_project_key(project)}:{digest}"


def rules_changed(*, project: Project) -> None:
    """Call after saving or deleting a project's rule (inside its transaction or not)."""

    def renew() -> None:
        cache.set(_generation_key(project), uuid.uuid4().hex, None)
        cache.delete(_rules_key(project))

    renew()
    transaction.on_commit(renew)


def _rules_read(project_id: int) -> list[RuleRow]:
    rules = RoutingRule.objects.filter(project_id=project_id, is_active=True).values_list(
        *RULE_FIELDS
    )
    return [RuleRow(*values) for values in rules]


def versions_register(
    *, project: Project, first_seen: dict[str, tuple[datetime, str]]
) -> dict[str, int]:
    """The ids of the versions named ({version: (first seen at, model name)}), registering
    the new ones and their models."""
    known = dict(
        ModelVersion.objects.filter(project=project, version__in=first_seen).values_list(
            "version", "id"
        )
    )
    missing = {v: s for v, s in first_seen.items() if v not in known}
    if not missing:
        return known
    names = {model for _, model in missing.values()}
    # Sorted: concurrent registrations take the unique index's row locks in one order.
    MonitoredModel.objects.bulk_create(
        [MonitoredModel(project=project, name=n) for n in sorted(names)], ignore_conflicts=True
    )
    models = dict(
        MonitoredModel.objects.filter(project=project, name__in=names).values_list("name", "id")
    )
    ModelVersion.objects.bulk_create(
        [
            ModelVersion(project=project, model_id=models[model], version=version, first_seen_at=at)
            for version, (at, model) in sorted(missing.items())
        ],
        ignore_conflicts=True,
    )
    return dict(
        ModelVersion.objects.filter(project=project, version__in=first_seen).values_list(
            "version", "id"
        )
    )


def _first_seen(rows: Iterable[Any]) -> dict[str, tuple[datetime, str]]:
    first_seen: dict[str, tuple[datetime, str]] = {}
    for row in rows:
        if row.version_id is not None:
            continue
        seen = first_seen.get(row.model_version)
        if seen is None or row.timestamp < seen[0]:
            first_seen[row.model_version] = (row.timestamp, row.model)
    return first_seen


def ingest_lookups(
    *, project: Project, rows: list[Any], rules: bool = True
) -> list[RuleRow] | None:
    """Fill in `version_id` of the rows (EventRow) that have none, registering versions seen
    for the first time; and answer the project's active rules (None when not asked). One trip
    to the cache for both when everything is there."""
    first_seen = _first_seen(rows)
    version_keys = {v: _version_key(project, v) for v in first_seen}
    keys = list(version_keys.values())
    if rules:
        keys += [_generation_key(project), _rules_key(project)]
    found = cache.get_many(keys) if keys else {}
    ids = {v: found[k] for v, k in version_keys.items() if k in found}
    missing = {v: seen for v, seen in first_seen.items() if v not in ids}
    if missing:
        registered = versions_register(project=project, first_seen=missing)
        ids.update(registered)
        new_keys = {version_keys[v]: registered[v] for v in missing}
        transaction.on_commit(lambda: cache.set_many(new_keys, VERSION_SECONDS))
    for row in rows:
        if row.version_id is None:
            row.version_id = ids[row.model_version]
    if not rules:
        return None
    generation = found.get(_generation_key(project))
    cached = found.get(_rules_key(project))
    if cached is not None and cached[0] == generation:
        return [RuleRow(*values) for values in cached[1]]
    active = _rules_read(project.pk)
    if not connection.in_atomic_block:
        values = [tuple(getattr(r, f) for f in RULE_FIELDS) for r in active]
        cache.set(_rules_key(project), (generation, values), RULES_SECONDS)
    return active
