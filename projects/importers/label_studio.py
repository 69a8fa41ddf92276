"""Label Studio JSON exports (plain and snapshot): tasks become items, and their annotations and
predictions are carried over in Quorum's label contract.

Conversions: choices -> choice or multi; labels (character offsets) -> spans; rectanglelabels
(percentages of the original image) -> boxes in pixels; polygonlabels -> polygons in pixels;
textarea -> text; pairwise left/right -> a/b. A task's ground-truth annotation becomes its gold
answer. Annotations travel in the row; storing them is the labeling app's job (see
projects.import_hooks).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from projects.importers.json_array import json_objects
from projects.importers.rows import Record
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
    row: dict[str, Any] = {"data": data, "external_id": str(task.get("id", "") or "")}
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


def label_studio_read(
    stream: IO[bytes], *, start: int, end: int | None, line: int, options: dict[str, Any]
) -> Iterator[Record]:
    schema: LabelSchema = options["schema"]
    for number, consumed, task in json_objects(stream, start=start):
        try:
            if not isinstance(task, dict):
                raise ValueError("each element of the export must be a task object")
            value: Any = ls_task_to_row(task, schema=schema)
        except ValueError as exc:
            value = exc
        yield Record(number, number, consumed, value)
