"""CSV writer: the item's data fields, then one column per control (lists and objects as JSON)."""

import csv
import io
import json
from collections.abc import Iterable, Iterator

from exports.records import ExportRecord
from projects.label_schema import LabelSchema

CONTENT_TYPE = "text/csv"
EXTENSION = "csv"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def csv_lines(
    records: Iterable[ExportRecord], *, schema: LabelSchema, data_fields: list[str]
) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    controls = [c.name for c in schema.controls]
    writer.writerow(["id", "external_id", *data_fields, *controls, "method", "agreement"])
    for record in records:
        result = record.result or {}
        writer.writerow(
            [
                record.item_id,
                record.external_id,
                *(_cell(record.data.get(name)) for name in data_fields),
                *(_cell(result.get(name)) for name in controls),
                record.method or "",
                "" if record.agreement is None else record.agreement,
            ]
        )
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
