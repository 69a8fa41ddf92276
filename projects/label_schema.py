"""The label contract: a project's schema (a list of controls) and the results that answer it.

One validator serves annotations, predictions, gold answers, imports and resolutions alike.
Span offsets are Unicode code points, end exclusive; shapes are in original image pixels.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any

import orjson

CHOICE = "choice"
MULTI = "multi"
SPANS = "spans"
BOXES = "boxes"
POLYGONS = "polygons"
TEXT = "text"
PAIRWISE = "pairwise"

KINDS = (CHOICE, MULTI, SPANS, BOXES, POLYGONS, TEXT, PAIRWISE)
KINDS_WITH_LABELS = {CHOICE, MULTI, SPANS, BOXES, POLYGONS}
SHAPE_KINDS = {BOXES, POLYGONS}
PAIRWISE_ANSWERS = ("a", "b", "tie")
REQUIRED_BY_DEFAULT = frozenset({CHOICE, MULTI, PAIRWISE})
# Keys the workspace keeps for itself (skip, help, zoom, pan); static/js/hotkeys.js lists the same.
RESERVED_HOTKEYS = frozenset({"s", "?", "+", "=", "-", "0", ")", "[", "]", " "})
# Shapes may sit on the image border; float noise from percentage conversions is forgiven.
PIXEL_TOLERANCE = 1e-6


class SchemaError(ValueError):
    """The schema itself is malformed."""


class ResultError(ValueError):
    """A result does not answer the schema. `errors` maps each control name to its message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


@dataclass(frozen=True)
class Label:
    value: str
    color: str = ""
    hotkey: str = ""


@dataclass(frozen=True)
class Control:
    name: str
    kind: str
    source: tuple[str, ...]
    labels: tuple[Label, ...] = ()
    required: bool = True
    allow_overlap: bool = True
    label_values: frozenset[str] = field(default=frozenset(), compare=False)

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "source": self.source[0] if len(self.source) == 1 else list(self.source),
        }
        if self.kind in KINDS_WITH_LABELS:
            out["labels"] = [
                {"value": lb.value, "color": lb.color, "hotkey": lb.hotkey} for lb in self.labels
            ]
        out["required"] = self.required
        if self.kind == SPANS:
            out["allow_overlap"] = self.allow_overlap
        return out


def _parse_label(raw: Any, control_name: str) -> Label:
    if isinstance(raw, str) and raw.strip():
        return Label(value=raw.strip())
    if isinstance(raw, dict) and isinstance(raw.get("value"), str) and raw["value"].strip():
        unknown = set(raw) - {"value", "color", "hotkey"}
        if unknown:
            raise SchemaError(f"control '{control_name}': unknown label keys {sorted(unknown)}")
        color, hotkey = raw.get("color") or "", raw.get("hotkey") or ""
        if not isinstance(color, str):
            raise SchemaError(f"control '{control_name}': a label's color is a string")
        if not isinstance(hotkey, str) or len(hotkey) > 1:
            raise SchemaError(f"control '{control_name}': a label's hotkey is one key")
        return Label(value=raw["value"].strip(), color=color, hotkey=hotkey)
    raise SchemaError(f"control '{control_name}': a label is a non-empty string or {{value: ...}}")


def _parse_control(raw: Any, index: int) -> Control:
    if not isinstance(raw, dict):
        raise SchemaError(f"control #{index + 1} is not an object")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SchemaError(f"control #{index + 1} has no name")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise SchemaError(f"control '{name}': kind must be one of {', '.join(KINDS)}")
    source = raw.get("source", "text")
    sources = (source,) if isinstance(source, str) else tuple(source or ())
    if not sources or not all(isinstance(s, str) and s for s in sources):
        raise SchemaError(f"control '{name}': source names the item's data field(s)")
    if kind == PAIRWISE and len(sources) != 2:
        raise SchemaError(f"control '{name}': pairwise reads two sources")
    if kind != PAIRWISE and len(sources) != 1:
        raise SchemaError(f"control '{name}': source names one data field (two for pairwise)")
    labels: tuple[Label, ...] = ()
    if kind in KINDS_WITH_LABELS:
        raw_labels = raw.get("labels")
        if not isinstance(raw_labels, list) or not raw_labels:
            raise SchemaError(f"control '{name}': needs a non-empty list of labels")
        labels = tuple(_parse_label(lb, name) for lb in raw_labels)
        values = [lb.value for lb in labels]
        if len(set(values)) != len(values):
            raise SchemaError(f"control '{name}': labels must be unique")
    # "No entities here" is an answer: region controls and free text default to optional.
    required = raw.get("required", kind in REQUIRED_BY_DEFAULT)
    allow_overlap = raw.get("allow_overlap", True)
    if not isinstance(required, bool) or not isinstance(allow_overlap, bool):
        raise SchemaError(f"control '{name}': required and allow_overlap are true or false")
    return Control(
        name=name,
        kind=kind,
        source=sources,
        labels=labels,
        required=required,
        allow_overlap=allow_overlap,
        label_values=frozenset(lb.value for lb in labels),
    )


