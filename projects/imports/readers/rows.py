"""Shared shapes of the import pipeline: records, chunks, and flat records into raw item rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Columns with a meaning of their own; every other column becomes a field of the item's data.
RESERVED_COLUMNS = ("external_id", "priority", "gold", "prediction", "prediction_score")


class FileError(ValueError):
    """The whole file cannot be read (wrong format, undecodable, empty, unsafe)."""


@dataclass(slots=True)
class Record:
    line: int  # line, row, record or zip-entry number, for messages
    position: int  # where reading resumes after this record
    progress: int  # progress units done after this record (bytes, rows, entries)
    value: Any  # a flat record dict, a shaped row dict, or the Exception for a bad row
    resume_line: int = 0  # the line number at `position` (0: the next after `line`)


@dataclass
class ChunkSpec:
    start: int  # where the chunk begins (a byte offset; a row group for Parquet)
    end: int | None  # where it ends, exclusive (None: the end of the file)
    first_line: int
    position: int = 0  # the reader's position at the start (bytes, or rows before it)


@dataclass
class Plan:
    """How a file is read: its chunks, the total of progress units, options the readers need."""

    chunks: list[ChunkSpec]
    progress_total: int
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ColumnMapping:
    """Which source columns feed what. `columns` renames a source column to a data field (an
    empty name drops the column); the other keys name the source column for that role."""

    columns: dict[str, str] = field(default_factory=dict)
    external_id: str = "external_id"
    priority: str = "priority"
    gold: str = "gold"
    prediction: str = "prediction"
    prediction_score: str = "prediction_score"
    model_version: str = ""

    @classmethod
    def from_options(cls, raw: Any) -> ColumnMapping:
        if not raw:
            return cls()
        if not isinstance(raw, dict):
            raise ValueError("the column mapping is an object")
        columns = raw.get("columns", {})
        if not isinstance(columns, dict) or not all(
            isinstance(k, str) and isinstance(v, str | None) for k, v in columns.items()
        ):
            raise ValueError("'columns' maps source column names to data field names")
        roles = {}
        for role in ("external_id", "priority", "gold", "prediction", "prediction_score"):
            if role in raw:
                if not isinstance(raw[role], str) or not raw[role]:
                    raise ValueError(f"'{role}' names a source column")
                roles[role] = raw[role]
        unknown = set(raw) - {"columns", "model_version", *roles}
        if unknown:
            raise ValueError(f"unknown mapping keys: {', '.join(sorted(unknown))}")
        return cls(
            columns={k: v or "" for k, v in columns.items()},
            model_version=str(raw.get("model_version") or ""),
            **roles,
        )

    def as_options(self) -> dict[str, Any]:
        return {
            "columns": self.columns,
            "external_id": self.external_id,
            "priority": self.priority,
            "gold": self.gold,
            "prediction": self.prediction,
            "prediction_score": self.prediction_score,
            "model_version": self.model_version,
        }


DEFAULT_MAPPING = ColumnMapping()
DEFAULT_ROLES = frozenset(RESERVED_COLUMNS)
EXTERNAL_ID_ONLY = {"external_id"}


def record_to_row(record: dict[str, Any], mapping: ColumnMapping = DEFAULT_MAPPING) -> dict:
    """A flat record becomes a raw row. A record that already has a 'data' object is taken as
    is (the API's and Label Studio's shape)."""
    if isinstance(record.get("data"), dict):
        return record
    if mapping is DEFAULT_MAPPING:  # the common cases, kept short: imports run them per row
        reserved = record.keys() & DEFAULT_ROLES
        if not reserved:
            return {"data": record}
        if reserved == EXTERNAL_ID_ONLY:
            external_id = record.pop("external_id")
            return {"data": record, "external_id": external_id}
    roles = {
        mapping.external_id: "external_id",
        mapping.priority: "priority",
        mapping.gold: "gold",
        mapping.prediction: "prediction",
        mapping.prediction_score: "prediction_score",
    }
    row: dict[str, Any] = {}
    data: dict[str, Any] = {}
    renames = mapping.columns
    for key, value in record.items():
        role = roles.get(key)
        if role is not None:
            row[role] = value
            continue
        name = renames.get(key, key)
        if name:
            data[name] = value
    row["data"] = data
    prediction = row.pop("prediction", None)
    score = row.pop("prediction_score", None)
    if prediction not in (None, ""):
        row["predictions"] = [
            {"result": prediction, "score": score, "model_version": mapping.model_version}
        ]
    return row
