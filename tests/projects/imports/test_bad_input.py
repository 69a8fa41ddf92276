"""Bad input never gives a 500 or partial garbage: each gets a clear message, line-numbered where
it is a row, and the good rows go in."""

import io
import zipfile

import pytest
from PIL import Image

from projects.models import ImportJob, Item, Membership
from tests.factories import MembershipFactory, ProjectFactory
from tests.projects.imports.import_support import error_report, import_file, import_mode, upload

__all__ = ["import_mode"]


def test_undecodable_bytes_in_a_row(import_mode, lead_api, project):
    content = b"external_id,text\na,fine\nb,caf\xe9 latin-1\nc,also fine\n"
    job = import_file(lead_api, project, "mixed.csv", content)
    assert (job["status"], job["created_count"], job["failed_count"]) == ("done", 2, 1)
    assert error_report(lead_api, job["id"])[1] == ["3", "the line is not valid UTF-8 text"]


def test_undecodable_header_fails_the_file(import_mode, lead_api, project):
    job = import_file(lead_api, project, "latin.csv", b"t\xe9xt\nabc\n")
    assert job["status"] == "failed"
    assert job["message"] == "Line 1: the file is not valid UTF-8 text."
    assert not Item.objects.filter(project=project).exists()


def test_undecodable_jsonl_line(import_mode, lead_api, project):
    job = import_file(lead_api, project, "x.jsonl", b'{"text": "a"}\n{"text": "\xff"}\n')
    assert (job["created_count"], job["failed_count"]) == (1, 1)
    line, reason = error_report(lead_api, job["id"])[1]
    assert line == "2" and "invalid JSON" in reason and "UTF-8" in reason


def test_ragged_rows(import_mode, lead_api, project):
    job = import_file(lead_api, project, "r.csv", b"a,text\n1,x\n2,y,extra\n3\n4,z\n")
    assert (job["created_count"], job["failed_count"]) == (2, 2)
    assert error_report(lead_api, job["id"])[1:] == [
        ["3", "has 3 fields, the header has 2"],
        ["4", "has 1 fields, the header has 2"],
    ]


def test_json_syntax_error_names_its_line(import_mode, lead_api, project):
    body = (
        b'[\n  {"text": "one"},\n  {"text": "two"},\n'
        b'  {"text": "three" "oops"},\n  {"text": "4"}\n]'
    )
    job = import_file(lead_api, project, "broken.json", body)
    assert job["status"] == "failed"
    assert job["message"].startswith("JSON syntax error at line 4:"), job["message"]


def test_json_cut_short(import_mode, lead_api, project):
    job = import_file(lead_api, project, "cut.json", b'[{"text": "one"}, {"text": "tw')
    assert job["status"] == "failed"
    assert "cut short" in job["message"] or "line 1" in job["message"]


def test_jsonl_syntax_error_is_a_row_error(import_mode, lead_api, project):
    job = import_file(
        lead_api, project, "x.jsonl", b'{"text": "a"}\n{"text": \n[1]\n{"text": "b"}\n'
    )
    assert (job["created_count"], job["failed_count"]) == (2, 2)
    rows = error_report(lead_api, job["id"])[1:]
    assert [r[0] for r in rows] == ["2", "3"]
    assert "invalid JSON" in rows[0][1] and "JSON object" in rows[1][1]


@pytest.mark.django_db
def test_empty_file_is_refused_at_upload(lead_api, project):
    response = upload(lead_api, project, "empty.csv", b"")
    assert response.status_code == 400
    assert "empty" in response.json()["file"][0] or "empty" in str(response.json())
    assert not ImportJob.objects.exists()


def test_blank_file_fails_with_a_message(import_mode, lead_api, project):
    job = import_file(lead_api, project, "blank.jsonl", b"\n\n  \n")
    assert (job["status"], job["message"]) == ("failed", "The file is empty.")
    job = import_file(lead_api, project, "header-only.csv", b"\n")
    assert job["status"] == "failed" and "empty" in job["message"]


