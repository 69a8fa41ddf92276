"""Label Studio JSON exports (plain and snapshot): tasks become items, and their annotations and
predictions are carried over in Quorum's label contract.

JSON_MIN exports (one flat record per annotation) are grouped back into tasks.
Conversions: choices -> choice or multi; labels (character offsets) -> spans; rectanglelabels
(percentages of the original image) -> boxes in pixels; polygonlabels -> polygons in pixels;
textarea -> text; pairwise left/right -> a/b. A task's ground-truth annotation becomes its gold
answer. Annotations travel in the row; storing them is the labeling app's job (see
projects.imports.hooks).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from projects.imports.readers.json_array import json_objects
from projects.imports.readers.rows import Record
from projects.label_schema import (
    BOXES,
    CHOICE,
    MULTI,
    PAIRWISE,
    POLYGONS,
    SPANS,
    TEXT,
    LabelSchema,
)

PAIRWISE_SIDES = {"left": "a", "right": "b"}


class ConversionError(ValueError):
    """A Label Studio result cannot be expressed in this project's schema."""


def utf16_to_code_points(text: str, offset: int) -> int:
    """Label Studio's editor counts UTF-16 units; our offsets are code points."""
    units = 0
    for index, char in enumerate(text):
        if units >= offset:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(text)


def _span(value: dict, text: Any) -> dict:
    start, end = int(value["start"]), int(value["end"])
    quoted = value.get("text")
    if isinstance(text, str) and quoted is not None and text[start:end] != quoted:
        start, end = utf16_to_code_points(text, start), utf16_to_code_points(text, end)
    return {"start": start, "end": end, "label": value["labels"][0]}


def _pixels(result: dict, x: float, y: float) -> tuple[float, float]:
    width, height = result.get("original_width"), result.get("original_height")
    if not width or not height:
        raise ConversionError("a shape without original_width/original_height")
    return x * width / 100.0, y * height / 100.0


def _box(result: dict) -> dict:
    value = result["value"]
    if value.get("rotation"):
        raise ConversionError("rotated rectangles are not supported")
    x, y = _pixels(result, value["x"], value["y"])
    width, height = _pixels(result, value["width"], value["height"])
    return {"x": x, "y": y, "width": width, "height": height, "label": value["rectanglelabels"][0]}


def ls_result_convert(results: list, *, schema: LabelSchema, data: dict) -> dict[str, Any]:
    """Label Studio result items into one result keyed by control name."""
    converted: dict[str, Any] = {}
    for result in results:
        if not isinstance(result, dict) or "value" not in result:
            raise ConversionError("a result item without a value")
        name = result.get("from_name")
        control = schema.by_name.get(name)
        if control is None:
            raise ConversionError(f"control '{name}' is not in this project's schema")
        value, kind = result["value"], result.get("type")
        try:
            if kind == "choices" and control.kind in (CHOICE, MULTI):
                choices = list(value["choices"])
                converted[name] = choices if control.kind == MULTI else choices[0]
            elif kind == "labels" and control.kind == SPANS:
                text = data.get(control.source[0])
                converted.setdefault(name, []).append(_span(value, text))
            elif kind == "rectanglelabels" and control.kind == BOXES:
                converted.setdefault(name, []).append(_box(result))
            elif kind == "polygonlabels" and control.kind == POLYGONS:
                points = [list(_pixels(result, px, py)) for px, py in value["points"]]
                converted.setdefault(name, []).append(
                    {"points": points, "label": value["polygonlabels"][0]}
                )
            elif kind == "textarea" and control.kind == TEXT:
                converted[name] = "\n".join(value["text"])
            elif kind == "pairwise" and control.kind == PAIRWISE:
                converted[name] = PAIRWISE_SIDES.get(value.get("selected"), "tie")
            else:
                raise ConversionError(
                    f"a '{kind}' result cannot answer control '{name}' ({control.kind})"
                )
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            if isinstance(exc, ConversionError):
                raise
            raise ConversionError(f"malformed '{kind}' result for '{name}'") from exc
    return converted


def _annotator(completed_by: Any) -> dict[str, Any]:
    if isinstance(completed_by, dict):
        return {"id": completed_by.get("id"), "email": completed_by.get("email") or ""}
    return {"id": completed_by, "email": ""}


def _image_size(results: list) -> tuple[int | None, int | None]:
    for result in results:
        if isinstance(result, dict) and result.get("original_width"):
            return int(result["original_width"]), int(result["original_height"])
    return None, None


