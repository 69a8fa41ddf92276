"""A batch's final results as an Arrow table, parsed in C from the database's JSON text.

One typed column per control (the same types the Parquet writer stores). The label counts of
the manifest come from these columns with Arrow's value_counts, so counting a million results
costs no Python per item.
"""

from __future__ import annotations

import functools
import io
from typing import TYPE_CHECKING

import orjson

from projects import label_schema as ls
from projects.label_schema import LabelSchema

if TYPE_CHECKING:
    import pyarrow as pa


@functools.cache
def control_types() -> dict[str, pa.DataType]:
    """The Arrow type of each control kind's column (built on first use: pyarrow loads only in
    the processes that export)."""
    import pyarrow as pa

    span = pa.struct([("start", pa.int64()), ("end", pa.int64()), ("label", pa.string())])
    box = pa.struct(
        [
            ("x", pa.float64()),
            ("y", pa.float64()),
            ("width", pa.float64()),
            ("height", pa.float64()),
            ("label", pa.string()),
        ]
    )
    polygon = pa.struct([("points", pa.list_(pa.list_(pa.float64()))), ("label", pa.string())])
    return {
        ls.CHOICE: pa.string(),
        ls.MULTI: pa.list_(pa.string()),
        ls.SPANS: pa.list_(span),
        ls.BOXES: pa.list_(box),
        ls.POLYGONS: pa.list_(polygon),
        ls.TEXT: pa.string(),
        ls.PAIRWISE: pa.string(),
    }


EMPTY_RESULT = "{}"


def results_arrow_schema(schema: LabelSchema) -> pa.Schema:
    import pyarrow as pa

    types = control_types()
    return pa.schema([(c.name, types[c.kind]) for c in schema.controls])


def results_table(result_texts: list[str | None], schema: LabelSchema) -> pa.Table:
    """One row per result's JSON text (None, for an item without a final result, is a row of
    nulls)."""
    import pyarrow.json as pa_json

    arrow_schema = results_arrow_schema(schema)
    if not result_texts:
        return arrow_schema.empty_table()
    text = "\n".join([t or EMPTY_RESULT for t in result_texts]).encode()
    options = pa_json.ParseOptions(explicit_schema=arrow_schema, unexpected_field_behavior="ignore")
    # One block, one thread: for a batch this size the thread pool costs more than it saves.
    read = pa_json.ReadOptions(use_threads=False, block_size=max(len(text) + 1, 1 << 20))
    table = pa_json.read_json(io.BytesIO(text), read_options=read, parse_options=options)
    # The reader puts unlisted columns last and may order them its way: take the schema's order.
    return table.select(arrow_schema.names)


def data_fields_table(data_texts: list[str], fields: list[str]) -> pa.Table:
    """The named fields of each item's data as string columns (JSON text for non-strings)."""
    import pyarrow as pa
    import pyarrow.json as pa_json

    arrow_schema = pa.schema([(name, pa.string()) for name in fields])
    if not data_texts or not fields:
        return pa.table({name: pa.array([], pa.string()) for name in fields})
    text = "\n".join(data_texts).encode()
    options = pa_json.ParseOptions(explicit_schema=arrow_schema, unexpected_field_behavior="ignore")
    read = pa_json.ReadOptions(use_threads=False, block_size=max(len(text) + 1, 1 << 20))
    try:
        table = pa_json.read_json(io.BytesIO(text), read_options=read, parse_options=options)
        return table.select(fields)
    except pa.ArrowInvalid:
        # A field holds a number, list or object somewhere in this batch: go item by item.
        rows = [orjson.loads(t) for t in data_texts]
        return pa.table(
            {name: pa.array([_text(row.get(name)) for row in rows], pa.string()) for name in fields}
        )


def _text(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def _counts(values: pa.Array) -> dict[str, int]:
    import pyarrow.compute as pc

    counted = pc.value_counts(values)
    out: dict[str, int] = {}
    for label, count in zip(
        counted.field("values").to_pylist(), counted.field("counts").to_pylist(), strict=True
    ):
        if label not in (None, ""):
            out[label] = count
    return out


def table_label_counts(table: pa.Table, schema: LabelSchema) -> dict[str, dict[str, int]]:
    """control name -> label -> occurrences (a box or span counts once each)."""
    import pyarrow.compute as pc

    counts: dict[str, dict[str, int]] = {}
    for control in schema.controls:
        column = table.column(control.name)
        if control.kind in (ls.CHOICE, ls.PAIRWISE):
            found = _counts(column)
        elif control.kind == ls.MULTI:
            found = _counts(pc.list_flatten(column))
        elif control.kind in (ls.SPANS, ls.BOXES, ls.POLYGONS):
            found = _counts(pc.struct_field(pc.list_flatten(column), "label"))
        else:
            continue
        if found:
            counts[control.name] = found
    return counts