@pytest.mark.django_db
def test_file_over_the_size_limit_is_refused(lead_api, project, settings):
    settings.IMPORT_MAX_FILE_BYTES = 100
    response = upload(lead_api, project, "big.csv", b"text\n" + b"x" * 200 + b"\n")
    # refused as the upload streams in (issue 18), before any of it is stored
    assert response.status_code == 413
    assert response.json()["detail"] == (
        "The upload is over the limit of 100 bytes (IMPORT_MAX_FILE_BYTES)."
    )


@pytest.mark.django_db
def test_unknown_format_is_refused(lead_api, project):
    response = upload(lead_api, project, "blob.bin", b"\x00\x01\x02 no commas here")
    assert response.status_code == 400
    assert "Cannot tell the file's format" in response.json()["detail"]


@pytest.fixture
def image_project(db, lead):
    schema = {"controls": [{"name": "kind", "kind": "choice", "source": "image", "labels": ["a"]}]}
    project = ProjectFactory(label_schema=schema)
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    return project


def _png(size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (0, 90, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def _zip(entries: dict[str, bytes]) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in entries.items():
            zf.writestr(name, content)
    return archive.getvalue()


def test_zip_bomb_over_the_total_size_limit(import_mode, lead_api, image_project, settings):
    settings.IMPORT_ZIP_MAX_TOTAL_BYTES = 1_000_000
    body = _zip({"a.png": _png(), "huge.png": b"\0" * 2_000_000})
    job = import_file(lead_api, image_project, "bomb.zip", body)
    assert job["status"] == "failed"
    assert job["message"].startswith("Zip bomb refused: the archive unpacks to")
    assert not Item.objects.filter(project=image_project).exists()


def test_zip_entries_unsafe_or_not_images(import_mode, lead_api, image_project):
    big = io.BytesIO()
    Image.new("1", (12_000, 8_000)).save(big, format="PNG")  # 96 million pixels
    truncated = _png((64, 64))
    body = _zip(
        {
            "ok.png": _png(),
            "../escape.png": _png(),
            "/etc/absolute.png": _png(),
            "notes.txt": b"not an image",
            "fake.png": b"this is text pretending to be a png",
            "ratio.png": b"\0" * 3_000_000,  # compresses about 1000:1
            "bomb.png": big.getvalue(),
            "truncated.png": truncated[: len(truncated) // 2],
        }
    )
    job = import_file(lead_api, image_project, "mixed.zip", body)
    assert (job["status"], job["created_count"], job["failed_count"]) == ("done", 1, 7), job
    reasons = dict(error_report(lead_api, job["id"])[1:])
    assert [int(line) for line in reasons] == [2, 3, 4, 5, 6, 7, 8]
    text = list(reasons.values())
    assert "climbs out of the archive with '..'" in text[0]
    assert "is an absolute path" in text[1]
    assert "notes.txt" in text[2] and "not an image" in text[2]
    assert "fake.png" in text[3] and "not an image" in text[3]
    assert "compression ratio" in text[4] and "zip bomb refused" in text[4]
    assert "bomb.png" in text[5] and "decompression bomb refused" in text[5]
    assert "truncated" in text[6]
    assert Item.objects.get(project=image_project).external_id == "ok.png"


def test_not_a_zip(import_mode, lead_api, image_project):
    job = import_file(
        lead_api, image_project, "x.zip", b"PK\x03\x04 but nothing after", format="image_zip"
    )
    assert job["status"] == "failed" and job["message"].startswith("Not a readable zip file")


def test_corrupt_parquet_and_xlsx(import_mode, lead_api, project):
    job = import_file(lead_api, project, "x.parquet", b"PAR1 garbage", format="parquet")
    assert job["status"] == "failed" and job["message"].startswith("Not a readable Parquet file")
    job = import_file(lead_api, project, "x.xlsx", b"not a workbook", format="xlsx")
    assert job["status"] == "failed" and job["message"].startswith("Not a readable .xlsx")