def ls_task_to_row(task: dict, *, schema: LabelSchema) -> dict[str, Any]:
    """One Label Studio task as a raw row, its annotations and predictions converted."""
    data = task.get("data")
    if not isinstance(data, dict):
        raise ValueError("a Label Studio task has a 'data' object")
    # Quorum's own Label Studio export keeps the item's external id in the task's meta.
    meta = task.get("meta") if isinstance(task.get("meta"), dict) else {}
    external_id = meta.get("external_id") or task.get("id", "") or ""
    row: dict[str, Any] = {"data": data, "external_id": str(external_id)}
    annotations, problems = [], []
    width = height = None
    for annotation in task.get("annotations") or []:
        if not isinstance(annotation, dict) or annotation.get("was_cancelled"):
            continue
        results = annotation.get("result") or []
        width, height = width or _image_size(results)[0], height or _image_size(results)[1]
        try:
            result = ls_result_convert(results, schema=schema, data=data)
        except ConversionError as exc:
            problems.append(f"annotation {annotation.get('id')}: {exc}")
            continue
        annotations.append(
            {
                "annotator": _annotator(annotation.get("completed_by")),
                "result": result,
                "lead_time": float(annotation.get("lead_time") or 0.0),
                "source_id": annotation.get("id"),
            }
        )
        if annotation.get("ground_truth"):
            row["gold"] = result
    predictions = []
    for prediction in task.get("predictions") or []:
        if not isinstance(prediction, dict):
            continue  # the plain export lists prediction ids only: nothing to carry over
        results = prediction.get("result") or []
        width, height = width or _image_size(results)[0], height or _image_size(results)[1]
        try:
            result = ls_result_convert(results, schema=schema, data=data)
        except ConversionError as exc:
            problems.append(f"prediction {prediction.get('id')}: {exc}")
            continue
        predictions.append(
            {
                "result": result,
                "score": prediction.get("score"),
                "model_version": str(prediction.get("model_version") or ""),
            }
        )
    row.update(annotations=annotations, predictions=predictions, notes=problems)
    if width and height:
        row.update(width=width, height=height)
    return row


# JSON_MIN: one flat record per annotation: the task's data fields, the task `id`, one key per
# control, and these.
MIN_RECORD_KEYS = ("id", "annotator", "annotation_id", "created_at", "updated_at", "lead_time")
MIN_RESULT_TYPES = {
    CHOICE: "choices",
    MULTI: "choices",
    SPANS: "labels",
    BOXES: "rectanglelabels",
    POLYGONS: "polygonlabels",
    TEXT: "textarea",
    PAIRWISE: "pairwise",
}


def is_min_record(record: Any) -> bool:
    return isinstance(record, dict) and "annotation_id" in record and "data" not in record


def _min_results(name: str, kind: str, value: Any) -> list[dict]:
    """A JSON_MIN control value back into Label Studio result items."""
    result_type = MIN_RESULT_TYPES[kind]
    base = {"from_name": name, "type": result_type}
    if kind in (CHOICE, MULTI):
        return [{**base, "value": {"choices": value if isinstance(value, list) else [value]}}]
    if kind == TEXT:
        return [{**base, "value": {"text": value if isinstance(value, list) else [value]}}]
    if kind == PAIRWISE:
        return [{**base, "value": value if isinstance(value, dict) else {"selected": value}}]
    shapes = value if isinstance(value, list) else [value]
    return [
        {
            **base,
            "value": shape,
            "original_width": shape.get("original_width"),
            "original_height": shape.get("original_height"),
        }
        for shape in shapes
        if isinstance(shape, dict)
    ]


def ls_min_records_to_task(records: list[dict], *, schema: LabelSchema) -> dict[str, Any]:
    """The JSON_MIN records of one task (one per annotation) as a task of the full export."""
    first = records[0]
    data = {k: v for k, v in first.items() if k not in MIN_RECORD_KEYS and k not in schema.by_name}
    annotations = []
    for record in records:
        results = []
        for name, control in schema.by_name.items():
            if record.get(name) not in (None, "", []):
                results += _min_results(name, control.kind, record[name])
        annotations.append(
            {
                "id": record.get("annotation_id"),
                "completed_by": record.get("annotator"),
                "lead_time": record.get("lead_time"),
                "result": results,
            }
        )
    return {"id": first.get("id"), "data": data, "annotations": annotations}


def _min_tasks(
    objects: Iterator[tuple[int, int, Any]],
) -> Iterator[tuple[int, int, int, Any]]:
    """Group JSON_MIN records by task (a task's records are adjacent): (first record number,
    last record number, bytes consumed, records or a non-min element)."""
    group: list[dict] = []
    first = last = consumed = 0
    for number, read, record in objects:
        if group and (not is_min_record(record) or record.get("id") != group[0].get("id")):
            yield first, last, consumed, group
            group = []
        if is_min_record(record):
            if not group:
                first = number
            group.append(record)
            last, consumed = number, read
        else:
            yield number, number, read, record
    if group:
        yield first, last, consumed, group


def label_studio_read(
    stream: IO[bytes], *, start: int, end: int | None, line: int, options: dict[str, Any]
) -> Iterator[Record]:
    """Tasks of a JSON or snapshot export, or JSON_MIN records grouped back into tasks. Lines are
    element numbers of the array; a restart resumes after the last task imported."""
    schema: LabelSchema = options["schema"]
    for first, last, consumed, element in _min_tasks(json_objects(stream, start=start)):
        try:
            if isinstance(element, list):
                element = ls_min_records_to_task(element, schema=schema)
            if not isinstance(element, dict):
                raise ValueError("each element of the export must be a task object")
            value: Any = ls_task_to_row(element, schema=schema)
        except ValueError as exc:
            value = exc
        yield Record(first, last, consumed, value, last + 1)
