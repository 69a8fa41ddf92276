"""What the schema builder page needs: the template gallery, the project's item fields and a
sample item for the live preview (static/js/schema_builder/ does the rest in the browser)."""

from __future__ import annotations

from typing import Any

from django.templatetags.static import static

from projects import label_schema as ls
from projects.models import Item, Project

# Items read for the field names offered as sources (keys of their data).
FIELD_SAMPLE_ITEMS = 50
SAMPLE_IMAGE = "img/sample-street.png"
SAMPLE_IMAGE_SIZE = (480, 320)


def _labels(*pairs: tuple[str, str]) -> list[dict[str, str]]:
    return [{"value": value, "color": color} for value, color in pairs]


def schema_templates() -> list[dict[str, Any]]:
    """The gallery: one schema and one sample item each (images are a static sample)."""
    image = static(SAMPLE_IMAGE)
    width, height = SAMPLE_IMAGE_SIZE
    review = "The delivery from Acme Corp was late, but Maria at the Paris office fixed it fast."
    return [
        {
            "id": "text-classification",
            "title": "Text classification",
            "description": "One label per text.",
            "schema": {
                "controls": [
                    {
                        "name": "sentiment",
                        "kind": ls.CHOICE,
                        "source": "text",
                        "labels": _labels(
                            ("positive", "#2e7d32"), ("negative", "#c62828"), ("neutral", "#616161")
                        ),
                    }
                ]
            },
            "sample": {"text": review},
        },
        {
            "id": "multi-label-topics",
            "title": "Multi-label topics",
            "description": "Any number of topics per text.",
            "schema": {
                "controls": [
                    {
                        "name": "topics",
                        "kind": ls.MULTI,
                        "source": "text",
                        "labels": _labels(
                            ("delivery", "#1565c0"),
                            ("billing", "#6a1b9a"),
                            ("support", "#ef6c00"),
                            ("product", "#00838f"),
                        ),
                    }
                ]
            },
            "sample": {"text": review},
        },
        {
            "id": "ner",
            "title": "Named entities (NER)",
            "description": "Mark spans of text: people, organisations, places.",
            "schema": {
                "controls": [
                    {
                        "name": "entities",
                        "kind": ls.SPANS,
                        "source": "text",
                        "labels": _labels(
                            ("PER", "#e6194b"),
                            ("ORG", "#3cb44b"),
                            ("LOC", "#4363d8"),
                            ("MISC", "#f58231"),
                        ),
                    }
                ]
            },
            "sample": {"text": review},
        },
        {
            "id": "text-sentiment-comment",
            "title": "Text + sentiment + comment",
            "description": "A label and an optional free-text comment.",
            "schema": {
                "controls": [
                    {
                        "name": "sentiment",
                        "kind": ls.CHOICE,
                        "source": "text",
                        "labels": _labels(
                            ("positive", "#2e7d32"), ("negative", "#c62828"), ("neutral", "#616161")
                        ),
                    },
                    {"name": "comment", "kind": ls.TEXT, "source": "text", "required": False},
                ]
            },
            "sample": {"text": review},
        },
        {
            "id": "image-classification",
            "title": "Image classification",
            "description": "One class per image.",
            "schema": {
                "controls": [
                    {
                        "name": "scene",
                        "kind": ls.CHOICE,
                        "source": "image",
                        "labels": _labels(
                            ("street", "#1565c0"), ("indoor", "#6d4c41"), ("nature", "#2e7d32")
                        ),
                    }
                ]
            },
            "sample": {"image": image},
            "size": [width, height],
        },
        {
            "id": "object-detection",
            "title": "Object detection (boxes)",
            "description": "Draw boxes around objects.",
            "schema": {
                "controls": [
                    {
                        "name": "objects",
                        "kind": ls.BOXES,
                        "source": "image",
                        "labels": _labels(("car", "#d62728"), ("person", "#1f77b4")),
                    }
                ]
            },
            "sample": {"image": image},
            "size": [width, height],
        },
        {
            "id": "polygon-segmentation",
            "title": "Polygon segmentation",
            "description": "Outline regions with polygons.",
            "schema": {
                "controls": [
                    {
                        "name": "regions",
                        "kind": ls.POLYGONS,
                        "source": "image",
                        "labels": _labels(
                            ("road", "#616161"), ("sky", "#42a5f5"), ("vehicle", "#d62728")
                        ),
                    }
                ]
            },
            "sample": {"image": image},
            "size": [width, height],
        },
        {
            "id": "llm-comparison",
            "title": "LLM response comparison",
            "description": "Which of two answers to a prompt is better, and why.",
            "schema": {
                "controls": [
                    {
                        "name": "preference",
                        "kind": ls.PAIRWISE,
                        "source": ["response_a", "response_b"],
                    },
                    {"name": "reason", "kind": ls.TEXT, "source": "prompt", "required": False},
                ]
            },
            "sample": {
                "prompt": "How do I boil an egg?",
                "response_a": "Place the egg in boiling water for 9 minutes, then cool it.",
                "response_b": "Eggs are a good source of protein.",
            },
        },
        {
            "id": "transcription",
            "title": "Transcription / free text",
            "description": "Type what the image (or text) says.",
            "schema": {
                "controls": [
                    {"name": "transcription", "kind": ls.TEXT, "source": "image", "required": True}
                ]
            },
            "sample": {"image": image},
            "size": [width, height],
        },
    ]


def project_item_fields(project: Project | None) -> tuple[list[str], dict[str, Any] | None]:
    """The data keys of the project's first items (in first-seen order) and the first item as
    a sample for the preview ({data, width, height}); ([], None) for a project without items."""
    if project is None or project.pk is None:
        return [], None
    rows = list(
        Item.objects.filter(project=project)
        .order_by("id")
        .values("data", "width", "height")[:FIELD_SAMPLE_ITEMS]
    )
    fields: list[str] = []
    for row in rows:
        if isinstance(row["data"], dict):
            fields.extend(k for k in row["data"] if k not in fields)
    sample = rows[0] if rows else None
    return fields, sample


def schema_builder_context(project: Project | None) -> dict[str, Any]:
    fields, sample = project_item_fields(project)
    return {
        "templates": schema_templates(),
        "fields": fields,
        "sample": sample,
        "kinds": list(ls.KINDS),
        "reservedHotkeys": sorted(ls.RESERVED_HOTKEYS),
        "requiredByDefault": sorted(ls.REQUIRED_BY_DEFAULT),
        "schema": project.label_schema if project is not None and project.pk else None,
        "projectId": project.pk if project is not None else None,
    }
