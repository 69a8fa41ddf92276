"""Label Studio JSON writer: the task list Label Studio 1.23 exports and imports.

One task per item: `id` (the item id), `data` (the item's data), `meta.external_id`, and
`annotations` (every annotation with its annotator, as `completed_by: {id, email}` the way Label
Studio's snapshot export writes it, and its time, when asked, else the final result
as one annotation), `predictions` when asked. Results become Label Studio result items with
`from_name` (the control) and `to_name` (its source field): choices, labels (spans with text),
rectanglelabels and polygonlabels in percent of the image with original_width/height, textarea
and pairwise (left/right). Gold answers, when asked, mark the annotation that gives them
`ground_truth: true` (or come as an annotation of their own when none does). The file is one
compact JSON array, as Label Studio writes it.

The matching Label Studio label config (`<View>` XML, projects.label_studio_config) goes in the
export's manifest as `writer_report.label_config`, so a Label Studio project can be made for the
file with no hand-written config; a field is an `<Image>` there when its values are image URLs.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, BinaryIO

import orjson

from exports.records import ExportRecord
from exports.writers.base import Batches, WriteContext
from projects.label_schema import LabelSchema, SchemaError
from projects.label_studio_config import LabelStudioConfigError, label_studio_config_from_schema
from projects.label_studio_results import label_studio_result

CONTENT_TYPE = "application/json"
IMAGE_URL = re.compile(
    r"^(data:image/|(https?://|/).+\.(png|jpe?g|gif|webp|bmp|svg|tiff?)(\?.*)?$)", re.IGNORECASE
)


def _time(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value else None


def label_studio_task(record: ExportRecord, context: WriteContext) -> dict[str, Any]:
    schema, options = context.schema, context.options
    shape = {"data": record.data, "width": record.width, "height": record.height}
    annotations: list[dict[str, Any]] = []
    if options.include_annotations:
        for a in record.annotations:
            annotations.append(
                {
                    "id": a.annotation_id,
                    # As in Label Studio's snapshot export: the email lets an import match users.
                    "completed_by": {"id": a.annotator_id, "email": a.annotator_email},
                    "result": label_studio_result(
                        schema, a.result, key=("a", a.annotation_id), **shape
                    ),
                    "was_cancelled": False,
                    "ground_truth": False,
                    "created_at": _time(a.created_at),
                    "updated_at": _time(a.updated_at),
                    "lead_time": a.lead_time,
                }
            )
    elif record.result is not None:
        annotations.append(
            {
                "completed_by": None,
                "result": label_studio_result(
                    schema, record.result, key=("r", record.item_id), **shape
                ),
                "was_cancelled": False,
                "ground_truth": False,
                "quorum_method": record.method,
                "quorum_agreement": record.agreement,
            }
        )
    if options.include_gold and record.gold is not None:
        # Label Studio marks gold as the annotation that is ground truth: mark the one that
        # gives the gold answer, or carry the gold answer as an annotation of its own.
        marked = (
            next(
                (
                    a
                    for a, source in zip(annotations, record.annotations, strict=False)
                    if source.result == record.gold
                ),
                None,
            )
            if options.include_annotations
            else None
        )
        if marked is not None:
            marked["ground_truth"] = True
        else:
            annotations.append(
                {
                    "completed_by": None,
                    "result": label_studio_result(
                        schema, record.gold, key=("g", record.item_id), **shape
                    ),
                    "was_cancelled": False,
                    "ground_truth": True,
                }
            )
    task: dict[str, Any] = {
        "id": record.item_id,
        "data": record.data,
        "meta": {"external_id": record.external_id},
        "annotations": annotations,
    }
    if options.include_predictions:
        task["predictions"] = [
            {
                "model_version": p.model_version,
                "score": p.score,
                "result": label_studio_result(
                    schema, p.result, key=("p", p.prediction_id), **shape
                ),
            }
            for p in record.predictions
        ]
    if options.split:
        task["meta"]["split"] = record.split
    return task


def _image_fields(schema: LabelSchema, data: dict) -> set[str]:
    return {
        field
        for field in schema.source_fields
        if isinstance(data.get(field), str) and IMAGE_URL.match(data[field])
    }


def label_studio_config(schema: LabelSchema, image_fields: set[str]) -> dict[str, str]:
    """The report entry: the XML config, or why there is none."""
    try:
        xml = label_studio_config_from_schema(schema.as_json(), image_fields=image_fields)
    except (SchemaError, LabelStudioConfigError) as exc:
        return {"label_config_error": str(exc)}
    return {"label_config": xml}


def label_studio_write(batches: Batches, out: BinaryIO, context: WriteContext) -> None:
    out.write(b"[")
    first = True
    image_fields: set[str] | None = None
    for batch in batches:
        for record in batch:
            if image_fields is None and isinstance(record.data, dict):
                image_fields = _image_fields(context.schema, record.data)
            out.write((b"" if first else b",") + orjson.dumps(label_studio_task(record, context)))
            first = False
    out.write(b"]")
    context.report.update(label_studio_config(context.schema, image_fields or set()))
