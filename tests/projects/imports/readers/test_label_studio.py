"""Label Studio results into the label contract."""

import pytest

from projects.imports.readers.label_studio import (
    ConversionError,
    ls_result_convert,
    ls_task_to_row,
    utf16_to_code_points,
)
from projects.label_schema import LabelSchema

SCHEMA = LabelSchema(
    {
        "controls": [
            {"name": "topics", "kind": "multi", "source": "text", "labels": ["a", "b"]},
            {"name": "ents", "kind": "spans", "source": "text", "labels": ["PER"]},
            {"name": "regions", "kind": "polygons", "source": "image", "labels": ["road"]},
            {"name": "note", "kind": "text", "source": "text", "required": False},
        ]
    }
)


def test_multi_choice_spans_polygons_and_text():
    data = {"text": "Hi 😀 Zoë!", "image": "/x.png"}
    results = [
        {"from_name": "topics", "type": "choices", "value": {"choices": ["a", "b"]}},
        # the editor counts UTF-16 units: the emoji is 2 of them, so Zoë is at 6-9, not 5-8
        {
            "from_name": "ents",
            "type": "labels",
            "value": {"start": 6, "end": 9, "text": "Zoë", "labels": ["PER"]},
        },
        {
            "from_name": "regions",
            "type": "polygonlabels",
            "original_width": 200,
            "original_height": 100,
            "value": {"points": [[0, 0], [50, 0], [50, 50]], "polygonlabels": ["road"]},
        },
        {"from_name": "note", "type": "textarea", "value": {"text": ["first", "second"]}},
    ]
    result = ls_result_convert(results, schema=SCHEMA, data=data)
    assert result["topics"] == ["a", "b"]
    assert result["ents"] == [{"start": 5, "end": 8, "label": "PER"}]
    assert data["text"][5:8] == "Zoë"
    assert result["regions"] == [
        {"points": [[0.0, 0.0], [100.0, 0.0], [100.0, 50.0]], "label": "road"}
    ]
    assert result["note"] == "first\nsecond"


def test_utf16_offsets():
    assert utf16_to_code_points("a😀b", 3) == 2
    assert utf16_to_code_points("abc", 2) == 2


@pytest.mark.parametrize(
    "result",
    [
        {"from_name": "nope", "type": "choices", "value": {"choices": ["a"]}},
        {"from_name": "topics", "type": "rectanglelabels", "value": {}},
        {"from_name": "ents", "type": "labels", "value": {"start": 0}},
    ],
)
def test_what_cannot_be_converted(result):
    with pytest.raises(ConversionError):
        ls_result_convert([result], schema=SCHEMA, data={"text": "abc"})


def test_cancelled_annotations_are_left_out_and_bad_ones_noted():
    task = {
        "id": 5,
        "data": {"text": "abc"},
        "annotations": [
            {"id": 1, "completed_by": 3, "was_cancelled": True, "result": []},
            {
                "id": 2,
                "completed_by": {"id": 4, "email": "x@example.com"},
                "result": [{"from_name": "topics", "type": "choices", "value": {"choices": ["a"]}}],
            },
            {
                "id": 3,
                "completed_by": 5,
                "result": [{"from_name": "zzz", "type": "choices", "value": {}}],
            },
        ],
        "predictions": [7],
    }
    row = ls_task_to_row(task, schema=SCHEMA)
    assert row["external_id"] == "5"
    assert [a["annotator"] for a in row["annotations"]] == [{"id": 4, "email": "x@example.com"}]
    assert row["predictions"] == []
    assert row["notes"] == ["annotation 3: control 'zzz' is not in this project's schema"]
