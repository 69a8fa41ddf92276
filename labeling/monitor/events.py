"""Prediction events in: checked line by line, stored once per event_id, routed to people.

`events_ingest` is what the API's bulk call and the JSONL upload job both end in. A bad event is
reported by its line with the field and the rule broken; the API refuses the whole call when any
line is bad (as predictions do), the upload job keeps the good lines. A resent event (an event_id
the project has, or a repeat in the same call) is counted as a duplicate and never stored twice.
A routed event becomes an item of the project's queue (external id `event:<event_id>`, so a
re-run creates none twice), with the model's prediction attached; the project's
`prefill_predictions` decides whether annotators see it (off by default: no anchoring).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from labeling.monitor.lookups import ingest_lookups
from labeling.monitor.models import (
    EventCount,
    LabeledEvent,
    ModelVersion,
    MonitoredModel,
    PredictionEvent,
    RuleUsage,
)
from labeling.monitor.routing import CapCounter, RuleSet
from labeling.monitor.stats import SCORE_BINS, score_bin
from projects.direct_sql import copy_escape, copy_unless_taken, prepared_cursor
from projects.items.bulk import project_lock_for_items
from projects.items.create import ItemRow, items_create_searchable
from projects.label_schema import CHOICE, LabelSchema, ResultError, label_schema_parsed
from projects.models import Project

MAX_EVENTS_PER_CALL = 10_000
MAX_EVENT_ID = 255
MAX_VERSION = ModelVersion._meta.get_field("version").max_length
MAX_MODEL = MonitoredModel._meta.get_field("name").max_length
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
HOUR = timedelta(hours=1)
DEFAULT_MODEL = "default"
BATCH_SIZE = 2000
ITEM_PREFIX = "event:"
COPY_FROM_ROWS = 50


class EventsRefused(ValueError):
    def __init__(self, errors: list[dict[str, Any]]):
        self.errors = errors
        super().__init__(f"{len(errors)} bad event(s)")


@dataclass(slots=True)
class EventRow:
    line: int
    event_id: str
    timestamp: datetime
    model: str
    model_version: str
    data: dict
    result: dict
    label: str
    score: float | None
    metadata: dict
    hour: datetime  # the timestamp's hour in UTC (counts, caps and usage are kept per hour)
    version_id: int | None = None  # the ModelVersion's id, once looked up


@dataclass
class IngestReport:
    created: int = 0
    duplicates: int = 0
    routed: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, int]:
        return {"created": self.created, "duplicates": self.duplicates, "routed": self.routed}


def monitored_control(schema: LabelSchema):
    """The control whose answer monitoring compares: the first single-choice control, else the
    first control."""
    for control in schema.controls:
        if control.kind == CHOICE:
            return control
    return schema.controls[0]


def answer_label(result: Any, control_name: str) -> str:
    """A result's answer for the monitored control as one string (labels stay as they are)."""
    if not isinstance(result, dict):
        return ""
    value = result.get(control_name)
    if value is None:
        return ""
    if isinstance(value, str):
        return value[:255]
    return json.dumps(value, sort_keys=True, separators=(",", ":"))[:255]


def _timestamp(raw: Any) -> datetime:
    if isinstance(raw, bool):
        raise ValueError("an ISO 8601 date-time or seconds since the epoch")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ValueError("an ISO 8601 date-time or seconds since the epoch")
        return datetime.fromtimestamp(raw, tz=UTC)
    if not isinstance(raw, str):
        raise ValueError("an ISO 8601 date-time or seconds since the epoch")
    value = datetime.fromisoformat(raw)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def _score(raw: Any, control_name: str) -> tuple[float | None, str | None]:
    """The one confidence number, or the monitored control's of a per-control score object."""
    if raw is None:
        return None, None
    if isinstance(raw, dict):
        for name, value in raw.items():
            _, problem = _score(value, control_name)
            if problem or isinstance(value, dict):
                return None, f"score of {name}: {problem or 'a number in [0, 1]'}"
        raw = raw.get(control_name)
        if raw is None:
            return None, None
    if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
        return None, "a number in [0, 1], or one per control"
    if not 0.0 <= raw <= 1.0:
        return None, f"{raw} is outside [0, 1]"
    return float(raw), None


