"""Where an import hands over what projects/ cannot store itself.

Annotations carried by an import (e.g. from a Label Studio export) are rows of the labeling app,
and projects/ must not import labeling/. So labeling registers its store here when Django starts
(LabelingConfig.ready), and the import calls it inside each batch's transaction. Without a
registered store, carried annotations are reported as not imported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from projects.models import Project


@dataclass
class CarriedAnnotations:
    item_id: int
    line: int
    data: dict[str, Any]
    width: int | None
    height: int | None
    annotations: list[dict[str, Any]]  # {"annotator": {"id", "email"}, "result", "lead_time"}


# (project, items with their annotations) -> [(line, problem)]
AnnotationsStore = Callable[[Project, list[CarriedAnnotations]], list[tuple[int, str]]]

_annotations_store: list[AnnotationsStore] = []


def annotations_store_register(store: AnnotationsStore) -> None:
    _annotations_store[:] = [store]


def annotations_store(project: Project, carried: list[CarriedAnnotations]) -> list[tuple[int, str]]:
    if not carried:
        return []
    if not _annotations_store:
        return [(c.line, "annotations were not imported (no annotation store)") for c in carried]
    return _annotations_store[0](project, carried)
