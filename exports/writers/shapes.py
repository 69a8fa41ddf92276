"""The boxes and polygons of a result, as (label, bbox, polygon points) for the image formats."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from projects import label_schema as ls
from projects.label_schema import LabelSchema


@dataclass(frozen=True)
class Shape:
    label: str
    x: float
    y: float
    width: float
    height: float
    points: tuple[tuple[float, float], ...] | None = None  # polygons only

    @property
    def area(self) -> float:
        if self.points is None:
            return self.width * self.height
        # Shoelace formula.
        pts = self.points
        twice = sum(
            x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(pts, pts[1:] + pts[:1], strict=True)
        )
        return abs(twice) / 2


def shape_categories(schema: LabelSchema) -> list[str]:
    """Labels of every box and polygon control, in schema order, each once."""
    names: list[str] = []
    for control in schema.controls:
        if control.kind in ls.SHAPE_KINDS:
            names.extend(lb.value for lb in control.labels if lb.value not in names)
    return names


def result_shapes(schema: LabelSchema, result: dict | None) -> Iterator[Shape]:
    if not result:
        return
    for control in schema.controls:
        value = result.get(control.name)
        if not value:
            continue
        if control.kind == ls.BOXES:
            for box in value:
                yield Shape(
                    box["label"],
                    float(box["x"]),
                    float(box["y"]),
                    float(box["width"]),
                    float(box["height"]),
                )
        elif control.kind == ls.POLYGONS:
            for polygon in value:
                points = tuple((float(x), float(y)) for x, y in polygon["points"])
                xs = [p[0] for p in points]
                ys = [p[1] for p in points]
                yield Shape(
                    polygon["label"],
                    min(xs),
                    min(ys),
                    max(xs) - min(xs),
                    max(ys) - min(ys),
                    points,
                )
