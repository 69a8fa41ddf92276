"""Boxes and polygons: match shapes across annotators, keep the majority's, average coordinates.

Annotators are taken in turn; each one's shapes are matched to the clusters built so far (same
label, IoU >= 0.5, one-to-one by the Hungarian algorithm on 1 - IoU); an unmatched shape starts a
new cluster. A cluster found by more than half the annotators becomes one aggregated shape whose
coordinates are the mean of its members; one found by exactly half is a tie (undecided).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from labeling.consensus.aggregation.base import ControlOutcome, mean_pairwise, strict_majority, tied
from projects.label_schema import Control

if TYPE_CHECKING:
    from shapely.geometry import Polygon

MATCH_IOU = 0.5


def box_array(boxes) -> np.ndarray:
    return np.array(
        [[b["x"], b["y"], b["width"], b["height"]] for b in boxes], dtype=float
    ).reshape(-1, 4)


def box_iou_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU of every box in a (n, 4: x, y, w, h) with every box in b (m, 4)."""
    ax0, ay0, ax1, ay1 = a[:, 0:1], a[:, 1:2], a[:, 0:1] + a[:, 2:3], a[:, 1:2] + a[:, 3:4]
    bx0, by0, bx1, by1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    inter_w = np.clip(np.minimum(ax1, bx1) - np.maximum(ax0, bx0), 0, None)
    inter_h = np.clip(np.minimum(ay1, by1) - np.maximum(ay0, by0), 0, None)
    inter = inter_w * inter_h
    union = (a[:, 2:3] * a[:, 3:4]) + (b[:, 2] * b[:, 3]) - inter
    return np.where(union > 0, inter / np.where(union > 0, union, 1), 0.0)


def polygon_shape(points) -> Polygon:
    from shapely.geometry import Polygon

    shape = Polygon(points)
    return shape if shape.is_valid else shape.buffer(0)


def polygon_iou_matrix(a: list, b: list) -> np.ndarray:
    out = np.zeros((len(a), len(b)))
    for i, pa in enumerate(a):
        for j, pb in enumerate(b):
            union = pa.union(pb).area
            out[i, j] = pa.intersection(pb).area / union if union > 0 else 0.0
    return out


def shapes_match(iou: np.ndarray, labels_a: list, labels_b: list) -> list[tuple[int, int, float]]:
    """One-to-one matches (i, j, iou) with equal labels and IoU >= 0.5, maximising total IoU."""
    from scipy.optimize import linear_sum_assignment

    if iou.size == 0:
        return []
    same = np.array(labels_a, dtype=object)[:, None] == np.array(labels_b, dtype=object)[None, :]
    usable = np.where(same, iou, 0.0)
    rows, cols = linear_sum_assignment(1.0 - usable)
    return [
        (i, j, float(usable[i, j]))
        for i, j in zip(rows, cols, strict=True)
        if usable[i, j] >= MATCH_IOU
    ]


@dataclass
class _Kind:
    """How one shape kind is compared and averaged."""

    iou: object  # (list of shapes, list of shapes) -> IoU matrix
    average: object  # list of shapes -> one shape (without label)


def _box_iou(a: list, b: list) -> np.ndarray:
    return box_iou_matrix(box_array(a), box_array(b))


def _box_average(boxes: list) -> dict:
    mean = box_array(boxes).mean(axis=0)
    return {
        "x": float(mean[0]),
        "y": float(mean[1]),
        "width": float(mean[2]),
        "height": float(mean[3]),
    }


def _polygon_iou(a: list, b: list) -> np.ndarray:
    return polygon_iou_matrix(
        [polygon_shape(p["points"]) for p in a], [polygon_shape(p["points"]) for p in b]
    )


