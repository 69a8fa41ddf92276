"""JSON Lines: one JSON object per line."""

import json
from collections.abc import Iterator
from typing import IO, Any

from projects.importers.rows import FileError, record_to_row


def jsonl_rows(stream: IO[bytes]) -> Iterator[tuple[int, Any]]:
    """Yield (line, raw row); a line that is not a JSON object yields (line, RowProblem)."""
    seen_any = False
    for line_number, raw_line in enumerate(stream, start=1):
        try:
            text = raw_line.decode("utf-8-sig" if line_number == 1 else "utf-8")
        except UnicodeDecodeError:
            yield line_number, ValueError("the line is not valid UTF-8")
            continue
        if not text.strip():
            continue
        seen_any = True
        try:
            record = json.loads(text)
        except json.JSONDecodeError as exc:
            yield line_number, ValueError(f"invalid JSON: {exc.msg} at column {exc.colno}")
            continue
        if not isinstance(record, dict):
            yield line_number, ValueError("each line must be a JSON object")
            continue
        yield line_number, record_to_row(record)
    if not seen_any:
        raise FileError("The file is empty.")
