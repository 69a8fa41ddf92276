"""The label contract: schema checks and result validation for every control kind."""

import json

import pytest

from projects.label_schema import LabelSchema, ResultError, SchemaError, label_schema_parsed

FULL_SCHEMA = {
    "controls": [
        {
            "name": "sentiment",
            "kind": "choice",
            "source": "text",
            "labels": ["positive", "negative"],
        },
        {
            "name": "topics",
            "kind": "multi",
            "source": "text",
            "labels": ["sports", "politics"],
            "required": False,
        },
        {
            "name": "entities",
            "kind": "spans",
            "source": "text",
            "labels": ["PER", "ORG"],
            "required": False,
            "allow_overlap": False,
        },
        {
            "name": "objects",
            "kind": "boxes",
            "source": "image",
            "labels": ["car"],
            "required": False,
        },
        {
            "name": "regions",
            "kind": "polygons",
            "source": "image",
            "labels": ["road"],
            "required": False,
        },
        {"name": "caption", "kind": "text", "source": "image", "required": False},
        {"name": "better", "kind": "pairwise", "source": ["a", "b"], "required": False},
    ]
}
DATA = {"text": "Zoë met Ada at ACME.", "image": "/media/x.png", "a": "one", "b": "two"}


@pytest.fixture
def schema():
    return LabelSchema(FULL_SCHEMA)


def errors_of(schema, result, **bounds):
    with pytest.raises(ResultError) as caught:
        schema.validate(result, data=DATA, **bounds)
    return caught.value.errors


def test_a_full_result_of_every_kind_is_accepted(schema):
    result = {
        "sentiment": "positive",
        "topics": ["sports"],
        "entities": [
            {"start": 0, "end": 3, "label": "PER"},
            {"start": 8, "end": 11, "label": "PER"},
        ],
        "objects": [{"x": 12.0, "y": 40.5, "width": 100.0, "height": 80.0, "label": "car"}],
        "regions": [{"points": [[0, 0], [50, 0], [50, 20]], "label": "road"}],
        "caption": "a red car",
        "better": "tie",
    }
    assert schema.validate(result, data=DATA, width=640, height=480) == result


def test_span_offsets_are_code_points():
    # "Zoë" is three code points; the span text must match the slice.
    schema = LabelSchema(FULL_SCHEMA)
    ok = {
        "sentiment": "positive",
        "entities": [{"start": 0, "end": 3, "label": "PER", "text": "Zoë"}],
    }
    schema.validate(ok, data=DATA)
    bad = {
        "sentiment": "positive",
        "entities": [{"start": 0, "end": 3, "label": "PER", "text": "Zo"}],
    }
    assert "entities" in errors_of(schema, bad)


@pytest.mark.parametrize(
    ("result", "control", "fragment"),
    [
        ({"sentiment": "angry"}, "sentiment", "unknown label 'angry'"),
        ({}, "sentiment", "required"),
        ({"sentiment": ""}, "sentiment", "required"),
        ({"sentiment": ["positive"]}, "sentiment", "one label"),
        ({"sentiment": "positive", "mood": "x"}, "mood", "unknown control"),
        ({"sentiment": "positive", "topics": ["sports", "sports"]}, "topics", "twice"),
        ({"sentiment": "positive", "topics": ["art"]}, "topics", "unknown label"),
        (
            {"sentiment": "positive", "entities": [{"start": 5, "end": 99, "label": "PER"}]},
            "entities",
            "past the text",
        ),
        (
            {"sentiment": "positive", "entities": [{"start": 3, "end": 3, "label": "PER"}]},
            "entities",
            "start < end",
        ),
        (
            {"sentiment": "positive", "entities": [{"start": 0, "end": 3, "label": "LOC"}]},
            "entities",
            "unknown label",
        ),
        (
            {
                "sentiment": "positive",
                "entities": [
                    {"start": 0, "end": 5, "label": "PER"},
                    {"start": 4, "end": 7, "label": "ORG"},
                ],
            },
            "entities",
            "overlap",
        ),
        (
            {
                "sentiment": "positive",
                "objects": [{"x": 600, "y": 0, "width": 100, "height": 10, "label": "car"}],
            },
            "objects",
            "outside the image",
        ),
        (
            {
                "sentiment": "positive",
                "objects": [{"x": 0, "y": 0, "width": -1, "height": 10, "label": "car"}],
            },
            "objects",
            "positive",
        ),
        (
            {
                "sentiment": "positive",
                "objects": [{"x": "a", "y": 0, "width": 1, "height": 1, "label": "car"}],
            },
            "objects",
            "numbers",
        ),
        (
            {"sentiment": "positive", "regions": [{"points": [[0, 0], [1, 1]], "label": "road"}]},
            "regions",
            "three points",
        ),
        (
            {
                "sentiment": "positive",
                "regions": [{"points": [[0, 0], [1, 1], [900, 1]], "label": "road"}],
            },
            "regions",
            "outside",
        ),
        ({"sentiment": "positive", "caption": 5}, "caption", "text"),
        ({"sentiment": "positive", "better": "c"}, "better", "'a', 'b' or 'tie'"),
    ],
)
def test_bad_results_are_refused_naming_the_control(schema, result, control, fragment):
    errors = errors_of(schema, result, width=640, height=480)
    assert control in errors
    assert fragment in errors[control]


