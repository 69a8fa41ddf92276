"""JSONL writer: one item per line with its data, final result, method and agreement.

Optional keys, when the options ask for them: `annotations` (annotator, time, result), `gold`,
`predictions`, `split`. Keys are in sorted order and the separators compact, so repeat exports
are byte-identical. `data` and `result` are the database's own JSON text, spliced in as they are:
decoding and re-encoding them per item would cost more than everything else together.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, BinaryIO

import orjson

from exports.options import ExportOptions
from exports.records import ExportRecord
from exports.writers.base import Batches, WriteContext

CONTENT_TYPE = "application/x-ndjson"
EXTENSION = "jsonl"


def jsonl_extras(record: ExportRecord, options: ExportOptions) -> dict[str, Any]:
    """The optional keys the options ask for (also the CSV writer's extra columns)."""
    extras: dict[str, Any] = {}
    if options.include_annotations:
        extras["annotations"] = [
            {
                "id": a.annotation_id,
                "annotator": a.annotator,
                "annotator_id": a.annotator_id,
                "result": a.result,
                "lead_time": a.lead_time,
                "created_at": a.created_at,
                "updated_at": a.updated_at,
            }
            for a in record.annotations
        ]
    if options.include_gold:
        extras["gold"] = record.gold
    if options.include_predictions:
        extras["predictions"] = [
            {"model_version": p.model_version, "result": p.result, "score": p.score}
            for p in record.predictions
        ]
    return extras


def _json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def jsonl_string(value: str) -> str:
    """A JSON string, as orjson writes it; plain strings (no quote, backslash or control
    character) skip the encoder: this runs for several fields of every line."""
    if value.isprintable() and '"' not in value and "\\" not in value:
        return f'"{value}"'
    return orjson.dumps(value).decode()


def jsonl_line_plain(record: ExportRecord) -> str:
    """The line without optional keys, in one format string (the path a million items take)."""
    agreement = "null" if record.agreement is None else repr(float(record.agreement))
    method = "null" if record.method is None else jsonl_string(record.method)
    result = "null" if record.result_json is None else record.result_json
    return (
        f'{{"agreement":{agreement},"data":{record.data_json},'
        f'"external_id":{jsonl_string(record.external_id)},"id":{record.item_id},'
        f'"method":{method},"result":{result},"status":{jsonl_string(record.status)}}}\n'
    )


def _plain(options: ExportOptions) -> bool:
    return not (
        options.include_annotations
        or options.include_gold
        or options.include_predictions
        or options.split
    )


def jsonl_line(record: ExportRecord, options: ExportOptions) -> str:
    """One line; keys written in sorted order by hand (the same bytes as a sorted dump)."""
    if _plain(options):
        return jsonl_line_plain(record)
    agreement = "null" if record.agreement is None else repr(float(record.agreement))
    method = "null" if record.method is None else jsonl_string(record.method)
    result = "null" if record.result_json is None else record.result_json
    extras = jsonl_extras(record, options)
    parts = [f'{{"agreement":{agreement}']
    if "annotations" in extras:
        parts.append(f'"annotations":{_json(extras["annotations"])}')
    parts.append(f'"data":{record.data_json},"external_id":{jsonl_string(record.external_id)}')
    if "gold" in extras:
        parts.append(f'"gold":{_json(extras["gold"])}')
    parts.append(f'"id":{record.item_id},"method":{method}')
    if "predictions" in extras:
        parts.append(f'"predictions":{_json(extras["predictions"])}')
    parts.append(f'"result":{result}')
    if options.split:
        parts.append(f'"split":"{record.split}"')
    parts.append(f'"status":{jsonl_string(record.status)}}}\n')
    return ",".join(parts)


def jsonl_lines(records: Iterable[ExportRecord]) -> Iterator[bytes]:
    """Lines for the direct download (final results only)."""
    for record in records:
        yield jsonl_line_plain(record).encode()


def jsonl_write(batches: Batches, out: BinaryIO, context: WriteContext) -> None:
    options = context.options
    if _plain(options):
        for batch in batches:
            out.write("".join([jsonl_line_plain(r) for r in batch]).encode())
        return
    for batch in batches:
        out.write("".join([jsonl_line(r, options) for r in batch]).encode())
