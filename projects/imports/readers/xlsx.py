"""Excel .xlsx: the first sheet, a header row, then one item per row (openpyxl read-only)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from datetime import date, datetime, time
from typing import IO, Any

from projects.imports.readers.rows import FileError, Plan, Record


def _sheet(stream: IO[bytes], *, data_only: bool = True):
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(stream, read_only=True, data_only=data_only)
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
    # The same sheet with its formulas: a formula cell whose result was never saved (a file
    # written by a program, not by Excel) reads as empty, and the row's error says why.
    stream.seek(0)
    formula_workbook, formula_sheet = _sheet(stream, data_only=False)
    formula_rows = formula_sheet.iter_rows(min_row=2, values_only=True)
    try:
        for index, values in enumerate(sheet.iter_rows(min_row=2, values_only=True), start=1):
            formulas = next(formula_rows, ())
            if index <= start:
                continue
            if unsaved := _unsaved_formula(values, formulas, row=index + 1):
                yield Record(index + 1, index, index, ValueError(unsaved))
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
        formula_workbook.close()


def _unsaved_formula(values, formulas, *, row: int) -> str | None:
    from openpyxl.utils import get_column_letter

    for column, (value, formula) in enumerate(zip(values, formulas, strict=False), start=1):
        if value is None and isinstance(formula, str) and formula.startswith("="):
            return (
                f"cell {get_column_letter(column)}{row} holds the formula {formula[:80]} with no "
                "saved result; open the file in Excel or LibreOffice and save it again, so the "
                "results are stored, then import it"
            )
    return None
