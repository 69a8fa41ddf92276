"""What every ingest looks up before it routes: the project's active rules and the ids of the
model versions its events name, kept in each process's memory, so a call of one event reads
neither from the database nor from anywhere else.

Rules: kept with the generation they were read under (Project.monitor_rules_generation).
Saving or deleting a rule (RoutingRule.save, delete) gives the project a new one, so a call
whose project row shows a newer generation reads the rules again: no process routes by rules
older than the project row its call read. A reader inside a transaction neither keeps what it
reads (it may never commit) nor takes the kept copy (its project may have been read long before).
Versions: a version's id never changes once registered (it goes only with its project), so it
is kept once its registration commits.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from labeling.monitor.models import ModelVersion, MonitoredModel, RoutingRule
from projects.models import Project

RULE_FIELDS = ("id", "condition", "sample_rate", "cap_per_day", "cap_per_hour", "priority")
# Entries a process keeps of each kind before it starts again (one per project, one per version).
KEPT_MAX = 10_000


@dataclass(frozen=True, slots=True)
class RuleRow:
    """An active rule as routing reads it."""

    id: int
    condition: dict
    sample_rate: float
    cap_per_day: int | None
    cap_per_hour: int | None
    priority: int


# Shared by the process's threads: a dict's reads and writes are atomic, and two threads that
# fill one entry at once fill it alike.
_kept_rules: dict[str, tuple[int, list[RuleRow]]] = {}
_kept_versions: dict[tuple[str, str], int] = {}


def _project_key(project: Project) -> str:
    """The project's id and creation time: a database recreated or restored under a running
    process starts its ids again, and must not read the ids another database had."""
    return f"{project.pk}.{project.created_at.timestamp():.6f}"


def _kept(store: dict, key, value) -> None:
    if len(store) >= KEPT_MAX:
        store.clear()
    store[key] = value


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
    for the first time; and answer the project's active rules (None when not asked), by the
    generation `project` shows (read by the caller's request). Nothing is read when the
    process holds both."""
    key = _project_key(project)
    first_seen = _first_seen(rows)
    ids = {}
    for version in first_seen:
        found = _kept_versions.get((key, version))
        if found is not None:
            ids[version] = found
    missing = {v: seen for v, seen in first_seen.items() if v not in ids}
    if missing:
        registered = versions_register(project=project, first_seen=missing)
        ids.update(registered)

        def keep() -> None:
            for version in missing:
                _kept(_kept_versions, (key, version), registered[version])

        transaction.on_commit(keep)
    for row in rows:
        if row.version_id is None:
            row.version_id = ids[row.model_version]
    if not rules:
        return None
    if connection.in_atomic_block:
        return _rules_read(project.pk)
    kept = _rules_kept(key, project.monitor_rules_generation)
    if kept is not None:
        return kept
    active = _rules_read(project.pk)
    _kept(_kept_rules, key, (project.monitor_rules_generation, active))
    return active


def _rules_kept(key: str, generation: int) -> list[RuleRow] | None:
    """The rules the process keeps for the project, if kept under that generation."""
    kept = _kept_rules.get(key)
    return kept[1] if kept is not None and kept[0] == generation else None


def kept_lookups(*, project: Project, rows: list[Any]) -> list[RuleRow] | None:
    """What ingest_lookups answers, from the process's memory alone: the version ids of the
    rows filled in, and the rules kept under the generation `project` shows. None when the
    process lacks any of them (nothing is read or written; some rows may have their ids)."""
    key = _project_key(project)
    for row in rows:
        if row.version_id is None:
            found = _kept_versions.get((key, row.model_version))
            if found is None:
                return None
            row.version_id = found
    return _rules_kept(key, project.monitor_rules_generation)
