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
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from labeling.monitor.models import (
    EventCount,
    LabeledEvent,
    ModelVersion,
    MonitoredModel,
    PredictionEvent,
    RoutingRule,
    RuleUsage,
)
from labeling.monitor.routing import CapCounter, RuleSet
from labeling.monitor.stats import score_bin
from projects.items.bulk import project_lock_for_items
from projects.items.create import ItemRow, items_create_batch
from projects.items.search_index import items_search_index_soon
from projects.label_schema import CHOICE, LabelSchema, ResultError
from projects.models import Project

MAX_EVENTS_PER_CALL = 10_000
MAX_EVENT_ID = 255
MAX_VERSION = ModelVersion._meta.get_field("version").max_length
DEFAULT_MODEL = "default"
BATCH_SIZE = 2000
ITEM_PREFIX = "event:"
UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE
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
    """Checks raw events against one project's schema; built once per call or job."""

    def __init__(self, project: Project, *, now: datetime | None = None):
        self.schema = LabelSchema(project.label_schema)
        self.control = monitored_control(self.schema).name
        self.source_fields = tuple(sorted(self.schema.source_fields))
        tolerance = settings.MONITOR_FUTURE_TOLERANCE_SECONDS
        self.latest = (now or timezone.now()) + timedelta(seconds=tolerance)

    def parse(self, raw: Any, *, line: int) -> tuple[EventRow | None, dict | None]:
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
        if not isinstance(model, str) or not model.strip() or len(model) > 100:
            errors["model"] = "A string of 1 to 100 characters."
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
                line=line,
                event_id=str(event_id),
                timestamp=timestamp,
                model=model.strip(),
                model_version=version.strip(),
                data=data,
                result=result,
                label=answer_label(result, self.control),
                score=score,
                metadata=metadata,
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


def versions_register(*, project: Project, rows: Iterable[EventRow]) -> dict[str, int]:
    """The ids of the versions the events name, registering new ones (and their models)."""
    first_seen: dict[str, tuple[datetime, str]] = {}
    for row in rows:
        seen = first_seen.get(row.model_version)
        if seen is None or row.timestamp < seen[0]:
            first_seen[row.model_version] = (row.timestamp, row.model)
    known = dict(
        ModelVersion.objects.filter(project=project, version__in=first_seen).values_list(
            "version", "id"
        )
    )
    missing = {v: s for v, s in first_seen.items() if v not in known}
    if missing:
        names = {model for _, model in missing.values()}
        MonitoredModel.objects.bulk_create(
            [MonitoredModel(project=project, name=n) for n in sorted(names)],
            ignore_conflicts=True,
        )
        models = dict(
            MonitoredModel.objects.filter(project=project, name__in=names).values_list("name", "id")
        )
        ModelVersion.objects.bulk_create(
            [
                ModelVersion(
                    project=project, model_id=models[model], version=version, first_seen_at=at
                )
                for version, (at, model) in sorted(missing.items())
            ],
            ignore_conflicts=True,
        )
        known = dict(
            ModelVersion.objects.filter(project=project, version__in=first_seen).values_list(
                "version", "id"
            )
        )
    return known


def ruleset_for(project: Project) -> RuleSet:
    rules = RoutingRule.objects.filter(project=project, is_active=True)
    return RuleSet(rules, baseline_rate=project.monitor_baseline_rate)


def _hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _caps_load(ruleset: RuleSet, rows: list[EventRow]) -> CapCounter:
    caps = CapCounter()
    capped = [
        r.id for r in ruleset.rules if r.cap_per_day is not None or r.cap_per_hour is not None
    ]
    if not capped:
        return caps
    # Read without a lock, so concurrent calls do not queue behind each other: a cap may be
    # passed by the events of calls routing at the very same moment (a budget, not a quota).
    days = {_hour(row.timestamp).replace(hour=0) for row in rows}
    for day in days:
        for rule_id, hour, count in RuleUsage.objects.filter(
            rule_id__in=capped, hour__gte=day, hour__lt=day + timedelta(days=1)
        ).values_list("rule_id", "hour", "count"):
            caps.load(rule_id, hour, count)
    return caps


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


