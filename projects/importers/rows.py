"""Shared row shaping: flat records (CSV columns, JSON objects) into raw item rows."""

from typing import Any

RESERVED_COLUMNS = ("external_id", "priority", "gold")


class FileError(ValueError):
    """The whole file cannot be read (wrong format, undecodable, empty)."""


def record_to_row(record: dict[str, Any]) -> dict[str, Any]:
    """A flat record becomes a raw row. A record that already has a 'data' object is taken as is."""
    if isinstance(record.get("data"), dict):
        return record
    row = {key: record[key] for key in RESERVED_COLUMNS if key in record}
    row["data"] = {k: v for k, v in record.items() if k not in RESERVED_COLUMNS}
    return row
