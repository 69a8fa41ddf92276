"""An annotator's own past answers: the history page lists them and opens one to change it."""

from __future__ import annotations

import re

from django.db.models import QuerySet

from labeling.consensus.aggregation.choice import PAIRWISE_WORDS
from labeling.models import Annotation
from projects import label_schema as ls
from projects.models import Item, Project

# The workspace's test for an image URL (static/js/workspace.js IMAGE_URL).
IMAGE_URL = re.compile(
    r"^(data:image/|(https?://|/).+\.(png|jpe?g|gif|webp|bmp|svg|tiff?)(\?.*)?$)", re.I
)


def annotations_of_annotator(*, project: Project, annotator) -> QuerySet[Annotation]:
    """The annotator's answers in the project, most recently changed first."""
    return (
        Annotation.objects.filter(project=project, annotator=annotator)
        .select_related("item")
        .order_by("-updated_at", "-id")
    )


def annotation_own(*, item: Item, annotator) -> Annotation | None:
    return Annotation.objects.filter(item=item, annotator=annotator).first()


def annotation_can_edit(*, annotation: Annotation) -> bool:
    """Answers may change until the item is resolved (annotation_submit enforces the same)."""
    return annotation.item.status != Item.Status.RESOLVED


# The label colours the workspace gives labels without one (static/js/hotkeys.js PALETTE).
LABEL_PALETTE = (
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#9467bd",
    "#ff7f0e",
    "#17becf",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
)
PREVIEW_CHARS = 160


def _excerpt(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chips(control, value, data: dict) -> list[dict]:
    """The answer to one control as the workspace shows it: label chips (colour, label, what)."""
    colors = {
        label.value: label.color or LABEL_PALETTE[n % len(LABEL_PALETTE)]
        for n, label in enumerate(control.labels)
    }

    def chip(label: str, detail: str = "") -> dict:
        return {"label": label, "color": colors.get(label, ""), "detail": detail}

    if control.kind in (ls.CHOICE,):
        return [chip(str(value))]
    if control.kind == ls.MULTI:
        return [chip(str(v)) for v in value]
    if control.kind == ls.SPANS:
        text = list(str(data.get(control.source[0], "")))  # offsets are code points
        return [
            chip(s["label"], f"“{_excerpt(''.join(text[s['start'] : s['end']]))}”") for s in value
        ]
    if control.kind == ls.BOXES:
        return [
            chip(
                b["label"],
                f"box {round(b['width'])}×{round(b['height'])}"
                f" at ({round(b['x'])}, {round(b['y'])})",
            )
            for b in value
        ]
    if control.kind == ls.POLYGONS:
        return [chip(p["label"], f"polygon, {len(p['points'])} points") for p in value]
    if control.kind == ls.PAIRWISE:
        return [{"label": PAIRWISE_WORDS.get(value, str(value)), "color": "", "detail": ""}]
    return [{"label": "", "color": "", "detail": _excerpt(str(value), PREVIEW_CHARS)}]


def answer_rendered(*, schema: ls.LabelSchema, result: dict, data: dict) -> list[dict]:
    """[{control, chips}] for the controls answered, in the schema's order."""
    return [
        {"control": control.name, "chips": _chips(control, result[control.name], data)}
        for control in schema.controls
        if control.name in result
    ]


def item_preview(*, schema: ls.LabelSchema, data: dict) -> dict:
    """What reminds a person of the item: its first image (a thumbnail) and its first text."""
    image = text = ""
    for control in schema.controls:
        for source in control.source:
            value = data.get(source)
            if not isinstance(value, str) or not value:
                continue
            if control.kind in ls.SHAPE_KINDS or IMAGE_URL.match(value):
                image = image or value
            else:
                text = text or _excerpt(value, PREVIEW_CHARS)
    return {"image": image, "text": text}


def item_waiting_for(item: Item, overlap: int) -> int:
    """Answers an open item still waits for (0 once it is in review or resolved)."""
    if item.status != Item.Status.OPEN:
        return 0
    return max(overlap + item.extra_slots - item.annotation_count, 0)