def _counts_store(project: Project, stored: list[tuple[EventRow, int, bool]]) -> None:
    counts: dict[tuple, list[int]] = defaultdict(lambda: [0, 0])
    for row, version_id, routed in stored:
        hour = _hour(row.timestamp)
        keys = [("label", row.label)]
        if row.score is not None:
            keys.append(("score", str(score_bin(row.score))))
        for kind, key in keys:
            counter = counts[version_id, hour, kind, key]
            counter[0] += 1
            counter[1] += routed
    now = timezone.now()
    EventCount.objects.bulk_create(
        EventCount(
            project_id=project.pk,
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


def _items_for_routed(project: Project, routed: list[tuple[EventRow, int]]) -> None:
    rows = [
        ItemRow(
            external_id=ITEM_PREFIX + row.event_id,
            data=row.data,
            priority=priority,
            predictions=[
                {"result": row.result, "score": row.score, "model_version": row.model_version}
            ],
            line=row.line,
        )
        for row, priority in routed
    ]
    for start in range(0, len(rows), BATCH_SIZE):
        items_create_batch(project=project, rows=rows[start : start + BATCH_SIZE])
    if rows:
        items_search_index_soon(project.pk)


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
NULL = "\\N"


def _copy_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _copy_json(value: Any) -> str:
    # orjson escapes control characters inside strings: only backslashes need escaping.
    return orjson.dumps(value).decode().replace("\\", "\\\\")


@dataclass(slots=True)
class _Stored:
    """An event as it is stored: the parsed row, its version and its routing decision."""

    row: EventRow
    version_id: int
    rule_id: int | None
    baseline: bool
    inclusion_probability: float


def _copy_line(project_id: int, e: _Stored) -> str:
    row = e.row
    return (
        f"{project_id}\t{_copy_escape(row.event_id)}\t{row.timestamp.isoformat()}\t"
        f"{e.version_id}\t{_copy_json(row.data)}\t{_copy_json(row.result)}\t"
        f"{_copy_escape(row.label)}\t{NULL if row.score is None else repr(row.score)}\t"
        f"{_copy_json(row.metadata)}\t{NULL if e.rule_id is None else e.rule_id}\t"
        f"{'t' if e.baseline else 'f'}\t{e.inclusion_probability!r}\t\n"
    )


def _events_insert(project_id: int, stored: list[_Stored]) -> None:
    """PostgreSQL: COPY straight into the table (the ids were checked new just before), in a
    savepoint; should a concurrent call have stored one of them meanwhile, the savepoint rolls
    back and the ORM inserts skipping conflicts. Elsewhere: the ORM."""
    # A few events (a single-event call) go in by one INSERT ... ON CONFLICT DO NOTHING, with no
    # savepoint round trips; COPY pays off from a few dozen rows on.
    if connection.vendor == "postgresql" and len(stored) > COPY_FROM_ROWS:
        columns = ", ".join(EVENT_COLUMNS)
        text = "".join([_copy_line(project_id, e) for e in stored])
        try:
            with (
                transaction.atomic(),
                connection.wrap_database_errors,
                connection.cursor() as cursor,
                cursor.cursor.copy(
                    f"COPY {PredictionEvent._meta.db_table} ({columns}) FROM STDIN"
                ) as copy,
            ):
                copy.write(text)
            return
        except IntegrityError as exc:
            if getattr(exc.__cause__, "sqlstate", None) != UNIQUE_VIOLATION:
                raise
    # A concurrent call may store the same event_id first: the unique index keeps one.
    PredictionEvent.objects.bulk_create(
        (
            PredictionEvent(
                project_id=project_id,
                event_id=e.row.event_id,
                timestamp=e.row.timestamp,
                version_id=e.version_id,
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
        ignore_conflicts=True,
    )


def _existing_event_ids(project: Project, ids: list[str]) -> set[str]:
    existing: set[str] = set()
    if connection.vendor == "postgresql":  # one array parameter, not thousands
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT event_id FROM {PredictionEvent._meta.db_table} "
                "WHERE project_id = %s AND event_id = ANY(%s)",
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


def events_store(
    *, project: Project, rows: list[EventRow], ruleset: RuleSet | None = None
) -> IngestReport:
    """Store parsed events (one transaction): new ones only, routed, counted, items made."""
    report = IngestReport()
    unique: dict[str, EventRow] = {}
    for row in rows:
        if row.event_id in unique:
            report.duplicates += 1
        else:
            unique[row.event_id] = row
    ruleset = ruleset or ruleset_for(project)
    with transaction.atomic():
        # The project stays while the events go in (Project.delete waits; events have no
        # foreign key constraint), as for items.
        project_lock_for_items(project.pk)
        existing = _existing_event_ids(project, list(unique))
        fresh = [row for event_id, row in unique.items() if event_id not in existing]
        report.duplicates += len(unique) - len(fresh)
        if not fresh:
            return report
        versions = versions_register(project=project, rows=fresh)
        caps = _caps_load(ruleset, fresh) if ruleset.capped else None
        events, stored, routed_rows, usage = [], [], [], defaultdict(int)
        for row in fresh:
            hour = _hour(row.timestamp)
            decision = ruleset.route(
                event_id=row.event_id,
                score=row.score,
                label=row.label,
                model_version=row.model_version,
                metadata=row.metadata,
                hour=hour,
                caps=caps,
            )
            version_id = versions[row.model_version]
            events.append(
                _Stored(
                    row,
                    version_id,
                    decision.rule_id,
                    decision.baseline,
                    decision.inclusion_probability,
                )
            )
            routed = decision.routed
            stored.append((row, version_id, routed))
            if routed:
                routed_rows.append((row, decision.priority))
            if decision.rule_id is not None:
                usage[decision.rule_id, hour] += 1
        _events_insert(project.pk, events)
        _counts_store(project, stored)
        _counter_upsert(
            RuleUsage._meta.db_table,
            ("rule_id", "hour"),
            [(rule_id, hour, n) for (rule_id, hour), n in usage.items()],
            ("count",),
        )
        _items_for_routed(project, routed_rows)
    report.created = len(fresh)
    report.routed = len(routed_rows)
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
    schema = LabelSchema(project.label_schema)
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