def test_result_must_be_an_object(schema):
    assert "result" in errors_of(schema, ["positive"])


def test_shape_bounds_are_checked_only_when_the_size_is_known(schema):
    far_box = {"x": 5000, "y": 5000, "width": 10, "height": 10, "label": "car"}
    schema.validate({"sentiment": "positive", "objects": [far_box]}, data=DATA)


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ({}, "controls"),
        ({"controls": []}, "at least one"),
        ({"controls": [{"name": "a", "kind": "dial", "labels": ["x"]}]}, "kind must be"),
        ({"controls": [{"name": "a", "kind": "choice", "labels": []}]}, "labels"),
        ({"controls": [{"name": "a", "kind": "choice", "labels": ["x", "x"]}]}, "unique"),
        (
            {
                "controls": [
                    {"name": "a", "kind": "choice", "labels": ["x"]},
                    {"name": "a", "kind": "text"},
                ]
            },
            "names must be unique",
        ),
        ({"controls": [{"name": "a", "kind": "pairwise", "source": "t"}]}, "two sources"),
        (
            {"controls": [{"name": "a", "kind": "choice", "source": ["t", "u"], "labels": ["x"]}]},
            "one data field",
        ),
        (
            {
                "controls": [
                    {
                        "name": "a",
                        "kind": "choice",
                        "labels": [{"value": "x", "hotkey": "1"}, {"value": "y", "hotkey": "1"}],
                    }
                ]
            },
            "hotkeys used twice",
        ),
        (
            {
                "controls": [
                    {"name": "a", "kind": "choice", "labels": [{"value": "x", "hotkey": "S"}]}
                ]
            },
            "kept by the workspace",
        ),
    ],
)
def test_malformed_schemas_are_refused(raw, fragment):
    with pytest.raises(SchemaError, match=fragment):
        LabelSchema(raw)


def test_schema_normalises_labels_to_objects():
    schema = LabelSchema({"controls": [{"name": "s", "kind": "choice", "labels": ["a"]}]})
    control = schema.as_json()["controls"][0]
    assert control["labels"] == [{"value": "a", "color": "", "hotkey": ""}]
    assert control["source"] == "text"
    assert LabelSchema(schema.as_json()).as_json() == schema.as_json()


def test_a_schema_is_parsed_once_per_process_for_the_same_text():
    raw = {"controls": [{"name": "label", "kind": "choice", "labels": ["a", "b"]}]}
    first = label_schema_parsed(raw)
    assert label_schema_parsed(json.loads(json.dumps(raw))) is first
    assert first.by_name["label"].label_values == {"a", "b"}
    other = label_schema_parsed(
        {"controls": [{"name": "label", "kind": "choice", "labels": ["a"]}]}
    )
    assert other is not first and other.by_name["label"].label_values == {"a"}
    with pytest.raises(SchemaError):
        label_schema_parsed({"controls": []})
