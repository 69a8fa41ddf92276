"""The import formats: how each is recognised, planned into chunks and read."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any

from projects.imports.readers.csv import csv_plan, csv_read
from projects.imports.readers.image_urls import image_urls_plan, image_urls_read
from projects.imports.readers.image_zip import image_zip_plan, image_zip_read
from projects.imports.readers.json_array import json_plan, json_read
from projects.imports.readers.jsonl import jsonl_plan, jsonl_read
from projects.imports.readers.label_studio import label_studio_read
from projects.imports.readers.parquet import parquet_plan, parquet_read
from projects.imports.readers.rows import Plan, Record
from projects.imports.readers.xlsx import xlsx_plan, xlsx_read

Planner = Callable[..., Plan]
Reader = Callable[..., Iterator[Record]]


class FormatUnknown(ValueError):
    """The format cannot be told from the name or the content."""


@dataclass(frozen=True)
class ImportFormat:
    name: str
    label: str
    plan: Callable[[IO[bytes], int, dict[str, Any]], Plan]
    read: Reader
    chunked: bool  # several chunks, imported in parallel


def _plan_csv(delimiter: str):
    def plan(stream, size, options):
        result = csv_plan(
            stream, delimiter=delimiter, chunk_bytes=options["chunk_bytes"], size=size
        )
        result.options["delimiter"] = delimiter
        return result

    return plan


FORMATS = {
    f.name: f
    for f in (
        ImportFormat("csv", "CSV", _plan_csv(","), csv_read, True),
        ImportFormat("tsv", "TSV", _plan_csv("\t"), csv_read, True),
        ImportFormat(
            "jsonl",
            "JSON Lines",
            lambda s, size, o: jsonl_plan(s, chunk_bytes=o["chunk_bytes"], size=size),
            jsonl_read,
            True,
        ),
        ImportFormat(
            "json", "JSON array", lambda s, size, o: json_plan(s, size=size), json_read, False
        ),
        ImportFormat(
            "label_studio",
            "Label Studio JSON export",
            lambda s, size, o: json_plan(s, size=size),
            label_studio_read,
            False,
        ),
        ImportFormat(
            "parquet",
            "Parquet",
            lambda s, size, o: parquet_plan(s, chunk_rows=o["chunk_rows"]),
            parquet_read,
            True,
        ),
        ImportFormat("xlsx", "Excel (.xlsx)", lambda s, size, o: xlsx_plan(s), xlsx_read, False),
        ImportFormat(
            "image_zip",
            "Zip of images",
            lambda s, size, o: image_zip_plan(s, limits=o["limits"]),
            image_zip_read,
            False,
        ),
        ImportFormat(
            "image_urls",
            "Text file of image URLs",
            lambda s, size, o: image_urls_plan(s, chunk_bytes=o["chunk_bytes"], size=size),
            image_urls_read,
            True,
        ),
    )
}

EXTENSIONS = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".xlsx": "xlsx",
    ".zip": "image_zip",
}
LABEL_STUDIO_KEYS = re.compile(rb'"(annotations|predictions|total_annotations)"\s*:')
LABEL_STUDIO_MIN_KEYS = re.compile(rb'"annotation_id"\s*:')
URL_LINE = re.compile(rb"^\s*([a-zA-Z][a-zA-Z0-9+.-]*://\S+|/\S+)\s*$")


def _zip_kind(head: bytes) -> str:
    return "xlsx" if b"[Content_Types].xml" in head and b"xl/" in head else "image_zip"


def _json_kind(head: bytes) -> str:
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"["):
        has_data = b'"data"' in stripped
        if has_data and LABEL_STUDIO_KEYS.search(stripped):
            return "label_studio"
        if b'"annotator"' in stripped and LABEL_STUDIO_MIN_KEYS.search(stripped):
            return "label_studio"  # the JSON_MIN export
        return "json"
    return "jsonl"


def import_format_detect(*, filename: str, head: bytes) -> str:
    """The format from the file's name, checked and refined by its first bytes."""
    suffix = PurePath(filename).suffix.lower()
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(head)
    if suffix in (".json", ".jsonl", ".ndjson"):
        return _json_kind(head)
    if suffix in EXTENSIONS:
        return EXTENSIONS[suffix]
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"[", b"{"):
        return _json_kind(head)
    lines = [
        line for line in stripped.split(b"\n")[:50] if line.strip() and not line.startswith(b"#")
    ]
    if lines and all(URL_LINE.match(line) for line in lines[:-1] or lines):
        return "image_urls"
    first_line = stripped.split(b"\n", 1)[0]
    if b"\t" in first_line:
        return "tsv"
    if b"," in first_line or suffix == ".txt":
        return "csv"
    raise FormatUnknown(
        "Cannot tell the file's format: name it .csv, .tsv, .json, .jsonl, .parquet, .xlsx, "
        ".zip or .txt, or choose the format."
    )
