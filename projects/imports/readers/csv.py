"""CSV and TSV: a header row, then one item per row; columns become the item's data."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import IO, Any

from projects.imports.readers.lines import LineReader, line_chunks_plan
from projects.imports.readers.rows import FileError, Plan, Record

csv.field_size_limit(64 * 1024 * 1024)


class _DecodedLines:
    """Feeds csv.reader text lines, noting lines that were not valid UTF-8 instead of stopping
    (the bad bytes become surrogates; the row is then reported by its line)."""

    def __init__(self, lines: LineReader):
        self.lines = lines
        self.undecodable = False

    def __iter__(self) -> Iterator[str]:
        for raw in self.lines:
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.undecodable = True
                yield raw.decode("utf-8", errors="surrogateescape")


# Bytes no text file has (NUL, and control characters other than tab, newline, CR, form feed).
BINARY_BYTES = bytes([*range(0, 9), 11, *range(14, 32)])
# A few stray ones (a NUL in a row) are that row's error, not a sign the file is binary.
STRAY_BINARY_BYTES = 4
BARE_CR = "new-line character seen in unquoted field"


def _looks_binary(head: bytes) -> bool:
    strays = max(len(head) // 100, STRAY_BINARY_BYTES)
    return len(head) - len(head.translate(None, BINARY_BYTES)) > strays


def _readable(error: csv.Error) -> str:
    """The csv module's message, or what it means when that message is obscure."""
    if BARE_CR in str(error):
        return (
            "a carriage return (\\r) inside a field that is not quoted: quote the field, or "
            "save the file with ordinary line ends"
        )
    return str(error)


def csv_plan(stream: IO[bytes], *, delimiter: str, chunk_bytes: int, size: int) -> Plan:
    """Read the header, then split the rest into byte ranges at record boundaries."""
    head = stream.read(64 * 1024)
    stream.seek(0)
    if _looks_binary(head):
        raise FileError(
            "This is not a text file: it holds binary bytes (NUL and other control "
            "characters), so it cannot be read as CSV. Is it a spreadsheet, an archive or an "
            "image saved under a .csv name? Export it as CSV, or upload it as it is."
        )
    lines = LineReader(stream, start=0, end=None, line=1)
    decoded = _DecodedLines(lines)
    reader = csv.reader(decoded, delimiter=delimiter)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise FileError(f"Line 1: {_readable(exc)}") from exc
    if decoded.undecodable:
        raise FileError("Line 1: the file is not valid UTF-8 text.")
    if not header or not any(h.strip() for h in header):
        raise FileError("The file is empty (no header row).")
    header = [h.strip() for h in header]
    if len(set(header)) != len(header):
        raise FileError("Line 1: the header names a column twice.")
    if any(not h for h in header):
        raise FileError("Line 1: a column of the header has no name.")
    chunks = line_chunks_plan(
        stream,
        start=lines.position,
        first_line=lines.next_line,
        chunk_bytes=chunk_bytes,
        quote_aware=True,
    )
    return Plan(chunks=chunks, progress_total=size, options={"header": header})


def csv_read(
    stream: IO[bytes], *, start: int, end: int | None, line: int, options: dict[str, Any]
) -> Iterator[Record]:
    header: list[str] = options["header"]
    width = len(header)
    lines = LineReader(stream, start=start, end=end, line=line)
    decoded = _DecodedLines(lines)
    reader = csv.reader(decoded, delimiter=options.get("delimiter", ","))
    while True:
        record_line = lines.next_line
        decoded.undecodable = False
        try:
            values = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            value: Any = ValueError(_readable(exc))
        else:
            if decoded.undecodable:
                value = ValueError("the line is not valid UTF-8 text")
            elif len(values) != width:
                if not any(v.strip() for v in values):
                    continue  # a blank line
                value = ValueError(f"has {len(values)} fields, the header has {width}")
            else:
                value = dict(zip(header, values, strict=True))
        yield Record(record_line, lines.position, lines.position, value, lines.next_line)