class EventParser:
    """Checks raw events against one project's schema; built once per call or job.

    `parse` takes a short path for the event as nearly every one arrives (string id, ISO
    timestamp, one score, plain objects, a result the schema holds), doing each check once
    with no message built; anything else, or anything wrong, takes the full check, which
    names every field at fault. Both make the same EventRow of a good event."""

    def __init__(self, project: Project, *, now: datetime | None = None):
        self.schema = label_schema_parsed(project.label_schema)
        self.control = monitored_control(self.schema).name
        self.source_fields = tuple(sorted(self.schema.source_fields))
        tolerance = settings.MONITOR_FUTURE_TOLERANCE_SECONDS
        self.latest = (now or timezone.now()) + timedelta(seconds=tolerance)
        self._hours: dict[int, datetime] = {}

    def hour_of(self, moment: datetime) -> datetime:
        """The moment's hour in UTC, truncated (events of a file share few hours)."""
        key = (moment - EPOCH) // HOUR
        hour = self._hours.get(key)
        if hour is None:
            if len(self._hours) > 100_000:
                self._hours.clear()
            hour = self._hours[key] = EPOCH + key * HOUR
        return hour

    def parse(self, raw: Any, *, line: int) -> tuple[EventRow | None, dict | None]:
        row = self._parse_plain(raw, line) if type(raw) is dict else None
        if row is not None:
            return row, None
        return self._parse_checked(raw, line=line)

    def _parse_plain(self, raw: dict, line: int) -> EventRow | None:
        """The short path: the row, or None to take the full check."""
        get = raw.get
        event_id = get("event_id")
        if type(event_id) is not str or not 0 < len(event_id) <= MAX_EVENT_ID:
            return None
        version = get("model_version")
        if type(version) is not str or len(version) > MAX_VERSION:
            return None
        version = version.strip()
        model = get("model", DEFAULT_MODEL)
        if type(model) is not str or len(model) > MAX_MODEL:
            return None
        model = model.strip()
        data = get("data")
        if not version or not model or type(data) is not dict or not data:
            return None
        for name in self.source_fields:
            if data.get(name) in (None, ""):
                return None
        metadata = get("metadata") or {}
        if type(metadata) is not dict:
            return None
        score = get("score")
        if score is not None:
            if type(score) is int:
                score = float(score)
            if type(score) is not float or not 0.0 <= score <= 1.0:
                return None
        stamp = get("timestamp")
        if type(stamp) is not str:
            return None
        try:
            timestamp = datetime.fromisoformat(stamp)
        except ValueError:
            return None
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=UTC)
        if timestamp > self.latest:
            return None
        result = get("result")
        try:
            self.schema.validate(result, data=data)
        except ResultError:
            return None
        return EventRow(
            line,
            event_id,
            timestamp,
            model,
            version,
            data,
            result,
            answer_label(result, self.control),
            score,
            metadata,
            self.hour_of(timestamp),
        )

    def _parse_checked(self, raw: Any, *, line: int) -> tuple[EventRow | None, dict | None]:
        if not isinstance(raw, dict):
            return None, {"line": line, "detail": "Each event is a JSON object."}
        errors: dict[str, Any] = {}
        event_id = raw.get("event_id")
        if isinstance(event_id, bool) or not isinstance(event_id, str | int) or event_id == "":
            errors["event_id"] = "Required: a non-empty string (or integer)."
        elif len(str(event_id)) > MAX_EVENT_ID:
            errors["event_id"] = f"At most {MAX_EVENT_ID} characters."
        timestamp = None
        if "timestamp" not in raw:
            errors["timestamp"] = "Required: an ISO 8601 date-time or seconds since the epoch."
        else:
            try:
                timestamp = _timestamp(raw["timestamp"])
            except (ValueError, OverflowError, OSError) as exc:
                errors["timestamp"] = f"Not a date-time: {exc}."
            else:
                if timestamp > self.latest:
                    errors["timestamp"] = (
                        f"{timestamp.isoformat()} is in the future beyond the tolerance of "
                        f"{settings.MONITOR_FUTURE_TOLERANCE_SECONDS} s."
                    )
        version = raw.get("model_version")
        if not isinstance(version, str) or not version.strip() or len(version) > MAX_VERSION:
            errors["model_version"] = f"Required: a string of 1 to {MAX_VERSION} characters."
        model = raw.get("model", DEFAULT_MODEL)
        if not isinstance(model, str) or not model.strip() or len(model) > MAX_MODEL:
            errors["model"] = f"A string of 1 to {MAX_MODEL} characters."
        data = raw.get("data")
        if not isinstance(data, dict) or not data:
            errors["data"] = "Required: the input as an item holds it (a non-empty object)."
        else:
            missing = [f for f in self.source_fields if data.get(f) in (None, "")]
            if missing:
                errors["data"] = f"Missing the field(s) the schema reads: {', '.join(missing)}."
        metadata = raw.get("metadata") or {}
        if not isinstance(metadata, dict):
            errors["metadata"] = "An object of any fields."
        score, problem = _score(raw.get("score"), self.control)
        if problem:
            errors["score"] = problem
        result = raw.get("result")
        if "result" not in raw:
            errors["result"] = "Required: the model's output in the label contract's shape."
        elif "data" not in errors:
            try:
                self.schema.validate(result, data=data)
            except ResultError as exc:
                errors["result"] = exc.errors
        if errors:
            return None, {"line": line, **errors}
        return (
            EventRow(
                line,
                str(event_id),
                timestamp,
                model.strip(),
                version.strip(),
                data,
                result,
                answer_label(result, self.control),
                score,
                metadata,
                self.hour_of(timestamp),
            ),
            None,
        )


