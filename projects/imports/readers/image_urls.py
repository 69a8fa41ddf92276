"""A text file of image URLs, one per line: each becomes an item {"image": url}. Blank lines
and lines starting with '#' are skipped."""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any
from urllib.parse import urlsplit

from projects.imports.readers.lines import LineReader, line_chunks_plan
from projects.imports.readers.rows import FileError, Plan, Record

MAX_URL_AS_ID = 255


def image_urls_plan(stream: IO[bytes], *, chunk_bytes: int, size: int) -> Plan:
    if not stream.read(64 * 1024).strip(b"\xef\xbb\xbf \t\r\n"):
        raise FileError("The file is empty.")
    chunks = line_chunks_plan(
        stream, start=0, first_line=1, chunk_bytes=chunk_bytes, quote_aware=False
    )
    return Plan(chunks=chunks, progress_total=size)


def _url_problem(url: str) -> str | None:
    parts = urlsplit(url)
    if parts.scheme in ("http", "https") and parts.netloc:
        return None
    if not parts.scheme and url.startswith("/"):
        return None  # a path on this server, e.g. /media/...
    return f"'{url[:100]}' is not an http(s) URL"


def image_urls_read(
    stream: IO[bytes], *, start: int, end: int | None, line: int, options: dict[str, Any]
) -> Iterator[Record]:
    lines = LineReader(stream, start=start, end=end, line=line)
    for raw in lines:
        record_line = lines.next_line - 1
        try:
            url = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            value: Any = ValueError("the line is not valid UTF-8 text")
        else:
            if not url or url.startswith("#"):
                continue
            problem = _url_problem(url)
            value = ValueError(problem) if problem else {"data": {"image": url}}
            if not problem and len(url) <= MAX_URL_AS_ID:
                value["external_id"] = url  # longer URLs are keyed by the hash of the data
        yield Record(record_line, lines.position, lines.position, value)