def _signed_area(points: np.ndarray) -> float:
    x, y = points[:, 0], points[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


def _resample(points: np.ndarray, count: int) -> np.ndarray:
    """count points evenly spaced along the closed outline, starting at the first vertex."""
    closed = np.vstack([points, points[:1]])
    lengths = np.hypot(*np.diff(closed, axis=0).T)
    cumulative = np.concatenate(([0.0], np.cumsum(lengths)))
    targets = np.linspace(0.0, cumulative[-1], count, endpoint=False)
    return np.column_stack([np.interp(targets, cumulative, closed[:, k]) for k in (0, 1)])


def polygons_average(point_lists: list) -> list[list[float]]:
    """Mean outline: same orientation and vertex count (resampled if needed), aligned start."""
    arrays = [np.asarray(p, dtype=float) for p in point_lists]
    reference = arrays[0] if _signed_area(arrays[0]) >= 0 else arrays[0][::-1]
    count = max(len(a) for a in arrays)
    same_count = all(len(a) == count for a in arrays)
    if not same_count:
        reference = _resample(reference, count)
    aligned = []
    for points in arrays:
        oriented = points if _signed_area(points) >= 0 else points[::-1]
        if not same_count:
            oriented = _resample(oriented, count)
        shifts = [np.roll(oriented, -k, axis=0) for k in range(count)]
        costs = [float(((s - reference) ** 2).sum()) for s in shifts]
        aligned.append(shifts[int(np.argmin(costs))])
    return np.mean(aligned, axis=0).round(6).tolist()


def _polygon_average(polygons: list) -> dict:
    return {"points": polygons_average([p["points"] for p in polygons])}


BOX_KIND = _Kind(iou=_box_iou, average=_box_average)
POLYGON_KIND = _Kind(iou=_polygon_iou, average=_polygon_average)


@dataclass
class _Cluster:
    label: str
    members: list = field(default_factory=list)
    representative: dict | None = None


def shapes_f1(kind: _Kind, a, b) -> float:
    """Matched F1 at IoU 0.5 between two annotators' shapes (1.0 when both drew nothing)."""
    a, b = list(a or ()), list(b or ())
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    matches = shapes_match(kind.iou(a, b), [s["label"] for s in a], [s["label"] for s in b])
    return 2 * len(matches) / (len(a) + len(b))


def shapes_matches(kind: _Kind, a, b) -> list[tuple[int, int, float]]:
    a, b = list(a or ()), list(b or ())
    if not a or not b:
        return []
    return shapes_match(kind.iou(a, b), [s["label"] for s in a], [s["label"] for s in b])


def _shapes_aggregate(kind: _Kind, answers: list) -> ControlOutcome:
    voters = len(answers)
    clusters: list[_Cluster] = []
    for answer in answers:
        shapes = list(answer or ())
        if not shapes:
            continue
        if clusters:
            reps = [{**c.representative, "label": c.label} for c in clusters]
            matches = shapes_match(
                kind.iou(shapes, reps), [s["label"] for s in shapes], [c.label for c in clusters]
            )
        else:
            matches = []
        matched = set()
        for i, j, _ in matches:
            cluster = clusters[j]
            cluster.members.append(shapes[i])
            cluster.representative = kind.average(cluster.members)
            matched.add(i)
        for i, shape in enumerate(shapes):
            if i not in matched:
                clusters.append(
                    _Cluster(
                        label=shape["label"], members=[shape], representative=kind.average([shape])
                    )
                )
    kept = [
        {**kind.average(c.members), "label": c.label}
        for c in clusters
        if strict_majority(len(c.members), voters)
    ]
    ties = [c.label for c in clusters if tied(len(c.members), voters)]
    return ControlOutcome(
        value=kept or None,
        agreement=mean_pairwise(answers, lambda a, b: shapes_f1(kind, a, b)),
        decided=not ties,
        note=f"shapes drawn by exactly half the annotators: {sorted(ties)}" if ties else "",
    )


def boxes_aggregate(control: Control, answers: list) -> ControlOutcome:
    return _shapes_aggregate(BOX_KIND, answers)


def polygons_aggregate(control: Control, answers: list) -> ControlOutcome:
    return _shapes_aggregate(POLYGON_KIND, answers)
