"""Creating items from rows (the API's bulk call and every importer end here).

A row is `{"data": {...}, "external_id": ..., "priority": ..., "gold": ..., "predictions": [...],
"annotations": [...]}`. The external id makes creation idempotent: a row whose external id the
project already has is skipped, not duplicated. Without one, the id is a hash of the data, so
re-sending the same rows still adds nothing. Predictions and carried annotations are added only
with the item they came with, so a re-run never duplicates them either.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.db import transaction

from projects.event_hooks import event_emit, event_wanted
from projects.imports.hooks import AnnotationsStored, CarriedAnnotations, annotations_store
from projects.items.bulk import items_insert_new
from projects.items.predictions import predictions_store
from projects.items.search_index import (
    INDEX_NOW_MAX,
    items_search_floor,
    items_search_index_now,
    items_search_index_soon,
)
from projects.label_schema import CHOICE, TEXT, LabelSchema, ResultError
from projects.models import Prediction, Project
from projects.unstorable import NUL, NUL_REFUSE, NUL_STRIP, nul_message, nul_path, nul_stripped

BATCH_SIZE = 2000
MAX_EXTERNAL_ID = 255
MAX_MODEL_VERSION = Prediction._meta.get_field("model_version").max_length


class RowError(ValueError):
    """One row cannot become an item; the message says why."""


@dataclass(slots=True)
class ItemRow:
    external_id: str
    data: dict[str, Any]
    priority: int = 0
    gold: dict | None = None
    width: int | None = None
    height: int | None = None
    predictions: list[dict[str, Any]] | None = None
    annotations: list[dict[str, Any]] | None = None
    line: int = 0


@dataclass
class CreateReport:
    created: int = 0
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.errors)


@dataclass
class BatchReport:
    created: int
    skipped: int
    problems: list[tuple[int, str]]  # (line, reason) of things refused along with the items
    answers_carried: int = 0
    answers_skipped: int = 0
    # Counts an import target keeps beside the job's own (added to the job's options).
    counters: dict[str, int] = field(default_factory=dict)


def data_fingerprint(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha1:" + hashlib.sha1(canonical.encode("utf-8")).hexdigest()


def result_from_cell(value: Any, *, schema: LabelSchema) -> Any:
    """A gold or prediction cell as a result: an object as is, JSON text parsed, and a plain
    label for a schema with one choice or text control (so a CSV column can say 'positive')."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("{"):
            try:
                return json.loads(text)
            except json.JSONDecodeError as exc:
                raise RowError(f"not a JSON object: {exc.msg}") from exc
        if len(schema.controls) == 1 and schema.controls[0].kind in (CHOICE, TEXT):
            return {schema.controls[0].name: text}
    raise RowError("a result is an object keyed by control name")


def _optional_int(raw: Any, name: str) -> int | None:
    if raw in (None, ""):
        return None
    try:
        number = int(raw)
    except (TypeError, ValueError) as exc:
        raise RowError(f"{name} '{raw}' is not a whole number") from exc
    if number < 0:
        raise RowError(f"{name} must not be negative")
    return number


def _predictions(raw: Any, *, schema: LabelSchema, data, width, height) -> list[dict] | None:
    if not raw:
        return None
    if not isinstance(raw, list):
        raise RowError("'predictions' is a list")
    predictions = []
    for index, prediction in enumerate(raw, start=1):
        if not isinstance(prediction, dict) or "result" not in prediction:
            raise RowError(f"prediction #{index} needs a result")
        try:
            result = result_from_cell(prediction["result"], schema=schema)
            schema.validate(result, data=data, width=width, height=height)
        except (RowError, ResultError) as exc:
            raise RowError(f"prediction #{index}: {exc}") from exc
        score = prediction.get("score")
        if score in (None, ""):
            score = None
        else:
            try:
                score = float(score)
            except (TypeError, ValueError) as exc:
                raise RowError(f"prediction #{index}: score '{score}' is not a number") from exc
        version = str(prediction.get("model_version") or "")[:MAX_MODEL_VERSION]
        predictions.append({"result": result, "score": score, "model_version": version})
    return predictions


SIMPLE_ROW_KEYS = frozenset({"data", "external_id"})


class ItemRowParser:
    """Parses rows against one schema; what the schema implies is worked out once, and plain
    rows (data and an external id) take a short path, since imports parse millions of them.
    `nul`: a row with a NUL character is refused (`refuse`) or goes in without its NULs
    (`strip`)."""

    def __init__(self, schema: LabelSchema, *, nul: str = NUL_REFUSE):
        self.schema = schema
        self.source_fields = tuple(sorted(schema.source_fields))
        self.nul_strip = nul == NUL_STRIP

    def parse(self, raw: Any, *, line: int = 0) -> ItemRow:
        """Check one raw row and turn it into an ItemRow, or raise RowError."""
        if not isinstance(raw, dict):
            raise RowError("a row is an object with a 'data' object")
        data = raw.get("data")
        if not isinstance(data, dict) or not data:
            raise RowError("'data' must be a non-empty object")
        for name in self.source_fields:
            if data.get(name) in (None, ""):
                missing = [f for f in self.source_fields if data.get(f) in (None, "")]
                raise RowError(f"missing the field the schema reads: {', '.join(missing)}")
        try:
            _nul_refuse(raw, data)
        except RowError:
            if not self.nul_strip:
                raise
            # Parsed again without its NULs: a field that was only NULs is then missing.
            return self.parse(nul_stripped(raw), line=line)
        if raw.keys() <= SIMPLE_ROW_KEYS:
            external_id = raw.get("external_id")
            if external_id not in (None, ""):
                external_id = str(external_id)
                if len(external_id) <= MAX_EXTERNAL_ID:
                    return ItemRow(external_id=external_id, data=data, line=line)
        return _row_parse(raw, data=data, schema=self.schema, line=line)


def _nul_refuse(raw: dict, data: dict) -> None:
    """A NUL anywhere in the row is its error (PostgreSQL would refuse the whole batch). Flat
    string data, what nearly every row is, is checked without the general walk."""
    for key, value in data.items():
        if type(value) is str:
            if NUL in value or NUL in key:
                raise RowError(nul_message(nul_path({key: value}, "data") or "data"))
        elif value is not None and type(value) not in (int, float, bool):
            if (path := nul_path({key: value}, "data")) is not None:
                raise RowError(nul_message(path))
        elif NUL in key:
            raise RowError(nul_message(nul_path({key: value}, "data") or "data"))
    for key, value in raw.items():
        if key != "data" and value is not None and (path := nul_path(value, key)) is not None:
            raise RowError(nul_message(path))


def item_row_parse(raw: Any, *, schema: LabelSchema, line: int = 0) -> ItemRow:
    """Check one raw row and turn it into an ItemRow, or raise RowError."""
    return ItemRowParser(schema).parse(raw, line=line)


def _row_parse(raw: dict, *, data: dict, schema: LabelSchema, line: int) -> ItemRow:
    external_id = raw.get("external_id")
    if external_id in (None, ""):
        external_id = data_fingerprint(data)
    external_id = str(external_id)
    if len(external_id) > MAX_EXTERNAL_ID:
        raise RowError(f"external_id is longer than {MAX_EXTERNAL_ID} characters")
    priority = raw.get("priority", 0)
    if priority in (None, ""):
        priority = 0
    try:
        priority = int(priority)
    except (TypeError, ValueError) as exc:
        raise RowError(f"priority '{priority}' is not a whole number") from exc
    width = _optional_int(raw.get("width"), "width")
    height = _optional_int(raw.get("height"), "height")
    gold = raw.get("gold")
    if gold in (None, "", {}):
        gold = None
    else:
        try:
            gold = result_from_cell(gold, schema=schema)
            schema.validate(gold, data=data, width=width, height=height)
        except (RowError, ResultError) as exc:
            raise RowError(f"gold answer: {exc}") from exc
    predictions = _predictions(
        raw.get("predictions"), schema=schema, data=data, width=width, height=height
    )
    annotations = raw.get("annotations") or None
    if annotations is not None and not isinstance(annotations, list):
        raise RowError("'annotations' is a list")
    return ItemRow(
        external_id=external_id,
        data=data,
        priority=priority,
        gold=gold,
        width=width,
        height=height,
        predictions=predictions,
        annotations=annotations,
        line=line,
    )


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def items_create_batch(
    *, project: Project, rows: list[ItemRow], answer_options: dict | None = None
) -> BatchReport:
    """Insert one batch atomically, with the predictions and carried annotations of the items it
    creates. Duplicates (in the batch or the project) are skipped, so a batch may be re-run
    after a crash without harm. Inside a caller's transaction the batch is part of it, with no
    savepoint of its own (two round trips a batch): an error leaves that whole transaction to
    roll back."""
    announce = event_wanted(project_id=project.pk, event="item.created")
    want_ids = announce or any(row.predictions or row.annotations for row in rows)
    stored = AnnotationsStored()
    with transaction.atomic(savepoint=False):
        created, created_ids = items_insert_new(project_id=project.pk, rows=rows, want_ids=want_ids)
        if announce and created_ids:  # one event per batch, items in insertion order
            event_emit(
                project_id=project.pk,
                event="item.created",
                ids={"items": sorted(created_ids.values())},
            )
        if want_ids:
            taken = {}
            for row in rows:  # the first row of an external id is the one inserted
                if row.external_id in created_ids and row.external_id not in taken:
                    taken[row.external_id] = row
            predictions_store(
                [
                    Prediction(item_id=created_ids[external_id], **prediction)
                    for external_id, row in taken.items()
                    for prediction in row.predictions or ()
                ]
            )
            carried = [
                CarriedAnnotations(
                    item_id=created_ids[external_id],
                    line=row.line,
                    data=row.data,
                    width=row.width,
                    height=row.height,
                    annotations=row.annotations,
                )
                for external_id, row in taken.items()
                if row.annotations
            ]
            stored = annotations_store(project, carried, answer_options)
    return BatchReport(
        created=created,
        skipped=len(rows) - created,
        problems=stored.problems,
        answers_carried=stored.carried,
        answers_skipped=stored.skipped,
    )


def items_create_searchable(*, project: Project, rows: list[ItemRow]) -> int:
    """Create parsed items batch by batch and make them searchable: a few (INDEX_NOW_MAX) in
    this transaction, more by the indexer once it commits. The number created."""
    if not rows:
        return 0
    if len(rows) <= INDEX_NOW_MAX:
        created = items_create_batch(project=project, rows=rows).created
        items_search_index_now(project.pk, [row.external_id for row in rows])
        return created
    search_floor = items_search_floor(project.pk)  # the indexer reads only what is made here
    created = sum(
        items_create_batch(project=project, rows=batch).created
        for batch in _batches(rows, BATCH_SIZE)
    )
    if created:
        items_search_index_soon(project.pk, from_id=search_floor)
    return created


def items_create(
    *, project: Project, raw_rows: Iterable[tuple[int, Any]], batch_size: int = BATCH_SIZE
) -> CreateReport:
    """Create items from (line number, raw row) pairs. Bad rows (or the exception a reader gave
    for them) are reported by line; good rows go in, batch by batch. The new items become
    searchable once the caller's transaction commits (projects.items.search_index)."""
    parse = ItemRowParser(LabelSchema(project.label_schema)).parse
    report = CreateReport()

    def parsed() -> Iterator[ItemRow]:
        for line, raw in raw_rows:
            if isinstance(raw, Exception):  # the reader could not parse this line
                report.errors.append({"line": line, "reason": str(raw)})
                continue
            try:
                yield parse(raw, line=line)
            except RowError as exc:
                report.errors.append({"line": line, "reason": str(exc)})

    # The indexer then reads only what this call can have made, not the whole project.
    search_floor = items_search_floor(project.pk)
    for batch in _batches(parsed(), batch_size):
        result = items_create_batch(project=project, rows=batch)
        report.created += result.created
        report.skipped += result.skipped
        report.errors.extend({"line": line, "reason": reason} for line, reason in result.problems)
    if report.created:
        items_search_index_soon(project.pk, from_id=search_floor)
    return report
