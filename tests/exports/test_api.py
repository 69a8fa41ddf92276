"""The export API and page: start (202), state and progress, download, manifest, list, roles."""

from __future__ import annotations

import hashlib
import json

import pytest
from rest_framework.test import APIClient

from exports.models import ExportJob
from tests.exports.conftest import database_label_counts
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def start(client, project, django_capture_on_commit_callbacks, **body):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post(f"/api/projects/{project.pk}/exports/", body, format="json")


def test_start_poll_download(text_project, lead_api, django_capture_on_commit_callbacks):
    project = text_project.project
    response = start(
        lead_api,
        project,
        django_capture_on_commit_callbacks,
        format="jsonl",
        options={"include_annotations": True},
    )
    assert response.status_code == 202
    assert response.data["status"] == "queued" and response.data["format"] == "jsonl"
    job_id = response.data["id"]
    state = lead_api.get(f"/api/exports/{job_id}/").data
    assert state["status"] == "done" and state["progress"] == 1.0
    assert state["items_written"] == state["items_total"] == 10
    assert state["download_url"] == f"/api/exports/{job_id}/download/"
    download = lead_api.get(state["download_url"])
    assert download.status_code == 200
    assert download["Content-Type"] == "application/x-ndjson"
    assert f'filename="{state["filename"]}"' in download["Content-Disposition"]
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == state["checksum"]
    rows = [json.loads(line) for line in body.splitlines()]
    assert len(rows) == 10 and len(rows[0]["annotations"]) == 2
    manifest = lead_api.get(f"/api/exports/{job_id}/manifest/").data
    assert manifest["label_distribution"]["sentiment"] == dict(
        database_label_counts(project)["sentiment"]
    )


def test_options_may_be_top_level(text_project, lead_api, django_capture_on_commit_callbacks):
    response = start(
        lead_api,
        text_project.project,
        django_capture_on_commit_callbacks,
        format="parquet",
        split=[0.8, 0.1, 0.1],
        split_seed=4,
    )
    assert response.status_code == 202
    job = ExportJob.objects.get(pk=response.data["id"])
    assert job.options["split"] == [0.8, 0.1, 0.1] and job.options["split_seed"] == 4
    download = lead_api.get(f"/api/exports/{job.pk}/download/")
    assert download["Content-Type"] == "application/vnd.apache.parquet"
    assert download["Content-Disposition"].endswith('.parquet"')


def test_zip_formats_download_as_zip(image_project, lead_api, django_capture_on_commit_callbacks):
    response = start(
        lead_api, image_project.project, django_capture_on_commit_callbacks, format="yolo"
    )
    download = lead_api.get(f"/api/exports/{response.data['id']}/download/")
    assert download["Content-Type"] == "application/zip"
    assert b"".join(download.streaming_content)[:2] == b"PK"


def test_list_is_per_project_and_paginated(
    text_project, lead_api, django_capture_on_commit_callbacks
):
    for format in ("jsonl", "csv"):
        start(lead_api, text_project.project, django_capture_on_commit_callbacks, format=format)
    listing = lead_api.get(f"/api/projects/{text_project.project.pk}/exports/").data
    assert [j["format"] for j in listing["results"]] == ["csv", "jsonl"]
    assert listing["next"] is None and listing["count"] == 2


def test_bad_requests_name_the_problem(text_project, lead_api, django_capture_on_commit_callbacks):
    project = text_project.project
    assert (
        start(lead_api, project, django_capture_on_commit_callbacks, format="xml").status_code
        == 400
    )
    refused = start(lead_api, project, django_capture_on_commit_callbacks, format="coco")
    assert refused.status_code == 400 and "format" in refused.data
    refused = start(
        lead_api,
        project,
        django_capture_on_commit_callbacks,
        format="jsonl",
        options={"split": [1, 1]},
    )
    assert refused.status_code == 400 and "split" in refused.data
    assert not ExportJob.objects.exists()


def test_a_queued_export_does_not_download_yet(text_project, lead, lead_api):
    job = ExportJob.objects.create(project=text_project.project, created_by=lead, format="jsonl")
    assert lead_api.get(f"/api/exports/{job.pk}/download/").status_code == 409
    cancelled = lead_api.post(f"/api/exports/{job.pk}/cancel/")
    assert cancelled.data["status"] == "cancelled"


def test_annotators_and_strangers_cannot_export(
    text_project, lead, annotator_api, django_capture_on_commit_callbacks
):
    project = text_project.project
    assert (
        start(
            annotator_api, project, django_capture_on_commit_callbacks, format="jsonl"
        ).status_code
        == 403
    )
    assert annotator_api.get(f"/api/projects/{project.pk}/exports/").status_code == 403
    job = ExportJob.objects.create(project=project, created_by=lead, format="jsonl")
    for url in (
        f"/api/exports/{job.pk}/",
        f"/api/exports/{job.pk}/download/",
        f"/api/exports/{job.pk}/manifest/",
    ):
        assert annotator_api.get(url).status_code == 403
    assert annotator_api.post(f"/api/exports/{job.pk}/cancel/").status_code == 403
    stranger = APIClient()
    stranger.force_authenticate(UserFactory(username="stranger"))
    assert (
        stranger.get(f"/api/exports/{job.pk}/").status_code == 404
    )  # outsiders: not there for them
    assert APIClient().get(f"/api/exports/{job.pk}/").status_code in (401, 403)


def test_page_panel_lists_exports_and_starts_one(
    text_project, lead, client, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    project = text_project.project
    detail = client.get(f"/projects/{project.pk}/").content.decode()
    assert f'hx-get="/projects/{project.pk}/exports/"' in detail
    assert "?format=jsonl" in detail  # the quick download links stay
    panel = client.get(f"/projects/{project.pk}/exports/").content.decode()
    assert 'name="format"' in panel and '<option value="coco">' not in panel  # no boxes here
    assert "No exports yet." in panel
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            f"/projects/{project.pk}/exports/start/",
            {"format": "csv", "items": "all", "include_annotations": "on", "split": "80,10,10"},
            HTTP_HX_REQUEST="true",
        )
    assert started.status_code == 200
    job = ExportJob.objects.get()
    assert job.options["only_resolved"] is False and job.options["include_annotations"] is True
    assert job.options["split"] == pytest.approx([0.8, 0.1, 0.1])
    listing = client.get(f"/projects/{project.pk}/exports/jobs/").content.decode()
    assert f'data-export-id="{job.pk}"' in listing and 'data-status="done"' in listing
    assert f"/api/exports/{job.pk}/download/" in listing and "<progress" in listing
    assert client.get(f"/api/exports/{job.pk}/download/").status_code == 200


def test_page_panel_is_for_leads_only(text_project, annotator, client):
    client.force_login(annotator)
    assert client.get(f"/projects/{text_project.project.pk}/exports/").status_code == 403
    assert (
        client.post(
            f"/projects/{text_project.project.pk}/exports/start/", {"format": "jsonl"}
        ).status_code
        == 403
    )


def test_page_refuses_bad_options_with_a_message(text_project, lead, client):
    client.force_login(lead)
    response = client.post(
        f"/projects/{text_project.project.pk}/exports/start/",
        {"format": "jsonl", "split": "1,2"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200  # htmx swaps only 2xx answers
    assert "Export refused: split" in response.content.decode()
    assert not ExportJob.objects.exists()
