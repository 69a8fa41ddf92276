"""The label schema over the API and on the project form: the JSON Schema in the OpenAPI, the
check endpoint, Label Studio configs in (paste or upload) and out. Bad input answers 400
naming the field and stores nothing."""

import json
from pathlib import Path

import pytest
import yaml
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from projects.label_studio_config import label_studio_config_to_schema
from projects.models import Project

pytestmark = pytest.mark.django_db
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures/label-studio"
NER_XML = (FIXTURES / "label-config-text-sentiment-ner.xml").read_text()


def test_openapi_documents_the_label_schema_as_a_json_schema(lead_api):
    document = yaml.safe_load(lead_api.get("/api/schema/").content)
    project = document["components"]["schemas"]["Project"]["properties"]
    schema = project["label_schema"]
    assert schema["required"] == ["controls"]
    control = schema["properties"]["controls"]["items"]
    assert control["properties"]["kind"]["enum"] == [
        "choice",
        "multi",
        "spans",
        "boxes",
        "polygons",
        "text",
        "pairwise",
    ]
    assert "labels" in control["properties"] and "required" in control["properties"]
    components = document["components"]["schemas"]
    written = components.get("PatchedProjectRequest", components.get("PatchedProject"))
    assert "label_renames" in written["properties"]
    assert "label_renames" not in project or project["label_renames"].get("writeOnly")
    assert "/api/label-schema/from-label-studio/" in document["paths"]
    assert "/api/projects/{id}/members/{username}/" in document["paths"]


def test_check_answers_the_normalised_schema_or_the_message(lead_api):
    ok = lead_api.post(
        "/api/label-schema/check/",
        {"label_schema": {"controls": [{"name": "e", "kind": "spans", "labels": ["PER"]}]}},
        format="json",
    )
    assert ok.status_code == 200
    assert ok.json()["label_schema"]["controls"][0]["required"] is False
    bad = lead_api.post(
        "/api/label-schema/check/",
        {"label_schema": {"controls": [{"name": "x", "kind": "dial"}]}},
        format="json",
    )
    assert bad.status_code == 400
    assert bad.json() == {
        "label_schema": [
            "control 'x': kind must be one of choice, multi, spans, boxes, polygons, text, pairwise"
        ]
    }
    not_an_object = lead_api.post("/api/label-schema/check/", [1, 2], format="json")
    assert not_an_object.status_code == 400 and "label_schema" in not_an_object.json()


def test_label_studio_config_in_and_out(lead_api, project):
    converted = lead_api.post(
        "/api/label-schema/from-label-studio/", {"config": NER_XML}, format="json"
    )
    assert converted.status_code == 200
    assert [c["kind"] for c in converted.json()["label_schema"]["controls"]] == ["choice", "spans"]
    back = lead_api.post(
        "/api/label-schema/to-label-studio/",
        {"label_schema": converted.json()["label_schema"]},
        format="json",
    )
    assert back.status_code == 200 and back.json()["config"].startswith("<View>")
    refused = lead_api.post(
        "/api/label-schema/from-label-studio/",
        {
            "config": '<View><Audio name="a" value="$audio"/><Text name="t" value="$text"/>'
            '<Choices name="c" toName="t"><Choice value="x"/></Choices></View>'
        },
        format="json",
    )
    assert refused.status_code == 400
    assert refused.json() == {"config": ['<Audio name="a">: Quorum has no audio data type']}
    missing = lead_api.post("/api/label-schema/from-label-studio/", {}, format="json")
    assert missing.status_code == 400 and "config" in missing.json()
    xml = lead_api.get(f"/api/projects/{project.pk}/label-studio-config/")
    assert xml.status_code == 200 and xml["Content-Type"].startswith("application/xml")
    assert label_studio_config_to_schema(xml.content.decode())["controls"][0]["name"] == "sentiment"


def _create_form(**extra):
    return {
        "name": "From LS",
        "instructions": "",
        "overlap": 1,
        "review_policy": "none",
        "ordering": "sequential",
        **extra,
    }


def test_project_form_takes_a_pasted_label_studio_config(lead):
    client = Client()
    client.force_login(lead)
    response = client.post("/projects/new/", _create_form(label_studio_config=NER_XML))
    assert response.status_code == 302
    schema = Project.objects.get(name="From LS").label_schema
    assert [c["name"] for c in schema["controls"]] == ["sentiment", "entities"]


def test_project_form_takes_an_uploaded_label_studio_config(lead):
    client = Client()
    client.force_login(lead)
    upload = SimpleUploadedFile("config.xml", NER_XML.encode(), content_type="text/xml")
    response = client.post("/projects/new/", _create_form(label_studio_file=upload))
    assert response.status_code == 302
    assert Project.objects.get(name="From LS").label_schema["controls"][1]["kind"] == "spans"


def test_project_form_names_each_tag_it_cannot_hold_and_stores_nothing(lead):
    client = Client()
    client.force_login(lead)
    xml = (
        '<View><Video name="v" value="$video"/><Image name="i" value="$img"/>'
        '<KeyPointLabels name="k" toName="i"><Label value="eye"/></KeyPointLabels></View>'
    )
    response = client.post("/projects/new/", _create_form(label_studio_config=xml))
    assert response.status_code == 200
    page = response.content.decode()
    assert "&lt;Video name=&quot;v&quot;&gt;: Quorum has no video data type" in page
    assert "&lt;KeyPointLabels name=&quot;k&quot;&gt;: Quorum has no key-point control" in page
    assert not Project.objects.filter(name="From LS").exists()


def test_project_create_api_bad_schema_names_the_field_and_stores_nothing(lead_api):
    before = Project.objects.count()
    response = lead_api.post(
        "/api/projects/",
        {"name": "Bad", "label_schema": {"controls": [{"name": "a", "kind": "choice"}]}},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"label_schema": ["control 'a': needs a non-empty list of labels"]}
    renames = lead_api.post(
        "/api/projects/",
        {
            "name": "Bad",
            "label_schema": json.loads(
                json.dumps({"controls": [{"name": "a", "kind": "choice", "labels": ["x"]}]})
            ),
            "label_renames": {"a": {"x": "y"}},
        },
        format="json",
    )
    assert renames.status_code == 400 and "label_renames" in renames.json()
    assert Project.objects.count() == before


def test_builder_pages_carry_templates_and_the_items_fields(project, lead):
    from tests.factories import ItemFactory

    ItemFactory(project=project, data={"body": "hello", "photo_url": "/x.png"})
    client = Client()
    client.force_login(lead)
    new_page = client.get("/projects/new/").content.decode()
    assert 'id="schema-builder-config"' in new_page and "llm-comparison" in new_page
    settings_page = client.get(f"/projects/{project.pk}/settings/").content.decode()
    config = settings_page.split('id="schema-builder-config" type="application/json">')[1]
    config = json.loads(config.split("</script>")[0])
    assert config["fields"] == ["body", "photo_url"]
    assert config["sample"]["data"] == {"body": "hello", "photo_url": "/x.png"}
    assert len(config["templates"]) == 9
