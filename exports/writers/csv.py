"""CSV writer: the item's source fields, then one column per control (lists and objects as JSON).

Optional columns, when the options ask for them: `split`, `gold`, `annotations`, `predictions`
(the last three as JSON). Read back with the csv module or pandas.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import orjson

from exports.records import ExportRecord
from exports.writers.base import Batches, WriteContext
from exports.writers.jsonl import jsonl_extras
from projects.label_schema import LabelSchema

CONTENT_TYPE = "text/csv"
EXTENSION = "csv"
# A spreadsheet runs a cell starting with one of these as a formula (CSV injection). As OWASP
# advises, such a text cell is written with a leading apostrophe, unless raw output is asked.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_defused(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str | int | float):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _defused_row(row: list) -> list:
    return [formula_defused(v) if type(v) is str else v for v in row]


def _header(schema: LabelSchema, data_fields: list[str], context: WriteContext | None) -> list:
    controls = [c.name for c in schema.controls]
    header = ["id", "external_id", *data_fields, *controls, "method", "agreement"]
    options = context.options if context else None
    if options and options.split:
        header.append("split")
    if options and options.include_gold:
        header.append("gold")
    if options and options.include_annotations:
        header.append("annotations")
    if options and options.include_predictions:
        header.append("predictions")
    return header


def _row(
    record: ExportRecord,
    schema: LabelSchema,
    data_fields: list[str],
    context: WriteContext | None,
    raw: bool = False,
) -> list:
    result = record.result or {}
    row = [
        record.item_id,
        record.external_id,
        *(_cell(record.data.get(name)) for name in data_fields),
        *(_cell(result.get(c.name)) for c in schema.controls),
        record.method or "",
        "" if record.agreement is None else record.agreement,
    ]
    options = context.options if context else None
    if options and options.split:
        row.append(record.split or "")
    if options and (
        options.include_gold or options.include_annotations or options.include_predictions
    ):
        extra = jsonl_extras(record, options)
        for key in ("gold", "annotations", "predictions"):
            if key in extra:
                row.append(_cell(extra[key]))
    return row if raw else _defused_row(row)


def csv_lines(
    records: Iterable[ExportRecord],
    *,
    schema: LabelSchema,
    data_fields: list[str],
    raw: bool = False,
) -> Iterator[bytes]:
    """Lines for the direct download (final results only); `raw` leaves formulas as they are."""
    header = _header(schema, data_fields, None)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header if raw else _defused_row(header))
    yield buffer.getvalue().encode()
    buffer.seek(0)
    buffer.truncate()
    for record in records:
        writer.writerow(_row(record, schema, data_fields, None, raw))
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()


def csv_write(batches: Batches, out: BinaryIO, context: WriteContext) -> None:
    schema = context.schema
    data_fields = sorted(schema.source_fields)
    raw = context.options.csv_raw
    header = _header(schema, data_fields, context)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header if raw else _defused_row(header))
    for batch in batches:
        writer.writerows(_row(r, schema, data_fields, context, raw) for r in batch)
        out.write(buffer.getvalue().encode())
        buffer.seek(0)
        buffer.truncate()
    out.write(buffer.getvalue().encode())
