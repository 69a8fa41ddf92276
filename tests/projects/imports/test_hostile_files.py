"""Hostile files (issue 18, part 2): zip names that sanitise alike, xlsx formulas with no saved
result, binary garbage, uploads over the limit refused before the body is read, and CSV
exports that a spreadsheet cannot run as formulas."""

import csv
import io
import zipfile

import pytest
from django.core.files.storage import default_storage
from openpyxl import Workbook
from PIL import Image

from exports.downloads import download_open
from labeling.annotate.submit import annotation_submit
from projects.models import ImportJob, Item, Membership
from tests.exports.helpers import export_run
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory
from tests.projects.imports.import_support import error_report, import_file, upload


@pytest.fixture
def image_project(db, lead):
    schema = {"controls": [{"name": "kind", "kind": "choice", "source": "image", "labels": ["a"]}]}
    project = ProjectFactory(label_schema=schema)
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    return project


def _png(colour) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), colour).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.django_db(transaction=True)
def test_zip_entries_whose_names_sanitise_alike_keep_their_own_files(lead_api, image_project):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("a b.png", _png((255, 0, 0)))
        zf.writestr("a_b.png", _png((0, 0, 255)))
        zf.writestr("a?b.png", _png((0, 255, 0)))
    job = import_file(lead_api, image_project, "images.zip", archive.getvalue())
    assert (job["status"], job["created_count"]) == ("done", 3), job
    items = {i.external_id: i for i in Item.objects.filter(project=image_project)}
    urls = {name: item.data["image"] for name, item in items.items()}
    assert len(set(urls.values())) == 3, urls
    colours = {}
    for name, url in urls.items():
        stored = url.split("/media/", 1)[1]
        with default_storage.open(stored) as stream:
            colours[name] = Image.open(stream).convert("RGB").getpixel((0, 0))
    assert colours == {"a b.png": (255, 0, 0), "a_b.png": (0, 0, 255), "a?b.png": (0, 255, 0)}


def _xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)  # openpyxl stores formulas without their results
    return buffer.getvalue()


@pytest.mark.django_db(transaction=True)
def test_an_xlsx_formula_with_no_saved_result_is_explained(lead_api, project):
    content = _xlsx([["external_id", "text"], ["a", "plain"], ["b", '=CONCAT("x", "y")']])
    job = import_file(lead_api, project, "sheet.xlsx", content)
    assert (job["created_count"], job["failed_count"]) == (1, 1), job
    line, reason = error_report(lead_api, job["id"])[1]
    assert line == "3"
    assert "cell B3" in reason and "formula" in reason and "save it again" in reason


@pytest.mark.django_db(transaction=True)
def test_binary_garbage_named_csv_gets_a_message_a_person_understands(lead_api, project):
    garbage = bytes(range(256)) * 40
    job = import_file(lead_api, project, "data.csv", garbage)
    assert job["status"] == "failed"
    assert job["message"].startswith("This is not a text file")
    assert not Item.objects.filter(project=project).exists()


def test_an_upload_that_says_it_is_over_the_limit_is_refused_unread(lead_api, project, settings):
    settings.IMPORT_MAX_FILE_BYTES = 1000
    response = lead_api.generic(
        "POST",
        f"/api/projects/{project.pk}/imports/",
        b"--x\r\n",  # the rest never comes: the answer must not wait for it
        content_type="multipart/form-data; boundary=x",
        CONTENT_LENGTH=str(50 * 1024**3),
    )
    assert response.status_code == 413
    assert "over the limit of 1000 bytes" in response.json()["detail"]
    assert not ImportJob.objects.exists()


def test_an_upload_over_the_limit_is_cut_off_while_it_streams(lead_api, project, settings):
    settings.IMPORT_MAX_FILE_BYTES = 1000  # the body (about 3 KB) is within the envelope slack
    response = upload(lead_api, project, "big.csv", b"text\n" + b"x" * 3000 + b"\n")
    assert response.status_code == 413
    assert "over the limit" in response.json()["detail"]
    assert not ImportJob.objects.exists()


@pytest.fixture
def formula_project(project, annotator):
    texts = ['=HYPERLINK("http://evil")', "+1+2", "-3", "@SUM(A1)", "\tx", "safe"]
    for n, text in enumerate(texts):
        item = ItemFactory(project=project, data={"text": text}, external_id=f"=id{n}")
        annotation_submit(item=item, annotator=annotator, result={"sentiment": "positive"})
    return project


def _csv_rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode())))


def test_csv_exports_defuse_formula_cells_unless_raw_is_asked(formula_project, lead, tmp_path):
    _, path = export_run(formula_project, lead, "csv", tmp_path)
    rows = _csv_rows(path.read_bytes())
    texts = [row[rows[0].index("text")] for row in rows[1:]]
    assert sorted(texts) == sorted(
        ['\'=HYPERLINK("http://evil")', "'+1+2", "'-3", "'@SUM(A1)", "'\tx", "safe"]
    )
    assert all(row[1].startswith("'=id") for row in rows[1:])
    _, raw_path = export_run(formula_project, lead, "csv", tmp_path, csv_raw=True)
    raw_texts = [row[1 + 1] for row in _csv_rows(raw_path.read_bytes())[1:]]
    assert '=HYPERLINK("http://evil")' in raw_texts and "-3" in raw_texts


def test_csv_downloads_defuse_formula_cells_unless_raw_is_asked(formula_project, lead_api):
    response = lead_api.get(f"/api/projects/{formula_project.pk}/download/?format=csv")
    body = b"".join(response.streaming_content)
    texts = {row[2] for row in _csv_rows(body)[1:]}
    assert '\'=HYPERLINK("http://evil")' in texts and "'-3" in texts and "safe" in texts
    raw = download_open(project=formula_project, format="csv", csv_raw=True)
    raw_texts = {row[2] for row in _csv_rows(b"".join(raw.chunks))[1:]}
    assert '=HYPERLINK("http://evil")' in raw_texts
