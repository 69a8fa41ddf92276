"""Label Studio `<View>` configs to and from Quorum schemas, on Label Studio 1.23.2 configs."""

from pathlib import Path

import pytest

from projects.label_schema import LabelSchema, SchemaError
from projects.label_studio_config import (
    LabelStudioConfigError,
    label_studio_config_from_schema,
    label_studio_config_to_schema,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures/label-studio"


def fixture_config(name: str) -> str:
    return (FIXTURES / f"label-config-{name}.xml").read_text()


def test_text_sentiment_ner_config_reads_as_choice_and_spans():
    schema = label_studio_config_to_schema(fixture_config("text-sentiment-ner"))
    assert schema == {
        "controls": [
            {
                "name": "sentiment",
                "kind": "choice",
                "source": "text",
                "labels": ["positive", "negative", "neutral"],
            },
            {
                "name": "entities",
                "kind": "spans",
                "source": "text",
                "labels": ["PER", "ORG", "LOC"],
            },
        ]
    }
    parsed = LabelSchema(schema)
    assert parsed.by_name["sentiment"].required is True
    # "No entities in this sentence" is an answer.
    assert parsed.by_name["entities"].required is False


def test_image_boxes_config_keeps_label_colours():
    schema = label_studio_config_to_schema(fixture_config("image-boxes"))
    assert schema == {
        "controls": [
            {
                "name": "objects",
                "kind": "boxes",
                "source": "image",
                "labels": [
                    {"value": "car", "color": "#1f77b4", "hotkey": ""},
                    {"value": "person", "color": "#d62728", "hotkey": ""},
                ],
            }
        ]
    }


def test_pairwise_config_reads_both_sources():
    schema = label_studio_config_to_schema(fixture_config("pairwise"))
    assert schema == {"controls": [{"name": "pw", "kind": "pairwise", "source": ["a", "b"]}]}


@pytest.mark.parametrize("name", ["text-sentiment-ner", "image-boxes", "pairwise"])
def test_fixture_configs_round_trip(name):
    schema = label_studio_config_to_schema(fixture_config(name))
    xml = label_studio_config_from_schema(schema)
    again = label_studio_config_to_schema(xml)
    assert LabelSchema(again).as_json() == LabelSchema(schema).as_json()


EVERY_KIND = {
    "controls": [
        {
            "name": "sentiment",
            "kind": "choice",
            "source": "text",
            "labels": [{"value": "positive", "color": "#00aa00", "hotkey": "1"}, "negative"],
        },
        {"name": "topics", "kind": "multi", "source": "text", "labels": ["sports", "politics"]},
        {"name": "entities", "kind": "spans", "source": "text", "labels": ["PER", "ORG"]},
        {"name": "objects", "kind": "boxes", "source": "image", "labels": ["car", "person"]},
        {"name": "regions", "kind": "polygons", "source": "image", "labels": ["road"]},
        {"name": "caption", "kind": "text", "source": "image", "required": False},
        {"name": "better", "kind": "pairwise", "source": ["response_a", "response_b"]},
        {"name": "comment", "kind": "text", "source": "text", "required": True},
        {
            "name": "optional_class",
            "kind": "choice",
            "source": "text",
            "labels": ["x", "y"],
            "required": False,
        },
    ]
}


def test_every_kind_round_trips_with_colours_hotkeys_and_required():
    xml = label_studio_config_from_schema(EVERY_KIND)
    assert '<Image name="image" value="$image" />' in xml
    assert '<Text name="text" value="$text" />' in xml
    assert '<Pairwise name="better" toName="response_a,response_b" />' in xml
    assert '<Choices name="topics" toName="text" choice="multiple" required="true">' in xml
    assert '<Choice value="positive" background="#00aa00" hotkey="1" />' in xml
    assert (
        LabelSchema(label_studio_config_to_schema(xml)).as_json()
        == LabelSchema(EVERY_KIND).as_json()
    )


def test_written_config_is_what_the_exporter_names_objects():
    # Our Label Studio export writes to_name = the control's first source field.
    xml = label_studio_config_from_schema(EVERY_KIND)
    for field in ("text", "image", "response_a", "response_b"):
        assert f'name="{field}" value="${field}"' in xml


def test_choice_over_an_image_field_is_an_image_tag():
    xml = label_studio_config_from_schema(
        {
            "controls": [
                {"name": "animal", "kind": "choice", "source": "photo_url", "labels": ["cat"]}
            ]
        }
    )
    assert '<Image name="photo_url" value="$photo_url" />' in xml
    xml = label_studio_config_from_schema(
        {"controls": [{"name": "animal", "kind": "choice", "source": "src", "labels": ["cat"]}]},
        image_fields={"src"},
    )
    assert '<Image name="src"' in xml


def test_label_values_are_escaped():
    schema = {
        "controls": [
            {
                "name": "c",
                "kind": "choice",
                "source": "text",
                "labels": ['a "quoted" <b> & more', "plain"],
            }
        ]
    }
    xml = label_studio_config_from_schema(schema)
    assert "&quot;" in xml and "&lt;b&gt;" in xml and "&amp;" in xml
    assert label_studio_config_to_schema(xml)["controls"][0]["labels"][0] == 'a "quoted" <b> & more'


def test_rating_is_a_single_choice_of_its_steps():
    schema = label_studio_config_to_schema(
        '<View><Text name="t" value="$review"/>'
        '<Rating name="stars" toName="t" maxRating="4" required="true"/></View>'
    )
    assert schema["controls"] == [
        {
            "name": "stars",
            "kind": "choice",
            "source": "review",
            "labels": ["1", "2", "3", "4"],
            "required": True,
        }
    ]


def test_layout_tags_and_nested_views_are_read_through():
    schema = label_studio_config_to_schema(
        """<View style="display: flex">
          <Header value="Read the review"/>
          <View><Text name="txt" value="$body"/></View>
          <View style="margin: 1em">
            <Choices name="topics" toName="txt" choice="multiple" showInline="true">
              <Choice value="food" hotkey="f"/><Choice value="service"/>
            </Choices>
            <TextArea name="notes" toName="txt" rows="3"/>
          </View>
        </View>"""
    )
    assert schema["controls"] == [
        {
            "name": "topics",
            "kind": "multi",
            "source": "body",
            "labels": [{"value": "food", "color": "", "hotkey": "f"}, "service"],
        },
        {"name": "notes", "kind": "text", "source": "body"},
    ]
    assert LabelSchema(schema).by_name["notes"].required is False


def test_every_tag_quorum_cannot_hold_is_named():
    with pytest.raises(LabelStudioConfigError) as caught:
        label_studio_config_to_schema(
            """<View>
              <Audio name="audio" value="$audio"/>
              <Image name="img" value="$image"/>
              <KeyPointLabels name="kp" toName="img"><Label value="eye"/></KeyPointLabels>
              <BrushLabels name="mask" toName="img"><Label value="sky"/></BrushLabels>
              <Taxonomy name="tax" toName="img"><Choice value="a"/></Taxonomy>
              <Choices name="ok" toName="img"><Choice value="x"/></Choices>
              <Sparkle name="s"/>
            </View>"""
        )
    problems = caught.value.problems
    assert any(p.startswith('<Audio name="audio">') for p in problems)
    assert any(p.startswith('<KeyPointLabels name="kp">') for p in problems)
    assert any(p.startswith('<BrushLabels name="mask">') for p in problems)
    assert any(p.startswith('<Taxonomy name="tax">') for p in problems)
    assert any(p.startswith('<Sparkle name="s">') for p in problems)
    assert not any("ok" in p for p in problems)


@pytest.mark.parametrize(
    ("xml", "message"),
    [
        ("", "empty"),
        ("<View><Text", "not well-formed"),
        ("<Choices/>", "root tag is <Choices>"),
        ("<View><Text name='t' value='$text'/></View>", "no control tag"),
        (
            "<View><Choices name='c' toName='nope'><Choice value='a'/></Choices></View>",
            'toName "nope"',
        ),
        (
            "<View><Text name='t' value='hello'/><TextArea name='c' toName='t'/></View>",
            "value must name one data field",
        ),
        (
            "<View><Text name='t' value='$text'/><Choices name='c' toName='t'/></View>",
            '<Choices name="c">: has no labels',
        ),
        (
            "<View><Text name='t' value='$text'/>"
            "<RectangleLabels name='b' toName='t'><Label value='x'/></RectangleLabels></View>",
            "over <Image>, not <Text>",
        ),
        (
            "<View><Text name='t' value='$text'/><Choices name='c' toName='t' perRegion='true'>"
            "<Choice value='a'/></Choices></View>",
            "perRegion",
        ),
        (
            "<View><Text name='t' value='$text'/><Choices name='c' toName='t'>"
            "<Choice value='a'/><Choice value='a'/></Choices></View>",
            "labels must be unique",
        ),
    ],
)
def test_bad_configs_say_what_is_wrong(xml, message):
    with pytest.raises(LabelStudioConfigError, match=message):
        label_studio_config_to_schema(xml)


def test_entities_and_dtds_are_refused_not_expanded():
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE View [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        '<View><Text name="t" value="$text"/><Choices name="c" toName="t">'
        '<Choice value="&b;"/></Choices></View>'
    )
    with pytest.raises(LabelStudioConfigError, match="DTD or entities"):
        label_studio_config_to_schema(bomb)
    external = (
        '<?xml version="1.0"?><!DOCTYPE View SYSTEM "file:///etc/passwd">'
        '<View><Text name="t" value="$text"/></View>'
    )
    with pytest.raises(LabelStudioConfigError, match="DTD or entities"):
        label_studio_config_to_schema(external)


def test_from_schema_refuses_a_bad_schema_and_name_clashes():
    with pytest.raises(SchemaError):
        label_studio_config_from_schema({"controls": []})
    with pytest.raises(LabelStudioConfigError, match="control 'text' has the name of a data field"):
        label_studio_config_from_schema(
            {"controls": [{"name": "text", "kind": "text", "source": "text"}]}
        )
