"""Creating items from rows (the API's bulk call and every importer end here).

A row is `{"data": {...}, "external_id": ..., "priority": ..., "gold": ...}`. The external id makes
creation idempotent: a row whose external id the project already has is skipped, not duplicated.
Without one, the id is a hash of the data, so re-sending the same rows still adds nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.db import transaction

from projects.label_schema import LabelSchema, ResultError
from projects.models import Item, Project

BATCH_SIZE = 2000
MAX_EXTERNAL_ID = 255


class RowError(ValueError):
    """One row cannot become an item; the message says why."""


@dataclass
class ItemRow:
    external_id: str
    data: dict[str, Any]
    priority: int = 0
    gold: dict | None = None
    width: int | None = None
    height: int | None = None


@dataclass
class CreateReport:
    created: int = 0
    skipped: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)

    @property
    def failed(self) -> int:
        return len(self.errors)


def data_fingerprint(data: dict[str, Any]) -> str:
    canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "sha1:" + hashlib.sha1(canonical.encode("utf-8")).hexdigest()


def item_row_parse(raw: Any, *, schema: LabelSchema) -> ItemRow:
    """Check one raw row and turn it into an ItemRow, or raise RowError."""
    if not isinstance(raw, dict):
        raise RowError("a row is an object with a 'data' object")
    data = raw.get("data")
    if not isinstance(data, dict) or not data:
        raise RowError("'data' must be a non-empty object")
    missing = sorted(f for f in schema.source_fields if f not in data or data[f] in (None, ""))
    if missing:
        raise RowError(f"missing the field the schema reads: {', '.join(missing)}")
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
    gold = raw.get("gold")
    if gold in (None, "", {}):
        gold = None
    else:
        try:
            schema.validate(gold, data=data)
        except ResultError as exc:
            raise RowError(f"gold answer: {exc}") from exc
    return ItemRow(
        external_id=external_id,
        data=data,
        priority=priority,
        gold=gold,
        width=raw.get("width"),
        height=raw.get("height"),
    )


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


def items_create_batch(*, project: Project, rows: list[ItemRow]) -> tuple[int, int]:
    """Insert one batch atomically; return (created, skipped). Duplicates (in the batch or the
    project) are skipped, so a batch may be re-run after a crash without harm."""
    unique: dict[str, ItemRow] = {}
    for row in rows:
        unique.setdefault(row.external_id, row)
    with transaction.atomic():
        existing = set(
            Item.objects.filter(project=project, external_id__in=list(unique)).values_list(
                "external_id", flat=True
            )
        )
        new = [
            Item(
                project=project,
                external_id=row.external_id,
                data=row.data,
                priority=row.priority,
                gold=row.gold,
                width=row.width,
                height=row.height,
            )
            for external_id, row in unique.items()
            if external_id not in existing
        ]
        Item.objects.bulk_create(new, ignore_conflicts=True, batch_size=BATCH_SIZE)
    return len(new), len(rows) - len(new)


def items_create(
    *, project: Project, raw_rows: Iterable[tuple[int, Any]], batch_size: int = BATCH_SIZE
) -> CreateReport:
    """Create items from (line number, raw row) pairs. Bad rows (or the exception a reader gave
    for them) are reported by line; good rows go in, batch by batch."""
    schema = LabelSchema(project.label_schema)
    report = CreateReport()

    def parsed() -> Iterator[ItemRow]:
        for line, raw in raw_rows:
            if isinstance(raw, Exception):  # the reader could not parse this line
                report.errors.append({"line": line, "reason": str(raw)})
                continue
            try:
                yield item_row_parse(raw, schema=schema)
            except RowError as exc:
                report.errors.append({"line": line, "reason": str(exc)})

    for batch in _batches(parsed(), batch_size):
        created, skipped = items_create_batch(project=project, rows=batch)
        report.created += created
        report.skipped += skipped
    return report
