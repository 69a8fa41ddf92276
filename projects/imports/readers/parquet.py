"""Parquet, read by row groups in record batches (pyarrow); chunks are ranges of row groups."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import IO, TYPE_CHECKING, Any

from projects.imports.readers.rows import ChunkSpec, FileError, Plan, Record

if TYPE_CHECKING:
    import pyarrow.parquet as pq

BATCH_ROWS = 10_000


def _open(stream: IO[bytes]) -> pq.ParquetFile:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.ParquetFile(stream)
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise FileError(f"Not a readable Parquet file: {exc}") from exc


def parquet_plan(stream: IO[bytes], *, chunk_rows: int) -> Plan:
    """Chunks of whole row groups, about `chunk_rows` rows each; `start`/`end` are row-group
    indexes and `first_line` the file row number where a chunk begins."""
    metadata = _open(stream).metadata
    if metadata.num_rows == 0:
        raise FileError("The file is empty (no rows).")
    chunks, group, row = [], 0, 1
    while group < metadata.num_row_groups:
        first_group, first_row, rows = group, row, 0
        while group < metadata.num_row_groups and (rows == 0 or rows < chunk_rows):
            rows += metadata.row_group(group).num_rows
            group += 1
        chunks.append(
            ChunkSpec(start=first_group, end=group, first_line=first_row, position=first_row - 1)
        )
        row += rows
    return Plan(chunks=chunks, progress_total=metadata.num_rows)


def _json_safe(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    return value


def parquet_read(
    stream: IO[bytes], *, start: int, end: int | None, line: int, options: dict[str, Any]
) -> Iterator[Record]:
    """Rows of row groups [start_group, end). `start`: the chunk's first group; `line` the row
    number to resume at (rows before it in the chunk are skipped)."""
    parquet = _open(stream)
    first_group, last_group = options["chunk_start"], options["chunk_end"]
    groups = list(range(first_group, last_group))
    row_number = options["chunk_first_line"] - 1
    for batch in parquet.iter_batches(batch_size=BATCH_ROWS, row_groups=groups):
        if row_number + batch.num_rows < line:
            row_number += batch.num_rows  # already imported before a restart
            continue
        for record in batch.to_pylist():
            row_number += 1
            if row_number < line:
                continue
            value = {str(k): _json_safe(v) for k, v in record.items()}
            yield Record(row_number, row_number, row_number, value)
