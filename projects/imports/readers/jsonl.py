"""JSON Lines: one JSON object per line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import orjson

from projects.imports.readers.lines import LineReader, line_chunks_plan
from projects.imports.readers.rows import FileError, Plan, Record


def jsonl_plan(stream: IO[bytes], *, chunk_bytes: int, size: int) -> Plan:
    head = stream.read(64 * 1024)
    if not head.strip(b"\xef\xbb\xbf \t\r\n"):
        raise FileError("The file is empty.")
    chunks = line_chunks_plan(
        stream, start=0, first_line=1, chunk_bytes=chunk_bytes, quote_aware=False
    )
    return Plan(chunks=chunks, progress_total=size)


def jsonl_read(
    stream: IO[bytes], *, start: int, end: int | None, line: int, options: dict[str, Any]
) -> Iterator[Record]:
    """Yield a Record per line; a line that is not a JSON object carries its problem."""
    lines = LineReader(stream, start=start, end=end, line=line)
    loads = orjson.loads
    for raw in lines:
        record_line = lines.next_line - 1
        try:
            value = loads(raw)
        except orjson.JSONDecodeError as exc:
            if not raw.strip():
                continue
            value = ValueError(f"invalid JSON: {exc}")
        else:
            if not isinstance(value, dict):
                value = ValueError("each line must be a JSON object")
        yield Record(record_line, lines.position, lines.position, value)
