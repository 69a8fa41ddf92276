"""One item as the data manager's item page shows it: data, answers, predictions, history."""

from __future__ import annotations

import json
from typing import Any

from labeling.models import Annotation, Assignment, Resolution
from projects.items.titles import item_title_of
from projects.label_schema import LabelSchema, SchemaError
from projects.media import MediaLinks
from projects.models import Item, Prediction


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)


def _workspace_view(
    *, item: Item, data: dict, controls: list[dict], answers: list, predictions: list, history: list
) -> dict[str, Any]:
    """What the page's script needs to show the item through the annotators' workspace, with
    each stored result (the current resolution first) ready to be shown in its widgets."""
    shown = [
        {"label": f"Resolution ({r['method']}, {r['state']})", "result": r["result"]}
        for r in history
        if r["is_current"] and isinstance(r["result"], dict)
    ]
    shown += [
        {"label": f"{a['annotator__username']}'s answer", "result": a["result"]} for a in answers
    ]
    shown += [
        {"label": f"Prediction {p['model_version'] or ''}".strip(), "result": p["result"]}
        for p in predictions
        if isinstance(p["result"], dict)
    ]
    if item.gold is not None and isinstance(item.gold, dict):
        shown.append({"label": "Gold answer", "result": item.gold})
    return {
        "controls": controls,
        "item": {"id": item.pk, "data": data, "width": item.width, "height": item.height},
        "shown": shown,
    }


def item_detail(*, item: Item) -> dict[str, Any]:
    """The item's data by the schema's source fields first, every answer with its annotator and
    times, the predictions newest first, the resolutions newest first and the held slots; and
    the same shown through the workspace's widgets (`view`)."""
    controls: list[dict] = []
    try:
        schema = LabelSchema(item.project.label_schema)
        controls = schema.as_json()["controls"]
        sources = [s for c in schema.controls for s in c.source]
        image_sources = {
            s
            for c in schema.controls
            if c.kind in {"boxes", "polygons"} or "image" in c.source
            for s in c.source
        }
    except SchemaError:
        sources, image_sources = [], set()
    data = item.data if isinstance(item.data, dict) else {"data": item.data}
    data = MediaLinks(item.project_id).data(data)
    ordered = list(dict.fromkeys([s for s in sources if s in data] + list(data)))
    fields = [
        {
            "name": name,
            "is_source": name in sources,
            "image": name in image_sources or name == "image",
            "value": data[name],
            "text": data[name] if isinstance(data[name], str) else _pretty(data[name]),
        }
        for name in ordered
    ]
    answers = [
        {**row, "result_json": _pretty(row["result"])}
        for row in Annotation.objects.filter(item=item)
        .order_by("created_at", "id")
        .values("id", "annotator__username", "result", "lead_time", "created_at", "updated_at")
    ]
    predictions = [
        {**row, "result_json": _pretty(row["result"])}
        for row in Prediction.objects.filter(item=item)
        .order_by("-created_at", "-id")
        .values("id", "model_version", "score", "result", "created_at")
    ]
    history = [
        {**row, "result_json": _pretty(row["result"])}
        for row in Resolution.objects.filter(item=item)
        .order_by("-created_at", "-id")
        .values(
            "id",
            "result",
            "method",
            "state",
            "agreement",
            "reason",
            "reviewer__username",
            "is_current",
            "created_at",
        )
    ]
    held = list(
        Assignment.objects.filter(item=item, state=Assignment.State.ACTIVE)
        .order_by("expires_at")
        .values("annotator__username", "expires_at")
    )
    view = _workspace_view(
        item=item,
        data=data,
        controls=controls,
        answers=answers,
        predictions=predictions,
        history=history,
    )
    return {
        "item": item,
        "title": item_title_of(item),
        "view": view,
        "fields": fields,
        "answers": answers,
        "predictions": predictions,
        "history": history,
        "held": held,
        "gold_json": _pretty(item.gold) if item.gold is not None else None,
        "wanted": item.project.overlap + item.extra_slots,
    }
