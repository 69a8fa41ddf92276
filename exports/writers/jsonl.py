"""JSONL writer: one item per line with its data, final result, method and agreement."""

import json
from collections.abc import Iterable, Iterator

from exports.records import ExportRecord

CONTENT_TYPE = "application/x-ndjson"
EXTENSION = "jsonl"


def jsonl_lines(records: Iterable[ExportRecord]) -> Iterator[str]:
    for record in records:
        row = {
            "id": record.item_id,
            "external_id": record.external_id,
            "data": record.data,
            "result": record.result,
            "method": record.method,
            "agreement": record.agreement,
        }
        yield json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n"
