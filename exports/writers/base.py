"""What every writer gets: the project's schema, the options and a scratch folder."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Protocol

from exports.options import ExportOptions
from exports.records import ExportRecord
from projects.label_schema import LabelSchema
from projects.media import MediaLinks

Batches = Iterable[list[ExportRecord]]


@dataclass(frozen=True)
class WriteContext:
    schema: LabelSchema
    options: ExportOptions
    scratch: Path  # a private folder the writer may use for parts it joins at the end
    project_name: str = ""
    # The project's files, which alone may be bundled (exports.writers.images).
    media: MediaLinks | None = None
    # What the writer wants the manifest to say (e.g. images it could not bundle).
    report: dict = field(default_factory=dict)

    def report_count(self, key: str, amount: int = 1) -> None:
        self.report[key] = self.report.get(key, 0) + amount


class Writer(Protocol):
    def __call__(self, batches: Batches, out: BinaryIO, context: WriteContext) -> None: ...