class LabelSchema:
    """A parsed, checked schema. Build once per project and reuse it for every result."""

    def __init__(self, raw: Any):
        if not isinstance(raw, dict) or not isinstance(raw.get("controls"), list):
            raise SchemaError('the schema is an object with a list of "controls"')
        if not raw["controls"]:
            raise SchemaError("the schema needs at least one control")
        self.controls = tuple(_parse_control(c, i) for i, c in enumerate(raw["controls"]))
        names = [c.name for c in self.controls]
        if len(set(names)) != len(names):
            raise SchemaError("control names must be unique")
        hotkeys = [lb.hotkey for c in self.controls for lb in c.labels if lb.hotkey]
        duplicates = sorted({h for h in hotkeys if hotkeys.count(h) > 1})
        if duplicates:
            raise SchemaError(f"hotkeys used twice: {', '.join(duplicates)}")
        reserved = sorted({h for h in hotkeys if h.lower() in RESERVED_HOTKEYS})
        if reserved:
            raise SchemaError(f"hotkeys kept by the workspace: {', '.join(map(repr, reserved))}")
        self.by_name = {c.name: c for c in self.controls}
        # A schema of single-choice controls only (classification, what monitored models
        # answer): its valid results are checked by set lookups alone (see validate).
        self._choice_labels = (
            {c.name: c.label_values for c in self.controls}
            if all(c.kind == CHOICE for c in self.controls)
            else None
        )
        self._required = frozenset(c.name for c in self.controls if c.required)

    def as_json(self) -> dict[str, Any]:
        return {"controls": [c.as_json() for c in self.controls]}

    @property
    def source_fields(self) -> set[str]:
        return {s for c in self.controls for s in c.source}

    def validate(
        self,
        result: Any,
        data: dict[str, Any] | None = None,
        width: float | None = None,
        height: float | None = None,
    ) -> dict[str, Any]:
        """Return the result if it answers the schema, else raise ResultError naming each control.

        `data` is the item's data (span bounds); `width`/`height` its image size (shape bounds).
        Bounds are checked only where they are known.
        """
        if self._choice_labels is not None and type(result) is dict and self._answers(result):
            return result
        if not isinstance(result, dict):
            raise ResultError({"result": "must be an object keyed by control name"})
        errors: dict[str, str] = {}
        for name in result:
            if name not in self.by_name:
                errors[str(name)] = "unknown control"
        for control in self.controls:
            value = result.get(control.name)
            if _is_empty(value):
                if control.required:
                    errors[control.name] = "required"
                continue
            message = _CHECKS[control.kind](control, value, data or {}, width, height)
            if message:
                errors[control.name] = message
        if errors:
            raise ResultError(errors)
        return result

    def _answers(self, result: dict) -> bool:
        """Whether a result of a single-choice schema is valid at first sight: every key a
        control, every value one of its labels, every required control answered. False sends
        it to the full check, which also says what is wrong."""
        labels = self._choice_labels
        for name, value in result.items():
            allowed = labels.get(name)
            if allowed is None or type(value) is not str or value not in allowed:
                return False
        return self._required <= result.keys()


def default_label_schema() -> dict[str, Any]:
    """The schema of a project created without one: a free-text note on the item's `text`.
    Every project has a valid schema, so everything reading it can rely on one."""
    return LabelSchema(
        {"controls": [{"name": "note", "kind": TEXT, "source": "text", "required": False}]}
    ).as_json()


def schema_validate(raw: Any) -> LabelSchema:
    return LabelSchema(raw)


def _is_empty(value: Any) -> bool:
    return (
        value is None
        or value == ""
        or value == []
        or (isinstance(value, str) and not value.strip())
    )


def _check_choice(control: Control, value: Any, *_: Any) -> str | None:
    if not isinstance(value, str):
        return "must be one label"
    if value not in control.label_values:
        return f"unknown label '{value}'"
    return None


def _check_multi(control: Control, value: Any, *_: Any) -> str | None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return "must be a list of labels"
    unknown = [v for v in value if v not in control.label_values]
    if unknown:
        return f"unknown label '{unknown[0]}'"
    if len(set(value)) != len(value):
        return "a label is listed twice"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_label(control: Control, shape: dict[str, Any]) -> str | None:
    label = shape.get("label")
    if not isinstance(label, str) or label not in control.label_values:
        return f"unknown label '{label}'"
    return None


