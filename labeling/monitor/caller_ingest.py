"""A call's events stored by the same statement that admits its caller: the events POST's
lean path (event_post) in one round trip instead of two.

The full way reads the token, the project and the caller's role first, then parses, routes and
stores by what it read. Here a process keeps the project as the last admitted call read it;
the next call's events are parsed and routed by that copy, and one statement admits the caller
(projects.api_tokens.lead_caller_sql: a valid token whose user leads the project), checks that
the project row still holds what the copy was made of (its schema, baseline rate, rules'
generation and creation time), and only then stores and counts the events (the insert of
events.events_insert_sql). Whenever anything is not as kept, nothing is stored and the answer
is None, for the call to take the full way, which answers every refusal in its own words:
a token refused, a caller who is not a lead, a project changed or gone, the rules or a version
not in the process's memory, an event that is bad, a call inside a transaction, a database
other than PostgreSQL. A routed event's item is made in the statement's transaction, as the
full way makes it (it needs nothing of the project but its id).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from django.conf import settings
from django.db import connection

from labeling.monitor.events import (
    ASYNC_COMMIT_SQL,
    COPY_FROM_ROWS,
    EventsRefused,
    IngestReport,
    events_check,
    events_insert_params,
    events_insert_sql,
    events_route,
    events_store_few,
    events_unique,
)
from labeling.monitor.lookups import KEPT_MAX, kept_lookups
from labeling.monitor.routing import RuleSet
from projects.api_tokens import lead_caller_params, lead_caller_sql
from projects.direct_sql import prepared_cursor
from projects.models import Project

# The project row as the copy was made of it; the lock makes its deletion wait for the insert.
_PROJECT_UNCHANGED = (
    "AND p.created_at = %s AND p.monitor_rules_generation = %s"
    " AND p.monitor_baseline_rate = %s AND p.label_schema = %s::jsonb {async_commit} FOR SHARE OF p"
)
# One row per new event, a row of NULL when the caller was admitted and no event was new, none
# when the caller was refused or the project changed.
_ANSWER = "SELECT stored.event_id FROM project LEFT JOIN stored ON true"
_SQL = {
    flush: events_insert_sql(
        lead_caller_sql(_PROJECT_UNCHANGED.format(async_commit="" if flush else ASYNC_COMMIT_SQL))
        + ", project AS (SELECT project_id AS id FROM caller)",
        _ANSWER,
    )
    for flush in (True, False)
}

# Shared by the process's threads (a dict's reads and writes are atomic): by project id, the
# project as an admitted call read it, and its schema as the statement compares it.
_kept_projects: dict[int, tuple[Project, str]] = {}


def project_keep(project: Project) -> None:
    """Keep the project as an admitted call read it, for the next calls on it."""
    if len(_kept_projects) >= KEPT_MAX:
        _kept_projects.clear()
    _kept_projects[project.pk] = (project, orjson.dumps(project.label_schema).decode())


def events_store_as_caller(
    *, secret: str, project_id: int, raw_events: Sequence[Any]
) -> IngestReport | None:
    """The events stored as events_ingest would store them, when `secret` admits its caller as
    the project's lead and the kept copy of the project still holds; None when nothing was
    stored, for the full way to answer."""
    kept = _kept_projects.get(project_id)
    if (
        kept is None
        or connection.vendor != "postgresql"
        or connection.in_atomic_block
        or not 0 < len(raw_events) <= COPY_FROM_ROWS
    ):
        return None
    project, schema = kept
    try:
        rows = events_check(project=project, raw_events=raw_events)
    except EventsRefused:
        return None
    report = IngestReport()
    fresh = list(events_unique(rows, report).values())
    rules = kept_lookups(project=project, rows=fresh)
    if rules is None:
        return None
    stored = events_route(RuleSet(rules, baseline_rate=project.monitor_baseline_rate), fresh)
    unchanged = [
        project.created_at,
        project.monitor_rules_generation,
        project.monitor_baseline_rate,
        schema,
    ]
    caller = lead_caller_params(secret=secret, project_id=project_id, conditions_params=unchanged)
    sql = _SQL[settings.MONITOR_EVENTS_SYNCHRONOUS_COMMIT]

    def insert(events: list) -> set[str] | None:
        with prepared_cursor() as cursor:
            cursor.execute(sql, [*caller, *events_insert_params(project_id, events)])
            answer = cursor.fetchall()
        return {event_id for (event_id,) in answer if event_id is not None} if answer else None

    return events_store_few(project, stored, report, insert)
