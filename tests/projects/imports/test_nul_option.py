"""A NUL character (\\u0000, which PostgreSQL cannot store) in an imported row: by default the row
is an error with its line and the good rows go in; with `nul=strip` (API, page form) the NULs are
removed and the row goes in. Every format that can carry a NUL is covered."""

import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from projects.items.create import ItemRowParser, RowError
from projects.label_schema import LabelSchema
from projects.models import ImportJob, Item
from projects.unstorable import nul_stripped
from tests.projects.imports.import_support import error_report, import_file, upload

NUL = "\x00"
TEXTS = ["first", f"sec{NUL}ond", "third"]


def _csv(delimiter: str) -> bytes:
    lines = [f"external_id{delimiter}text"]
    lines += [f"r{n}{delimiter}{text}" for n, text in enumerate(TEXTS, start=1)]
    return ("\n".join(lines) + "\n").encode()


def _jsonl() -> bytes:
    return "".join(
        json.dumps({"external_id": f"r{n}", "text": text}) + "\n"
        for n, text in enumerate(TEXTS, start=1)
    ).encode()


def _json() -> bytes:
    rows = [{"external_id": f"r{n}", "text": text} for n, text in enumerate(TEXTS, start=1)]
    return json.dumps(rows, indent=1).encode()


def _label_studio() -> bytes:
    tasks = [
        {"id": n, "data": {"text": text}, "annotations": [], "predictions": []}
        for n, text in enumerate(TEXTS, start=1)
    ]
    return json.dumps(tasks).encode()


def _parquet() -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"external_id": [f"r{n}" for n in range(1, 4)], "text": TEXTS})
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


# (file name, content, the error's line for the NUL row)
FILES = {
    "csv": ("rows.csv", _csv(","), "3"),
    "tsv": ("rows.tsv", _csv("\t"), "3"),
    "jsonl": ("rows.jsonl", _jsonl(), "2"),
    "json": ("rows.json", _json(), "2"),
    "label_studio": ("export.json", _label_studio(), "2"),
    "parquet": ("rows.parquet", _parquet(), "2"),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", sorted(FILES))
def test_a_nul_row_is_an_error_with_its_line_by_default(kind, lead_api, project):
    name, content, line = FILES[kind]
    job = import_file(lead_api, project, name, content, format=kind)
    assert job["status"] == "done", job
    assert (job["created_count"], job["failed_count"]) == (2, 1), job
    [[reported_line, reason]] = error_report(lead_api, job["id"])[1:]
    assert reported_line == line
    assert "data.text" in reason and "NUL" in reason
    texts = set(Item.objects.filter(project=project).values_list("data__text", flat=True))
    assert texts == {"first", "third"}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kind", sorted(FILES))
def test_nul_strip_imports_the_row_without_its_nuls(kind, lead_api, project):
    name, content, _ = FILES[kind]
    job = import_file(lead_api, project, name, content, format=kind, nul="strip")
    assert job["status"] == "done", job
    assert (job["created_count"], job["failed_count"]) == (3, 0), job
    texts = set(Item.objects.filter(project=project).values_list("data__text", flat=True))
    assert texts == {"first", "second", "third"}
    assert ImportJob.objects.get(pk=job["id"]).options["nul"] == "strip"


@pytest.mark.django_db(transaction=True)
def test_nul_strip_reaches_ids_keys_and_nested_values_and_an_emptied_field_is_missing(
    lead_api, project
):
    rows = [
        {"external_id": f"a{NUL}1", "text": "id", f"no{NUL}te": {"deep": [f"x{NUL}y"]}},
        {"external_id": "b1", "text": NUL},  # nothing left of the field the schema reads
    ]
    content = "".join(json.dumps(row) + "\n" for row in rows).encode()
    job = import_file(lead_api, project, "rows.jsonl", content, nul="strip")
    assert (job["created_count"], job["failed_count"]) == (1, 1), job
    item = Item.objects.get(project=project)
    assert item.external_id == "a1"
    assert item.data == {"text": "id", "note": {"deep": ["xy"]}}
    [[line, reason]] = error_report(lead_api, job["id"])[1:]
    assert line == "2" and "missing the field the schema reads: text" in reason


@pytest.mark.django_db(transaction=True)
def test_a_nul_in_a_readers_own_message_is_stored_escaped(lead_api, project):
    project.label_schema = {
        "controls": [{"name": "c", "kind": "choice", "source": "image", "labels": ["a"]}]
    }
    project.save()
    content = f"https://a.test/1.png\nftp://b{NUL}c\n".encode()
    job = import_file(lead_api, project, "urls.txt", content)
    assert (job["created_count"], job["failed_count"]) == (1, 1), job
    [[line, reason]] = error_report(lead_api, job["id"])[1:]
    assert line == "2" and "\\u0000" in reason and "not an http(s) URL" in reason


@pytest.mark.django_db
def test_an_unknown_nul_choice_is_a_400_naming_the_field(lead_api, project):
    response = upload(lead_api, project, "rows.jsonl", _jsonl(), nul="keep")
    assert response.status_code == 400
    assert "nul" in response.json()
    assert not ImportJob.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_page_form_offers_the_choice(lead, project):
    client = Client()
    client.force_login(lead)
    page = client.get(reverse("project-detail", args=[project.pk])).content.decode()
    assert 'name="nul"' in page and "Strip the NULs" in page
    response = client.post(
        reverse("project-upload", args=[project.pk]),
        {"file": SimpleUploadedFile("rows.jsonl", _jsonl()), "nul": "strip"},
    )
    assert response.status_code == 302
    assert Item.objects.filter(project=project).count() == 3


def test_the_openapi_schema_documents_the_choice(lead_api):
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    body = schema["paths"]["/api/projects/{id}/imports/"]["post"]["requestBody"]
    properties = body["content"]["multipart/form-data"]["schema"]
    ref = properties["$ref"].rsplit("/", 1)[-1]
    nul = schema["components"]["schemas"][ref]["properties"]["nul"]
    assert nul.get("default") == "refuse"
    enum_ref = nul["allOf"][0]["$ref"].rsplit("/", 1)[-1] if "allOf" in nul else None
    choices = schema["components"]["schemas"][enum_ref]["enum"] if enum_ref else nul["enum"]
    assert set(choices) == {"refuse", "strip"}


def test_nul_stripped_keeps_order_shape_and_other_values():
    value = {"a": [1, f"x{NUL}", {f"k{NUL}": None}], "b": (True, 2.5), NUL: "z"}
    assert nul_stripped(value) == {"a": [1, "x", {"k": None}], "b": [True, 2.5], "": "z"}
    assert list(nul_stripped(value)) == ["a", "b", ""]


def test_the_parser_refuses_by_default_and_strips_when_asked():
    schema = LabelSchema({"controls": [{"name": "c", "kind": "text", "source": "text"}]})
    row = {"data": {"text": f"a{NUL}b"}, "external_id": "e"}
    with pytest.raises(RowError, match="NUL"):
        ItemRowParser(schema).parse(row)
    parsed = ItemRowParser(schema, nul="strip").parse(row)
    assert parsed.data == {"text": "ab"} and parsed.external_id == "e"