def events_check(*, project: Project, raw_events: Sequence[Any]) -> list[EventRow]:
    """Every event parsed, or EventsRefused listing every bad line (1-based)."""
    parser = EventParser(project)
    rows, errors = [], []
    for line, raw in enumerate(raw_events, start=1):
        row, error = parser.parse(raw, line=line)
        if error:
            errors.append(error)
        else:
            rows.append(row)
    if errors:
        raise EventsRefused(errors)
    return rows


def ruleset_for(project: Project, rows: list[EventRow] | None = None) -> RuleSet:
    """The project's active rules compiled, the version ids of `rows` filled in on the way
    (lookups: from the process's memory when they are there)."""
    rules = ingest_lookups(project=project, rows=rows or [])
    return RuleSet(rules, baseline_rate=project.monitor_baseline_rate)


USAGE_SQL = (
    f"SELECT rule_id, hour, count FROM {RuleUsage._meta.db_table} "
    "WHERE rule_id = ANY(%s) AND hour >= %s AND hour < %s"
)


def _usage_loader(ruleset: RuleSet):
    capped = [r.id for r in ruleset.rules if r.capped]

    def load(day: date) -> list[tuple[int, datetime, int]]:
        # Read without a lock, so concurrent calls do not queue behind each other: a cap may be
        # passed by the events of calls routing at the very same moment (a budget, not a quota).
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if connection.vendor != "postgresql":
            return list(
                RuleUsage.objects.filter(
                    rule_id__in=capped, hour__gte=start, hour__lt=start + timedelta(days=1)
                ).values_list("rule_id", "hour", "count")
            )
        with connection.cursor() as cursor:  # a plain statement: most ingest calls read this
            cursor.execute(USAGE_SQL, [capped, start, start + timedelta(days=1)])
            return cursor.fetchall()

    return load


@dataclass(slots=True)
class StoredEvent:
    """An event as it is stored: the parsed row and its routing decision."""

    row: EventRow
    rule_id: int | None
    baseline: bool
    inclusion_probability: float
    priority: int

    @property
    def routed(self) -> bool:
        return self.rule_id is not None or self.baseline


def events_route(ruleset: RuleSet, rows: Iterable[EventRow]) -> list[StoredEvent]:
    caps = CapCounter(loader=_usage_loader(ruleset)) if ruleset.capped else None
    decide = ruleset.decide
    return [
        StoredEvent(
            row,
            *decide(
                row.event_id, row.score, row.label, row.model_version, row.metadata, row.hour, caps
            ),
        )
        for row in rows
    ]


def _counter_upsert(table: str, keys: Sequence[str], rows: list[tuple], adds: Sequence[str]):
    """INSERT ... ON CONFLICT DO UPDATE adding to the counters (PostgreSQL and SQLite)."""
    if not rows:
        return
    columns = list(keys) + list(adds)
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    updates = ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in adds)
    rows = sorted(rows)  # one lock order for concurrent calls
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 500):
            part = rows[start : start + 500]
            sql = (
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
                + ", ".join([placeholders] * len(part))
                + f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
            )
            cursor.execute(sql, [value for row in part for value in row])


