"""Excel .xlsx: the first sheet, a header row, then one item per row (openpyxl read-only)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import IO, Any

from projects.imports.readers.rows import FileError, Plan, Record


def _sheet(stream: IO[bytes]):
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise FileError(f"Not a readable .xlsx workbook: {exc}") from exc
    if not workbook.worksheets:
        raise FileError("The workbook has no sheet.")
    return workbook, workbook.worksheets[0]


def _cell(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def xlsx_plan(stream: IO[bytes]) -> Plan:
    workbook, sheet = _sheet(stream)
    try:
        rows = sheet.iter_rows(values_only=True)
        header = next(rows, None)
        if not header or not any(h not in (None, "") for h in header):
            raise FileError("The sheet is empty (no header row).")
        names = [str(h).strip() if h is not None else "" for h in header]
        while names and not names[-1]:
            names.pop()
        if any(not n for n in names):
            raise FileError("Row 1: a column of the header has no name.")
        if len(set(names)) != len(names):
            raise FileError("Row 1: the header names a column twice.")
        total = max((sheet.max_row or 1) - 1, 1)
    finally:
        workbook.close()
    return Plan(chunks=[], progress_total=total, options={"header": names})


def xlsx_read(
    stream: IO[bytes], *, start: int, end: int | None, line: int, options: dict[str, Any]
) -> Iterator[Record]:
    """`start`: data rows already imported (skipped on a restart). Lines are sheet rows."""
    header: list[str] = options["header"]
    width = len(header)
    workbook, sheet = _sheet(stream)
    try:
        for index, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=1):
            if index <= start:
                continue
            cells = list(values)
            while len(cells) > width and cells[-1] in (None, ""):
                cells.pop()
            if not any(c not in (None, "") for c in cells):
                continue  # an empty row
            if len(cells) > width:
                value: Any = ValueError(f"has {len(cells)} cells, the header has {width}")
            else:
                cells += [None] * (width - len(cells))
                value = {h: _cell(c) for h, c in zip(header, cells, strict=True) if c is not None}
            yield Record(index + 1, index, index, value)
    finally:
        workbook.close()
