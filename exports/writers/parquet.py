"""Parquet writer: one typed column per control, written by record batches.

Columns: id, external_id, the source fields (as text), data (the item's JSON), status, then one
column per control typed by its kind (choice -> string, multi -> list<string>, spans ->
list<struct<start, end, label>>, boxes -> list<struct<x, y, width, height, label>>, polygons ->
list<struct<points, label>>, text and pairwise -> string), method, agreement, and split / gold /
annotations / predictions when asked for. The label schema rides along in the file's metadata
under `quorum.label_schema`. Control columns come from the batch's Arrow results (parsed in C);
row groups hold ROWS_PER_GROUP rows.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson

from exports.arrow_results import control_types, data_fields_table
from exports.records import ExportBatch
from exports.writers.base import Batches, WriteContext

if TYPE_CHECKING:
    import pyarrow as pa

CONTENT_TYPE = "application/vnd.apache.parquet"
EXTENSION = "parquet"
ROWS_PER_GROUP = 20_000


@functools.cache
def _nested_types() -> tuple[pa.DataType, pa.DataType]:
    """The annotation and prediction struct types (built on first use, like control_types)."""
    import pyarrow as pa

    annotation = pa.struct(
        [
            ("id", pa.int64()),
            ("annotator", pa.string()),
            ("annotator_id", pa.int64()),
            ("lead_time", pa.float64()),
            ("created_at", pa.timestamp("us", tz="UTC")),
            ("result", pa.string()),
        ]
    )
    prediction = pa.struct(
        [("model_version", pa.string()), ("score", pa.float64()), ("result", pa.string())]
    )
    return annotation, prediction


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def parquet_schema(context: WriteContext) -> pa.Schema:
    import pyarrow as pa

    annotation, prediction = _nested_types()
    schema = context.schema
    fields = [("id", pa.int64()), ("external_id", pa.string())]
    fields += [(name, pa.string()) for name in sorted(schema.source_fields)]
    fields += [("data", pa.string()), ("status", pa.string())]
    types = control_types()
    fields += [(c.name, types[c.kind]) for c in schema.controls]
    fields += [("method", pa.string()), ("agreement", pa.float64())]
    options = context.options
    if options.split:
        fields.append(("split", pa.string()))
    if options.include_gold:
        fields.append(("gold", pa.string()))
    if options.include_annotations:
        fields.append(("annotations", pa.list_(annotation)))
    if options.include_predictions:
        fields.append(("predictions", pa.list_(prediction)))
    names = [name for name, _ in fields]
    if len(set(names)) != len(names):
        # A control named like a data field or a base column: the data model allows it,
        # a table does not.
        raise ValueError("a control or data field is named like another column; rename it")
    metadata = {"quorum.label_schema": orjson.dumps(schema.as_json(), option=orjson.OPT_SORT_KEYS)}
    return pa.schema(fields, metadata=metadata)


def parquet_record_batch(batch: ExportBatch, context: WriteContext, schema: pa.Schema):
    import pyarrow as pa

    annotation, prediction = _nested_types()
    label_schema = context.schema
    options = context.options
    source_fields = sorted(label_schema.source_fields)
    data_texts = [r.data_json for r in batch]
    columns: dict[str, Any] = {
        "id": pa.array([r.item_id for r in batch], pa.int64()),
        "external_id": pa.array([r.external_id for r in batch], pa.string()),
    }
    sources = data_fields_table(data_texts, source_fields)
    for name in source_fields:
        columns[name] = sources.column(name)
    columns["data"] = pa.array(data_texts, pa.string())
    columns["status"] = pa.array([r.status for r in batch], pa.string())
    results = batch.results(label_schema)
    for control in label_schema.controls:
        columns[control.name] = results.column(control.name)
    columns["method"] = pa.array([r.method for r in batch], pa.string())
    columns["agreement"] = pa.array([r.agreement for r in batch], pa.float64())
    if options.split:
        columns["split"] = pa.array([r.split for r in batch], pa.string())
    if options.include_gold:
        columns["gold"] = pa.array([_json(r.gold) for r in batch], pa.string())
    if options.include_annotations:
        columns["annotations"] = pa.array(
            [
                [
                    {
                        "id": a.annotation_id,
                        "annotator": a.annotator,
                        "annotator_id": a.annotator_id,
                        "lead_time": a.lead_time,
                        "created_at": a.created_at,
                        "result": _json(a.result),
                    }
                    for a in r.annotations
                ]
                for r in batch
            ],
            pa.list_(annotation),
        )
    if options.include_predictions:
        columns["predictions"] = pa.array(
            [
                [
                    {"model_version": p.model_version, "score": p.score, "result": _json(p.result)}
                    for p in r.predictions
                ]
                for r in batch
            ],
            pa.list_(prediction),
        )
    arrays = [columns[field.name] for field in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def parquet_write(batches: Batches, out: BinaryIO, context: WriteContext) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema(context)
    pending: list[pa.Table] = []
    rows = 0
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for batch in batches:
            pending.append(parquet_record_batch(batch, context, schema))
            rows += len(batch)
            if rows >= ROWS_PER_GROUP:
                writer.write_table(pa.concat_tables(pending), row_group_size=ROWS_PER_GROUP)
                pending, rows = [], 0
        if pending:
            writer.write_table(pa.concat_tables(pending), row_group_size=ROWS_PER_GROUP)
