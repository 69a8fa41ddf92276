"""No 500 on any input (issue 18, part 1): projects always have a valid schema, ids in URLs are
numbers or 404, malformed export options are a 400, a NUL character is refused naming its field
(and is a per-row error in imports), every API error is JSON, and the schema says what the API
answers."""

import importlib
import io

import pytest
import yaml
from django.apps import apps
from django.core.management import call_command
from django.test import RequestFactory

from projects.label_schema import LabelSchema
from projects.models import Item, Prediction, Project
from tests.factories import ItemFactory, ProjectFactory
from tests.projects.imports.import_support import error_report, import_file

NUL = "\x00"


def test_project_created_without_schema_is_refused(lead_api):
    response = lead_api.post("/api/projects/", {"name": "no schema"}, format="json")
    assert response.status_code == 400
    assert "label_schema" in response.json()
    assert not Project.objects.filter(name="no schema").exists()


def test_a_project_made_without_a_schema_gets_a_valid_default(db):
    project = Project.objects.create(name="bare")
    LabelSchema(project.label_schema)  # raises if invalid


def test_migration_repairs_projects_stored_with_an_empty_schema(project):
    Project.objects.filter(pk=project.pk).update(label_schema={})
    good = ProjectFactory()
    migration = importlib.import_module("projects.migrations.0005_hardening")
    migration.schemas_repair(apps, None)
    project.refresh_from_db()
    LabelSchema(project.label_schema)
    good_before = good.label_schema
    good.refresh_from_db()
    assert good.label_schema == good_before


@pytest.mark.parametrize(
    "url",
    [
        "/api/imports/abc/",
        "/api/imports/abc/errors/",
        "/api/exports/abc/",
        "/api/exports/abc/download/",
        "/api/assignments/abc/skip/",
        "/api/items/abc/review/",
        "/api/items/1.5/",
        "/api/projects/abc/next/",
        "/api/projects/99999999999999999999999/",
        "/api/no-such-thing/",
    ],
)
def test_non_numeric_ids_answer_404_json(lead_api, project, url):
    response = lead_api.get(url)
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/json")
    assert "detail" in response.json()


def test_export_options_that_are_not_an_object_answer_400(lead_api, project):
    response = lead_api.post(
        f"/api/projects/{project.pk}/exports/",
        {"format": "jsonl", "options": "abc"},
        format="multipart",
    )
    assert response.status_code == 400
    assert "options" in response.json()
    ok = lead_api.post(
        f"/api/projects/{project.pk}/exports/",
        {"format": "jsonl", "options": '{"only_resolved": false}'},
        format="multipart",
    )
    assert ok.status_code == 202, ok.json()
    assert ok.json()["options"]["only_resolved"] is False


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("items", [{"data": {"text": f"a{NUL}b"}}], "[0].data.text"),
        ("items", [{"data": {"text": "ok"}, "external_id": f"x{NUL}"}], "[0].external_id"),
        (
            "predictions",
            [{"external_id": "i1", "result": {"sentiment": f"positive{NUL}"}}],
            "[0].result.sentiment",
        ),
    ],
)
def test_nul_in_project_calls_is_a_400_naming_the_field(lead_api, project, path, body, field):
    ItemFactory(project=project, external_id="i1", data={"text": "one"})
    response = lead_api.post(f"/api/projects/{project.pk}/{path}/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert "NUL" in response.json()[field][0]
    assert Item.objects.filter(project=project).count() == 1
    assert Prediction.objects.count() == 0


def test_nul_in_answers_and_drafts_is_a_400_naming_the_field(annotator_api, project):
    item = ItemFactory(project=project, data={"text": "one"})
    answer = annotator_api.post(
        f"/api/items/{item.pk}/annotations/", {"result": {"sentiment": f"a{NUL}"}}, format="json"
    )
    assert answer.status_code == 400
    assert "result.sentiment" in answer.json()
    draft = annotator_api.put(
        f"/api/items/{item.pk}/draft/", {"result": {f"k{NUL}": "x"}}, format="json"
    )
    assert draft.status_code == 400
    assert "result.k\\u0000" in draft.json()


def test_nul_in_a_form_field_is_a_400(lead_api, project):
    response = lead_api.post(
        f"/api/projects/{project.pk}/exports/", {"format": f"jsonl{NUL}"}, format="multipart"
    )
    assert response.status_code == 400
    assert "format" in response.json()


@pytest.mark.django_db(transaction=True)
def test_an_import_reports_nul_rows_by_line_and_keeps_the_good_rows(lead_api, project):
    lines = [f'{{"external_id": "r{n}", "text": "row {n}"}}' for n in range(1, 6)]
    lines[2] = '{"external_id": "r3", "text": "bad \\u0000 row"}'
    lines[3] = '{"external_id": "r4\\u0000", "text": "bad id"}'
    job = import_file(lead_api, project, "rows.jsonl", "\n".join(lines).encode() + b"\n")
    assert job["status"] == "done", job
    assert (job["created_count"], job["failed_count"]) == (3, 2)
    assert set(Item.objects.filter(project=project).values_list("external_id", flat=True)) == {
        "r1",
        "r2",
        "r5",
    }
    rows = error_report(lead_api, job["id"])
    assert [r[0] for r in rows[1:]] == ["3", "4"]
    assert "data.text" in rows[1][1] and "NUL" in rows[1][1]
    assert "external_id" in rows[2][1]


def test_unexpected_api_errors_answer_json(db):
    from labeling.site import api_errors

    request = RequestFactory().get("/api/projects/")
    response = api_errors.server_error(request)
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert b"detail" in response.content
    # the DRF handler turns anything it does not know into a JSON 500 as well
    answered = api_errors.api_exception_handler(RuntimeError("boom"), {})
    assert answered.status_code == 500 and b"detail" in answered.content
    page = api_errors.server_error(RequestFactory().get("/projects/"))
    assert page["Content-Type"].startswith("text/html")


def test_schema_matches_what_the_api_answers():
    out = io.StringIO()
    # drf-spectacular's warnings (W001) fail the generation
    call_command("spectacular", "--fail-on-warn", "--validate", stdout=out)
    schema = yaml.safe_load(out.getvalue())
    components = schema["components"]["schemas"]
    paths = schema["paths"]

    def ok_schema(path):
        return paths[path]["get"]["responses"]["200"]["content"]["application/json"]["schema"]

    assert ok_schema("/api/projects/{id}/annotators/")["type"] == "array"
    assert ok_schema("/api/projects/{id}/exports/")["$ref"].endswith("PaginatedExportJobList")
    assert components["ResolutionRecord"]["properties"]["reviewer"]["nullable"] is True
    assert components["Project"]["properties"]["id"]["type"] == "integer"
    for path, operations in paths.items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] != "username":
                    assert parameter["schema"]["type"] == "integer", path
    for name in ("gold_share", "auto_accept_threshold"):
        field = components["ProjectRequest"]["properties"][name]
        assert (field["minimum"], field["maximum"]) == (0.0, 1.0)