def _count_keys(row: EventRow) -> list[tuple[str, str]]:
    """What an event adds to EventCount: its predicted label, and its score's bin."""
    keys = [("label", row.label)]
    if row.score is not None:
        keys.append(("score", SCORE_KEYS[score_bin(row.score)]))
    return keys


def _counts_store(project_id: int, stored: Iterable[StoredEvent]) -> None:
    # One key per event (its label and score bin together), split into the two kinds after.
    per_event: dict[tuple, int] = {}
    get = per_event.get
    for e in stored:
        row = e.row
        score = row.score
        key = (
            row.version_id,
            row.hour,
            row.label,
            None if score is None else score_bin(score),
            e.rule_id is not None or e.baseline,
        )
        per_event[key] = get(key, 0) + 1
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for (version_id, hour, label, score_key, routed), n in per_event.items():
        keys = [("label", label)]
        if score_key is not None:
            keys.append(("score", SCORE_KEYS[score_key]))
        for kind, key in keys:
            counter = counts[version_id, hour, kind, key]
            counter[0] += n
            counter[1] += n if routed else 0
    now = timezone.now()
    EventCount.objects.bulk_create(
        EventCount(
            project_id=project_id,
            version_id=version_id,
            hour=hour,
            kind=kind,
            key=key,
            count=n,
            routed=routed,
            changed_at=now,
        )
        for (version_id, hour, kind, key), (n, routed) in sorted(counts.items())
    )


def _items_for_routed(project: Project, stored: list[StoredEvent]) -> None:
    rows = [
        ItemRow(
            external_id=ITEM_PREFIX + e.row.event_id,
            data=e.row.data,
            priority=e.priority,
            predictions=[
                {"result": e.row.result, "score": e.row.score, "model_version": e.row.model_version}
            ],
            line=e.row.line,
        )
        for e in stored
        if e.routed
    ]
    items_create_searchable(project=project, rows=rows)


EVENT_TABLE = PredictionEvent._meta.db_table
EVENT_COLUMNS = (
    "project_id",
    "event_id",
    "timestamp",
    "version_id",
    "data",
    "result",
    "label",
    "score",
    "metadata",
    "rule_id",
    "baseline",
    "inclusion_probability",
    "actual_label",
)
COPY_SQL = f"COPY {EVENT_TABLE} ({', '.join(EVENT_COLUMNS)}) FROM STDIN"
SCORE_KEYS = tuple(str(n) for n in range(SCORE_BINS))
NULL = "\\N"


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _copy_json(value: Any) -> str:
    # orjson escapes control characters inside strings: only backslashes need escaping.
    text = orjson.dumps(value).decode()
    return text.replace("\\", "\\\\") if "\\" in text else text


def _copy_text(project_id: int, stored: list[StoredEvent]) -> str:
    """The events in COPY's text format (EVENT_COLUMNS' order)."""
    lead = f"{project_id}\t"
    escape, as_json = copy_escape, _copy_json
    lines = []
    append = lines.append
    for e in stored:
        row = e.row
        score, rule_id = row.score, e.rule_id
        append(
            f"{lead}{escape(row.event_id)}\t{row.timestamp.isoformat()}\t{row.version_id}\t"
            f"{as_json(row.data)}\t{as_json(row.result)}\t{escape(row.label)}\t"
            f"{NULL if score is None else repr(score)}\t{as_json(row.metadata)}\t"
            f"{NULL if rule_id is None else rule_id}\t{'t' if e.baseline else 'f'}\t"
            f"{e.inclusion_probability!r}\t\n"
        )
    return "".join(lines)


def _copy_all_new(project_id: int, stored: list[StoredEvent]) -> bool:
    """COPY the events straight into the table, inside a savepoint. False, with nothing
    written, when one of their event ids is taken (stored before, or by a call committing now)."""
    return copy_unless_taken(COPY_SQL, _copy_text(project_id, stored))