def _check_spans(control: Control, value: Any, data: dict, *_: Any) -> str | None:
    if not isinstance(value, list):
        return "must be a list of spans"
    text = data.get(control.source[0]) if data else None
    length = len(text) if isinstance(text, str) else None
    spans = []
    for i, span in enumerate(value):
        if not isinstance(span, dict) or not {"start", "end", "label"} <= set(span):
            return f"span #{i + 1} needs start, end and label"
        if set(span) - {"start", "end", "label", "text"}:
            return f"span #{i + 1} has unknown keys"
        start, end = span["start"], span["end"]
        if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool):
            return f"span #{i + 1}: start and end are whole numbers"
        if start < 0 or end <= start:
            return f"span #{i + 1}: needs 0 <= start < end"
        if length is not None and end > length:
            return f"span #{i + 1} ends at {end}, past the text's {length} characters"
        if length is not None and "text" in span and span["text"] != text[start:end]:
            return f"span #{i + 1}: text does not match offsets {start}-{end}"
        message = _check_label(control, span)
        if message:
            return f"span #{i + 1}: {message}"
        spans.append((start, end, span["label"]))
    if not control.allow_overlap:
        spans.sort()
        for (_, end_a, _), (start_b, _, _) in zip(spans, spans[1:], strict=False):
            if start_b < end_a:
                return "spans overlap, which this control does not allow"
    return None


def _inside(x: float, y: float, width: float | None, height: float | None) -> bool:
    tolerance = PIXEL_TOLERANCE
    if x < -tolerance or y < -tolerance:
        return False
    if width is not None and x > width + tolerance:
        return False
    return not (height is not None and y > height + tolerance)


def _check_boxes(control: Control, value: Any, _data: dict, width, height) -> str | None:
    if not isinstance(value, list):
        return "must be a list of boxes"
    for i, box in enumerate(value):
        if not isinstance(box, dict) or not {"x", "y", "width", "height", "label"} <= set(box):
            return f"box #{i + 1} needs x, y, width, height and label"
        if set(box) - {"x", "y", "width", "height", "label"}:
            return f"box #{i + 1} has unknown keys"
        x, y, w, h = box["x"], box["y"], box["width"], box["height"]
        if not all(_is_number(v) for v in (x, y, w, h)):
            return f"box #{i + 1}: coordinates are numbers"
        if w <= 0 or h <= 0:
            return f"box #{i + 1}: width and height must be positive"
        if not (_inside(x, y, width, height) and _inside(x + w, y + h, width, height)):
            return f"box #{i + 1} lies outside the image"
        message = _check_label(control, box)
        if message:
            return f"box #{i + 1}: {message}"
    return None


def _check_polygons(control: Control, value: Any, _data: dict, width, height) -> str | None:
    if not isinstance(value, list):
        return "must be a list of polygons"
    for i, polygon in enumerate(value):
        if not isinstance(polygon, dict) or not {"points", "label"} <= set(polygon):
            return f"polygon #{i + 1} needs points and label"
        if set(polygon) - {"points", "label"}:
            return f"polygon #{i + 1} has unknown keys"
        points = polygon["points"]
        if not isinstance(points, list) or len(points) < 3:
            return f"polygon #{i + 1} needs at least three points"
        for point in points:
            if not (isinstance(point, list | tuple) and len(point) == 2):
                return f"polygon #{i + 1}: a point is [x, y]"
            if not all(_is_number(v) for v in point):
                return f"polygon #{i + 1}: coordinates are numbers"
            if not _inside(point[0], point[1], width, height):
                return f"polygon #{i + 1} lies outside the image"
        message = _check_label(control, polygon)
        if message:
            return f"polygon #{i + 1}: {message}"
    return None


def _check_text(control: Control, value: Any, *_: Any) -> str | None:
    if not isinstance(value, str):
        return "must be text"
    return None


def _check_pairwise(control: Control, value: Any, *_: Any) -> str | None:
    if value not in PAIRWISE_ANSWERS:
        return "must be 'a', 'b' or 'tie'"
    return None


_CHECKS = {
    CHOICE: _check_choice,
    MULTI: _check_multi,
    SPANS: _check_spans,
    BOXES: _check_boxes,
    POLYGONS: _check_polygons,
    TEXT: _check_text,
    PAIRWISE: _check_pairwise,
}


def label_schema_parsed(raw: Any) -> LabelSchema:
    """The schema parsed once per process for the same text: for the calls that read a project
    each time and would otherwise parse its schema each time (an event, an answer, a draft).
    Shared, so read-only, as every LabelSchema is once built."""
    try:
        text = orjson.dumps(raw)
    except TypeError:
        return LabelSchema(raw)  # not JSON (refused by the parse, with its message)
    return _label_schema_of_text(text)


@functools.lru_cache(maxsize=256)
def _label_schema_of_text(text: bytes) -> LabelSchema:
    return LabelSchema(orjson.loads(text))
