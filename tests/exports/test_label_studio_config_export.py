"""The Label Studio JSON export carries the matching label config: every result's from_name and
to_name are tags of it, and reading it back gives the project's schema."""

import json

from defusedxml.ElementTree import fromstring
from django.core.files.uploadedfile import SimpleUploadedFile

from labeling.models import Annotation
from projects.label_schema import LabelSchema
from projects.label_studio_config import label_studio_config_to_schema
from projects.models import Project
from tests.exports.helpers import export_run
from tests.exports.test_roundtrip import answers, import_wait


def _tags(xml: str) -> dict[str, str]:
    return {e.get("name"): e.tag for e in fromstring(xml).iter() if e.get("name")}


def test_text_export_carries_a_config_that_reads_back_as_the_schema(text_project, lead, tmp_path):
    job, path = export_run(
        text_project.project, lead, "label_studio", tmp_path, include_annotations=True
    )
    xml = job.manifest["writer_report"]["label_config"]
    tags = _tags(xml)
    assert tags["text"] == "Text"
    assert tags["sentiment"] == "Choices" and tags["entities"] == "Labels"
    tasks = json.loads(path.read_text())
    names = {
        (r["from_name"], r["to_name"]) for t in tasks for a in t["annotations"] for r in a["result"]
    }
    assert names and all(f in tags and t in tags for f, t in names)
    schema = LabelSchema(label_studio_config_to_schema(xml))
    assert schema.as_json() == LabelSchema(text_project.project.label_schema).as_json()


def test_image_export_config_has_image_tags(image_project, lead, tmp_path):
    job, path = export_run(image_project.project, lead, "label_studio", tmp_path)
    xml = job.manifest["writer_report"]["label_config"]
    tags = _tags(xml)
    assert tags["image"] == "Image"
    assert tags["objects"] == "RectangleLabels" and tags["regions"] == "PolygonLabels"
    # The data file itself stays the task list Label Studio imports.
    assert isinstance(json.loads(path.read_text()), list)


def test_a_project_made_from_the_exported_config_takes_the_export_back(
    text_project, lead, lead_api, transactional_db, tmp_path
):
    job, path = export_run(
        text_project.project,
        lead,
        "label_studio",
        tmp_path,
        include_annotations=True,
        only_resolved=False,
    )
    # Label Studio -> Quorum: the project is created from the config alone, through the API.
    converted = lead_api.post(
        "/api/label-schema/from-label-studio/",
        {"config": job.manifest["writer_report"]["label_config"]},
        format="json",
    )
    assert converted.status_code == 200, converted.content
    created = lead_api.post(
        "/api/projects/",
        {"name": "Back from Label Studio", "label_schema": converted.json()["label_schema"]},
        format="json",
    )
    assert created.status_code == 201, created.content
    target_id = created.json()["id"]
    response = lead_api.post(
        f"/api/projects/{target_id}/imports/",
        {"file": SimpleUploadedFile("export.json", path.read_bytes()), "format": "label_studio"},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    assert import_wait(lead_api, response.json()["id"])["status"] == "done"
    by_data = lambda item: repr(sorted(item.data.items()))  # noqa: E731
    target = Project.objects.get(pk=target_id)
    assert (
        Annotation.objects.filter(project=target).count()
        == Annotation.objects.filter(project=text_project.project).count()
    )
    assert answers(target, by_data) == answers(text_project.project, by_data)


def test_the_export_serves_its_label_config(text_project, lead, lead_api, tmp_path):
    job, _ = export_run(text_project.project, lead, "label_studio", tmp_path)
    response = lead_api.get(f"/api/exports/{job.pk}/label-config/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/xml"
    assert response.content.decode() == job.manifest["writer_report"]["label_config"]
    jsonl, _ = export_run(text_project.project, lead, "jsonl", tmp_path)
    assert lead_api.get(f"/api/exports/{jsonl.pk}/label-config/").status_code == 404