# The events and their counts in one statement: each new event goes in (ON CONFLICT skips an
# event_id taken, also by a call committing at the same moment), and only the ones that went in
# are counted. The project row is share-locked as for items, so its deletion waits (events have
# no foreign key constraint); a project deleted already takes no event. The rows travel as one
# JSON parameter: adapting a dozen array parameters cost more than the statement itself.
# {project}: the CTE `project` (its id), with any it reads; {answer}: the statement's answer.
INSERT_RETURNING_SQL = f"""
WITH {{project}}, stored AS (
    INSERT INTO {EVENT_TABLE} ({", ".join(EVENT_COLUMNS)})
    SELECT project.id, e.event_id, e.timestamp, e.version_id, e.data, e.result, e.label,
        e.score, e.metadata, e.rule_id, e.baseline, e.inclusion_probability, ''
    FROM project, jsonb_to_recordset(%s::jsonb) AS e(
        event_id text, timestamp timestamptz, version_id bigint, data jsonb, result jsonb,
        label text, score float8, metadata jsonb, rule_id bigint, baseline boolean,
        inclusion_probability float8
    )
    ON CONFLICT (project_id, event_id) DO NOTHING
    RETURNING event_id
), counted AS (
    INSERT INTO {EventCount._meta.db_table}
        (project_id, version_id, hour, kind, key, count, routed, changed_at)
    SELECT %s, c.version_id, c.hour, c.kind, c.key, count(*), sum(c.routed), %s
    FROM jsonb_to_recordset(%s::jsonb) AS c(
        event_id text, version_id bigint, hour timestamptz, kind text, key text, routed int
    )
    JOIN stored USING (event_id)
    GROUP BY c.version_id, c.hour, c.kind, c.key
)
{{answer}}
"""
# A condition of the project row's read that sets synchronous_commit off for the transaction
# (its own, or the caller's): SET LOCAL inside the statement, which stays one statement
# PostgreSQL keeps prepared. The transaction then commits without waiting for its log to
# reach the disk.
ASYNC_COMMIT_SQL = "AND set_config('synchronous_commit', 'off', true) IS NOT NULL"


def events_insert_sql(project: str, answer: str = "SELECT event_id FROM stored") -> str:
    return INSERT_RETURNING_SQL.format(project=project, answer=answer)


def _project_shared(async_commit: str) -> str:
    table = Project._meta.db_table
    return f"project AS (SELECT id FROM {table} WHERE id = %s {async_commit} FOR SHARE)"


INSERT_SQL = {
    True: events_insert_sql(_project_shared("")),
    False: events_insert_sql(_project_shared(ASYNC_COMMIT_SQL)),
}


def _insert_counted(project_id: int, stored: list[StoredEvent], *, flush: bool = True) -> set[str]:
    """PostgreSQL: the events that are new, stored and counted by one statement (see
    INSERT_RETURNING_SQL); their event ids. `flush` False: the transaction commits without
    waiting for its log to reach the disk (settings.MONITOR_EVENTS_SYNCHRONOUS_COMMIT)."""
    params = [project_id, *events_insert_params(project_id, stored)]
    with prepared_cursor() as cursor:
        cursor.execute(INSERT_SQL[flush], params)
        return {event_id for (event_id,) in cursor.fetchall()}


def events_insert_params(project_id: int, stored: list[StoredEvent]) -> list:
    """The parameters of events_insert_sql after those of its `project` CTE."""
    events, counts = [], []
    for e in stored:
        row = e.row
        events.append(
            {
                "event_id": row.event_id,
                "timestamp": row.timestamp,
                "version_id": row.version_id,
                "data": row.data,
                "result": row.result,
                "label": row.label,
                "score": row.score,
                "metadata": row.metadata,
                "rule_id": e.rule_id,
                "baseline": e.baseline,
                "inclusion_probability": e.inclusion_probability,
            }
        )
        routed = int(e.routed)
        for kind, key in _count_keys(row):
            counts.append(
                {
                    "event_id": row.event_id,
                    "version_id": row.version_id,
                    "hour": row.hour,
                    "kind": kind,
                    "key": key,
                    "routed": routed,
                }
            )
    return [_json(events), project_id, timezone.now(), _json(counts)]


def _existing_event_ids(project: Project, ids: list[str]) -> set[str]:
    existing: set[str] = set()
    if connection.vendor == "postgresql":  # one array parameter, not thousands
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT event_id FROM {EVENT_TABLE} WHERE project_id = %s AND event_id = ANY(%s)",
                [project.pk, ids],
            )
            existing.update(r[0] for r in cursor.fetchall())
        return existing
    step = 500  # SQLite's limit on parameters
    for start in range(0, len(ids), step):
        existing.update(
            PredictionEvent.objects.filter(
                project=project, event_id__in=ids[start : start + step]
            ).values_list("event_id", flat=True)
        )
    return existing


