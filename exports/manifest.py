"""The manifest of an export snapshot: what is in the file, and how to check it is intact.

The manifest lives beside the file (on the job row, and at /api/exports/{id}/manifest/), never
inside the hashed bytes: its time changes between runs, the data file does not.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from exports.arrow_results import table_label_counts
from exports.options import SPLIT_NAMES, ExportOptions
from exports.records import ExportBatch
from projects.label_schema import LabelSchema

MANIFEST_VERSION = 1


def _merge(into: dict[str, dict[str, int]], counts: dict[str, dict[str, int]]) -> None:
    for name, labels in counts.items():
        bucket = into.setdefault(name, {})
        for label, count in labels.items():
            bucket[label] = bucket.get(label, 0) + count


class ExportTally:
    """Counts gathered while the records stream past the writer."""

    def __init__(self, schema: LabelSchema):
        self.schema = schema
        self.items = 0
        self.resolved = 0
        self.annotations = 0
        self.predictions = 0
        self.labels: dict[str, dict[str, int]] = {}
        self.splits: dict[str, int] = {}
        self.split_labels: dict[str, dict[str, dict[str, int]]] = {}

    def tally_add(self, batch: ExportBatch) -> None:
        self.items += len(batch)
        for record in batch:
            if record.annotations:
                self.annotations += len(record.annotations)
            if record.predictions:
                self.predictions += len(record.predictions)
            if record.result_json is not None:
                self.resolved += 1
        table = batch.results(self.schema)
        _merge(self.labels, table_label_counts(table, self.schema))
        if batch and batch[0].split is not None:
            import pyarrow as pa
            import pyarrow.compute as pc

            splits = pa.array([r.split for r in batch])
            for name in SPLIT_NAMES:
                mask = pc.equal(splits, name)
                size = pc.sum(mask).as_py() or 0
                if size:
                    self.splits[name] = self.splits.get(name, 0) + size
                    _merge(
                        self.split_labels.setdefault(name, {}),
                        table_label_counts(table.filter(mask), self.schema),
                    )


def _sorted_counts(counts: dict[str, dict[str, int]] | None) -> dict[str, dict[str, int]]:
    if not counts:
        return {}
    return {name: dict(sorted(c.items())) for name, c in sorted(counts.items())}


def manifest_build(
    *,
    job_id: int,
    project_id: int,
    project_name: str,
    format: str,
    filename: str,
    content_type: str,
    options: ExportOptions,
    tally: ExportTally,
    sha256: str,
    size: int,
    created_at: datetime,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "manifest_version": MANIFEST_VERSION,
        "export_id": job_id,
        "project": {"id": project_id, "name": project_name},
        "format": format,
        "filename": filename,
        "content_type": content_type,
        "schema": tally.schema.as_json(),
        "options": options.as_json(),
        "counts": {
            "items": tally.items,
            "resolved_items": tally.resolved,
            "annotations": tally.annotations,
            "predictions": tally.predictions,
        },
        "label_distribution": _sorted_counts(tally.labels),
        "created_at": created_at.isoformat(),
        "checksum": {"sha256": sha256},
        "bytes": size,
    }
    if options.split:
        manifest["splits"] = {
            name: {
                "items": tally.splits.get(name, 0),
                "label_distribution": _sorted_counts(tally.split_labels.get(name)),
            }
            for name in SPLIT_NAMES
        }
    if extra:
        manifest.update(extra)
    return manifest
