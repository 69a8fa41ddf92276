"""The label schema as a JSON Schema (draft 2020-12), for the OpenAPI document and the docs.

projects.label_schema is what checks a schema; this describes the same rules for readers and
generated clients (the cross-control rules, unique names and hotkeys, are stated in the text).
"""

from __future__ import annotations

from projects import label_schema as ls

LABEL = {
    "oneOf": [
        {"type": "string", "minLength": 1, "example": "positive"},
        {
            "type": "object",
            "required": ["value"],
            "additionalProperties": False,
            "properties": {
                "value": {"type": "string", "minLength": 1},
                "color": {"type": "string", "description": "CSS colour, e.g. #e6194b"},
                "hotkey": {
                    "type": "string",
                    "maxLength": 1,
                    "description": "One key; unique in the schema; not one the workspace keeps "
                    f"({' '.join(sorted(ls.RESERVED_HOTKEYS - {' '}))} and space)",
                },
            },
        },
    ]
}

CONTROL = {
    "type": "object",
    "required": ["name", "kind"],
    "properties": {
        "name": {
            "type": "string",
            "minLength": 1,
            "description": "Unique in the schema; the result's key for this control.",
        },
        "kind": {
            "type": "string",
            "enum": list(ls.KINDS),
            "description": "choice: one label; multi: a list of labels; spans: text spans "
            "(code-point offsets, end exclusive); boxes / polygons: shapes in image pixels; "
            "text: free text; pairwise: 'a', 'b' or 'tie' between two sources. A choice over an "
            "image field is an image classification.",
        },
        "source": {
            "description": "The item data field the control reads (pairwise: two fields).",
            "oneOf": [
                {"type": "string", "minLength": 1},
                {
                    "type": "array",
                    "items": {"type": "string", "minLength": 1},
                    "minItems": 2,
                    "maxItems": 2,
                },
            ],
            "default": "text",
        },
        "labels": {
            "type": "array",
            "minItems": 1,
            "items": LABEL,
            "description": "Required for choice, multi, spans, boxes and polygons; unique values.",
        },
        "required": {
            "type": "boolean",
            "description": "Must be answered. Default true for choice, multi and pairwise; false "
            "for spans, boxes, polygons and text (a required region control needs one region).",
        },
        "allow_overlap": {
            "type": "boolean",
            "default": True,
            "description": "spans only: may spans overlap.",
        },
    },
}

LABEL_SCHEMA_JSON_SCHEMA = {
    "type": "object",
    "title": "LabelSchema",
    "description": "The controls annotators answer. Control names and label hotkeys are unique "
    "across the schema. Every annotation, prediction and resolution is an object keyed by "
    "control name.",
    "required": ["controls"],
    "properties": {"controls": {"type": "array", "minItems": 1, "items": CONTROL}},
    "example": {
        "controls": [
            {
                "name": "sentiment",
                "kind": "choice",
                "source": "text",
                "labels": [{"value": "positive", "color": "#2e7d32", "hotkey": "1"}, "negative"],
            },
            {"name": "entities", "kind": "spans", "source": "text", "labels": ["PER", "ORG"]},
        ]
    },
}
