"""A JSON array of objects, streamed with ijson (never loaded whole). Positions count records;
a syntax error stops the file with the line it is on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

import ijson
from django.conf import settings

from projects.imports.readers.json_depth import DepthGuard, TooDeep
from projects.imports.readers.rows import FileError, Plan, Record

EXACT_ERROR_LINE_LIMIT = 64 * 1024 * 1024  # re-parse up to this much to find an error's line
PYTHON_BACKEND = ijson.get_backend("python")
NEWLINE = b"\n"


class CountingReader:
    """A file wrapper counting the bytes handed to the parser (progress, error lines) and
    refusing a document nested deeper than JSON_MAX_DEPTH before the parser sees it."""

    def __init__(self, stream: IO[bytes]):
        self.stream = stream
        self.consumed = 0
        self.newlines = 0
        self.depth_guard = DepthGuard(settings.JSON_MAX_DEPTH)

    def read(self, size: int = -1) -> bytes:
        data = self.stream.read(size)
        self.depth_guard.feed(data)
        self.consumed += len(data)
        self.newlines += data.count(b"\n")
        return data


def json_plan(stream: IO[bytes], *, size: int) -> Plan:
    head = stream.read(64 * 1024).lstrip(b"\xef\xbb\xbf \t\r\n")
    if not head:
        raise FileError("The file is empty.")
    if not head.startswith(b"["):
        raise FileError("Line 1: a JSON import is an array of objects ([{...}, ...]).")
    return Plan(chunks=[], progress_total=size)


def json_error_line(stream: IO[bytes], reader: CountingReader) -> str:
    """Where a syntax error is: exact when the file is small enough to re-parse in Python."""
    if reader.consumed > EXACT_ERROR_LINE_LIMIT:
        return f"near line {reader.newlines + 1}"
    stream.seek(0)
    prefix = stream.read(reader.consumed)
    try:
        for _ in PYTHON_BACKEND.basic_parse(prefix):
            pass
    except ijson.JSONError as exc:
        offset = str(exc).rsplit(" at ", 1)[-1]
        if offset.isdigit():
            return f"line {prefix.count(NEWLINE, 0, int(offset)) + 1}"
    except UnicodeDecodeError as exc:
        return f"line {prefix.count(NEWLINE, 0, exc.start) + 1}"
    return f"line {prefix.count(NEWLINE) + 1}"


def json_objects(stream: IO[bytes], *, start: int) -> Iterator[tuple[int, int, Any]]:
    """(record number, bytes consumed, object) for each array element after the first `start`."""
    stream.seek(0)
    reader = CountingReader(stream)
    number = 0
    try:
        for value in ijson.items(reader, "item", use_float=True):
            number += 1
            if number > start:
                yield number, reader.consumed, value
    except TooDeep as exc:
        raise FileError(
            f"From about line {reader.newlines + 1}: {exc}, so the rest of the file is not "
            "imported."
        ) from exc
    except ijson.JSONError as exc:
        where = json_error_line(stream, reader)
        message = str(exc).split("\n", 1)[0]
        if "Incomplete JSON" in message:
            raise FileError(f"JSON ends early ({where}): the file is cut short.") from exc
        raise FileError(f"JSON syntax error at {where}: {message}") from exc
    if number == 0 and start == 0:
        raise FileError("The JSON array is empty.")


def json_read(
    stream: IO[bytes], *, start: int, end: int | None, line: int, options: dict[str, Any]
) -> Iterator[Record]:
    for number, consumed, value in json_objects(stream, start=start):
        if not isinstance(value, dict):
            value = ValueError("each element of the array must be an object")
        yield Record(number, number, consumed, value)