def _insert_orm(project_id: int, stored: list[StoredEvent]) -> None:
    PredictionEvent.objects.bulk_create(
        (
            PredictionEvent(
                project_id=project_id,
                event_id=e.row.event_id,
                timestamp=e.row.timestamp,
                version_id=e.row.version_id,
                data=e.row.data,
                result=e.row.result,
                label=e.row.label,
                score=e.row.score,
                metadata=e.row.metadata,
                rule_id=e.rule_id,
                baseline=e.baseline,
                inclusion_probability=e.inclusion_probability,
            )
            for e in stored
        ),
        batch_size=BATCH_SIZE,
    )


def events_routed_store(project: Project, stored: list[StoredEvent]) -> int:
    """What routed events leave besides themselves: each rule's usage per hour (caps read it)
    and an item per routed event. The number routed."""
    usage: dict[tuple[int, datetime], int] = defaultdict(int)
    for e in stored:
        if e.rule_id is not None:
            usage[e.rule_id, e.row.hour] += 1
    _counter_upsert(
        RuleUsage._meta.db_table,
        ("rule_id", "hour"),
        [(rule_id, hour, n) for (rule_id, hour), n in usage.items()],
        ("count",),
    )
    _items_for_routed(project, stored)
    return sum(1 for e in stored if e.routed)


def events_unique(rows: list[EventRow], report: IngestReport) -> dict[str, EventRow]:
    """The rows by event_id, each repeat in the call counted as a duplicate."""
    unique: dict[str, EventRow] = {}
    for row in rows:
        if row.event_id in unique:
            report.duplicates += 1
        else:
            unique[row.event_id] = row
    return unique


def events_store_few(
    project: Project,
    stored: list[StoredEvent],
    report: IngestReport,
    insert: Callable[[list[StoredEvent]], set[str] | None],
) -> IngestReport | None:
    """PostgreSQL, a few events, routed: `insert` stores and counts them by one statement (the
    event ids it stored, or None when it stored nothing for its caller, then so is the answer),
    in a transaction of its own only when one is routed, with the routed events' items."""
    routed = [e for e in stored if e.routed]
    with transaction.atomic() if routed else nullcontext():
        inserted = insert(stored)
        if inserted is None:
            return None
        if routed:
            report.routed = events_routed_store(
                project, [e for e in routed if e.row.event_id in inserted]
            )
    report.created = len(inserted)
    report.duplicates += len(stored) - len(inserted)
    return report


def events_store(*, project: Project, rows: list[EventRow]) -> IngestReport:
    """Store parsed events: the new ones only, routed, counted, items made for the routed.

    PostgreSQL, a few events (the API's call of one event): one statement stores and counts
    them, no transaction of its own unless one is routed, committed without waiting for the
    log's flush unless MONITOR_EVENTS_SYNCHRONOUS_COMMIT. PostgreSQL, more: routed, then copied
    straight in; should an event_id be taken, the events the project has are set aside and the
    rest routed again (caps count only new events) and inserted skipping conflicts. SQLite: the
    events the project has are set aside first (one writer at a time)."""
    report = IngestReport()
    unique = events_unique(rows, report)
    fresh = list(unique.values())
    ruleset = ruleset_for(project, fresh)
    postgresql = connection.vendor == "postgresql"
    if postgresql and len(fresh) <= COPY_FROM_ROWS:
        flush = settings.MONITOR_EVENTS_SYNCHRONOUS_COMMIT
        return events_store_few(
            project,
            events_route(ruleset, fresh),
            report,
            lambda stored: _insert_counted(project.pk, stored, flush=flush) if stored else set(),
        )
    with transaction.atomic():
        # The project stays while the events go in (Project.delete waits; events have no
        # foreign key constraint), as for items.
        project_lock_for_items(project.pk)
        stored = events_route(ruleset, fresh) if postgresql else None
        if stored is not None and _copy_all_new(project.pk, stored):
            _counts_store(project.pk, stored)
        else:
            existing = _existing_event_ids(project, list(unique))
            stored = events_route(ruleset, (r for r in fresh if r.event_id not in existing))
            if postgresql:
                inserted = _insert_counted(project.pk, stored)
                stored = [e for e in stored if e.row.event_id in inserted]
            else:
                _insert_orm(project.pk, stored)
                _counts_store(project.pk, stored)
        report.routed = events_routed_store(project, stored)
    report.created = len(stored)
    report.duplicates += len(fresh) - len(stored)
    return report


