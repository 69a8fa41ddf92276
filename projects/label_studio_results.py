"""Quorum results as Label Studio result items: what the Label Studio export writes and what
model backends (Label Studio's ML backend protocol) are sent for training. The opposite way,
Label Studio results into ours, is projects.imports.readers.label_studio.ls_result_convert."""

from __future__ import annotations

import hashlib
from typing import Any

from projects import label_schema as ls
from projects.label_schema import LabelSchema

PAIRWISE_TO_LS = {"a": "left", "b": "right", "tie": "none"}
LS_TYPES = {
    ls.CHOICE: "choices",
    ls.MULTI: "choices",
    ls.SPANS: "labels",
    ls.BOXES: "rectanglelabels",
    ls.POLYGONS: "polygonlabels",
    ls.TEXT: "textarea",
    ls.PAIRWISE: "pairwise",
}


def _region_id(*parts: Any) -> str:
    """A stable 10-character region id (Label Studio's are random; ours repeat run to run)."""
    return hashlib.blake2s(repr(parts).encode(), digest_size=8).hexdigest()[:10]


def _percent(value: float, total: int | None) -> float:
    return value * 100.0 / total if total else value


def label_studio_result(
    schema: LabelSchema,
    result: dict | None,
    *,
    data: dict,
    width: int | None,
    height: int | None,
    key: tuple,
) -> list[dict[str, Any]]:
    """Our result as Label Studio result items (pixel shapes become percentages)."""
    items: list[dict[str, Any]] = []
    if not result:
        return items
    for control in schema.controls:
        value = result.get(control.name)
        if value in (None, "", []):
            continue
        kind = control.kind
        base = {"type": LS_TYPES[kind], "origin": "manual", "from_name": control.name}
        base["to_name"] = control.name if kind == ls.PAIRWISE else control.source[0]
        values: list[dict[str, Any]] = []
        extra: dict[str, Any] = {}
        if kind == ls.CHOICE:
            values = [{"choices": [value]}]
        elif kind == ls.MULTI:
            values = [{"choices": list(value)}]
        elif kind == ls.TEXT:
            values = [{"text": [value]}]
        elif kind == ls.PAIRWISE:
            values = [{"selected": PAIRWISE_TO_LS[value]}]
        elif kind == ls.SPANS:
            text = data.get(control.source[0])
            for span in value:
                entry = {"start": span["start"], "end": span["end"]}
                if isinstance(text, str):
                    entry["text"] = text[span["start"] : span["end"]]
                entry["labels"] = [span["label"]]
                values.append(entry)
        elif kind in ls.SHAPE_KINDS:
            extra = {"image_rotation": 0, "original_width": width, "original_height": height}
            for shape in value:
                if kind == ls.BOXES:
                    values.append(
                        {
                            "x": _percent(shape["x"], width),
                            "y": _percent(shape["y"], height),
                            "width": _percent(shape["width"], width),
                            "height": _percent(shape["height"], height),
                            "rotation": 0,
                            "rectanglelabels": [shape["label"]],
                        }
                    )
                else:
                    values.append(
                        {
                            "points": [
                                [_percent(x, width), _percent(y, height)]
                                for x, y in shape["points"]
                            ],
                            "closed": True,
                            "polygonlabels": [shape["label"]],
                        }
                    )
        for index, entry in enumerate(values):
            items.append(
                {"id": _region_id(*key, control.name, index), **base, "value": entry, **extra}
            )
    return items