def events_ingest(*, project: Project, raw_events: Sequence[Any]) -> IngestReport:
    """The API's bulk call: all events checked (EventsRefused if any is bad), then stored."""
    if len(raw_events) > MAX_EVENTS_PER_CALL:
        raise EventsRefused(
            [{"line": 0, "detail": f"At most {MAX_EVENTS_PER_CALL} events per call."}]
        )
    rows = events_check(project=project, raw_events=raw_events)
    return events_store(project=project, rows=rows)


def labeled_events_upsert(*, project: Project, updates: dict[int, dict[str, Any]]) -> None:
    """Create or update the LabeledEvent rows of events (by event pk): `updates` holds the
    fields to set (human, actual, item_id). The rollups recompute the buckets they touch."""
    if not updates:
        return
    now = timezone.now()
    pks = list(updates)
    existing = {}
    for start in range(0, len(pks), BATCH_SIZE):
        for labeled in LabeledEvent.objects.filter(event_id__in=pks[start : start + BATCH_SIZE]):
            existing[labeled.event_id] = labeled
    changed, fresh = [], []
    missing = [pk for pk in pks if pk not in existing]
    events = {}
    for start in range(0, len(missing), BATCH_SIZE):
        for event in PredictionEvent.objects.filter(pk__in=missing[start : start + BATCH_SIZE]):
            events[event.pk] = event
    for pk, fields in updates.items():
        labeled = existing.get(pk)
        if labeled is None:
            event = events[pk]
            fresh.append(
                LabeledEvent(
                    project_id=project.pk,
                    event_id=pk,
                    version_id=event.version_id,
                    timestamp=event.timestamp,
                    predicted=event.label,
                    score=event.score,
                    weight=1.0 / event.inclusion_probability
                    if event.inclusion_probability > 0
                    else 0.0,
                    routed_by_rule=event.rule_id is not None,
                    baseline=event.baseline,
                    metadata=event.metadata,
                    changed_at=now,
                    **fields,
                )
            )
        else:
            for name, value in fields.items():
                setattr(labeled, name, value)
            labeled.changed_at = now
            changed.append(labeled)
    LabeledEvent.objects.bulk_create(fresh, batch_size=BATCH_SIZE)
    LabeledEvent.objects.bulk_update(
        changed, ["human", "actual", "item_id", "changed_at"], batch_size=BATCH_SIZE // 4
    )


def actuals_record(*, project: Project, raw_actuals: Sequence[Any]) -> dict[str, Any]:
    """Business outcomes that arrive later, joined to their events by event_id. All or nothing
    for malformed lines (EventsRefused); event ids the project does not have are listed in
    `unknown` and the rest are stored."""
    if len(raw_actuals) > MAX_EVENTS_PER_CALL:
        raise EventsRefused(
            [{"line": 0, "detail": f"At most {MAX_EVENTS_PER_CALL} actuals per call."}]
        )
    schema = label_schema_parsed(project.label_schema)
    control = monitored_control(schema).name
    errors, wanted = [], {}
    for line, raw in enumerate(raw_actuals, start=1):
        if not isinstance(raw, dict):
            errors.append({"line": line, "detail": "Each actual is a JSON object."})
            continue
        event_id = raw.get("event_id")
        if isinstance(event_id, bool) or not isinstance(event_id, str | int) or event_id == "":
            errors.append({"line": line, "event_id": "Required: a non-empty string."})
            continue
        try:
            schema.validate(raw.get("result"))
        except ResultError as exc:
            errors.append({"line": line, "result": exc.errors})
            continue
        wanted[str(event_id)] = raw["result"]
    if errors:
        raise EventsRefused(errors)
    found = {}
    ids = list(wanted)
    for start in range(0, len(ids), BATCH_SIZE):
        found.update(
            PredictionEvent.objects.filter(
                project=project, event_id__in=ids[start : start + BATCH_SIZE]
            ).values_list("event_id", "pk")
        )
    with transaction.atomic():
        events = [
            PredictionEvent(
                pk=pk, actual=wanted[event_id], actual_label=answer_label(wanted[event_id], control)
            )
            for event_id, pk in found.items()
        ]
        PredictionEvent.objects.bulk_update(
            events, ["actual", "actual_label"], batch_size=BATCH_SIZE // 4
        )
        labeled_events_upsert(
            project=project,
            updates={event.pk: {"actual": event.actual_label} for event in events},
        )
    return {"matched": len(found), "unknown": sorted(set(wanted) - set(found))}
