"""An import's upload streams into the media storage as it arrives (issue 18): it arrives
intact, on local disk and on S3 (moto's server on 127.0.0.1, in multipart parts); a chunked body
with no Content-Length is read through the real web server (Granian) and stopped by the size limit;
nothing is left in the storage by an upload that was refused or cut off. The flat memory of a
300 MB upload is shown by tests/benchmarks/bench_upload.py."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import requests
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from projects.models import ImportJob, Item
from tests.celery_worker import database_url_for_workers
from tests.factories import api_token_secret
from tests.loopback import free_port, web_server_start, web_server_wait_ready
from tests.projects.imports.import_support import import_file, upload

BOUNDARY = "quorum-test-boundary"


def jsonl(rows: int) -> bytes:
    return b"".join(b'{"external_id": "r%d", "text": "row %d"}\n' % (n, n) for n in range(rows))


def uploads_left(media_root: Path) -> list[Path]:
    folder = media_root / "imports" / "uploads"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.mark.django_db(transaction=True)
def test_the_upload_is_the_jobs_file_byte_for_byte(lead_api, project, settings):
    content = jsonl(30_000)  # about a megabyte, in many of the parser's chunks
    job = import_file(lead_api, project, "rows.jsonl", content)
    assert job["status"] == "done" and job["created_count"] == 30_000, job
    stored = ImportJob.objects.get(pk=job["id"]).file
    with stored.open("rb") as stream:
        assert hashlib.sha256(stream.read()).digest() == hashlib.sha256(content).digest()
    assert uploads_left(Path(settings.MEDIA_ROOT)) == [Path(stored.path)]  # written once


@pytest.mark.django_db
def test_a_refused_upload_leaves_nothing_in_the_storage(lead_api, annotator, project, settings):
    media_root = Path(settings.MEDIA_ROOT)
    response = upload(lead_api, project, "blob.bin", b"\x00\x01\x02 no format here")
    assert response.status_code == 400  # the format cannot be told
    annotator_api = Client()
    annotator_api.force_login(annotator)
    refused = annotator_api.post(
        f"/api/projects/{project.pk}/imports/",
        {"file": SimpleUploadedFile("rows.jsonl", jsonl(10))},
    )
    assert refused.status_code == 403
    assert uploads_left(media_root) == []
    assert not ImportJob.objects.exists()


@pytest.mark.django_db
def test_an_upload_cut_off_by_the_limit_leaves_nothing_api_and_page(
    lead, lead_api, project, settings
):
    settings.IMPORT_MAX_FILE_BYTES = 200_000  # the bodies are within the envelope's slack
    response = upload(lead_api, project, "big.jsonl", jsonl(20_000))
    assert response.status_code == 413 and "over the limit" in response.json()["detail"]
    page = Client(enforce_csrf_checks=True)
    page.force_login(lead)
    token = page.get(reverse("project-detail", args=[project.pk])).cookies["csrftoken"].value
    response = page.post(
        reverse("project-upload", args=[project.pk]),
        {"csrfmiddlewaretoken": token, "file": SimpleUploadedFile("big.jsonl", jsonl(20_000))},
    )
    assert response.status_code == 413 and b"over the limit" in response.content
    assert uploads_left(Path(settings.MEDIA_ROOT)) == []
    assert not ImportJob.objects.exists()


# --- on S3 ---------------------------------------------------------------------------------------


@pytest.fixture
def s3_media(settings):
    from tests.labeling.integrations.s3_server import s3_client, s3_server
    from tests.projects.test_media_links import BUCKET, s3_storages

    with s3_server() as endpoint:
        client = s3_client(endpoint)
        client.create_bucket(Bucket=BUCKET)
        settings.STORAGES = {**settings.STORAGES, **s3_storages(endpoint, endpoint)}
        yield client, BUCKET


@pytest.mark.django_db(transaction=True)
def test_on_s3_the_upload_goes_up_in_parts_and_arrives_intact(s3_media, lead_api, project):
    client, bucket = s3_media
    content = jsonl(300_000)  # over 11 MB: more than one 5 MB part
    job = import_file(lead_api, project, "rows.jsonl", content)
    assert job["status"] == "done" and job["created_count"] == 300_000, job
    key = ImportJob.objects.get(pk=job["id"]).file.name
    stored = client.get_object(Bucket=bucket, Key=key)
    assert stored["Body"].read() == content
    assert stored["ETag"].strip('"').endswith("-3")  # a multipart upload of three parts
    refused = upload(lead_api, project, "empty.jsonl", b"")
    assert refused.status_code == 400
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert [k for k in keys if k.startswith("imports/uploads/")] == [key]


# --- a real server: chunked bodies ---------------------------------------------------------------


@pytest.fixture
def web_server(tmp_path):
    """The web server on 127.0.0.1 against the test database; imports run in the server (no broker),
    with a limit of 2 MB."""
    port = free_port()
    log = tmp_path / "web-server.log"
    media_root = tmp_path / "server-media"
    process = web_server_start(
        port,
        log,
        {
            "DATABASE_URL": database_url_for_workers(),
            "CELERY_BROKER_URL": "",
            "SECRET_KEY": "upload-streaming-test",
            "DEBUG": "true",
            "MEDIA_ROOT": str(media_root),
            "IMPORT_MAX_FILE_BYTES": str(2 * 1024 * 1024),
        },
    )
    base = f"http://127.0.0.1:{port}"
    web_server_wait_ready(f"{base}/health/", process, log)
    try:
        yield base, media_root
    finally:
        process.terminate()
        process.wait(timeout=20)


def multipart_pieces(name: str, content: bytes, piece: int = 256 * 1024):
    """A multipart body with one file, in pieces (requests sends a generator chunked)."""
    yield (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    for start in range(0, len(content), piece):
        yield content[start : start + piece]
    yield f"\r\n--{BOUNDARY}--\r\n".encode()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_chunked_upload_without_content_length_is_read_and_limited(web_server, lead, project):
    base, media_root = web_server
    headers = {
        "Authorization": f"Token {api_token_secret(lead)}",
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
    }
    url = f"{base}/api/projects/{project.pk}/imports/"
    content = jsonl(40_000)  # about 1.5 MB: under the limit
    response = requests.post(url, data=multipart_pieces("rows.jsonl", content), headers=headers)
    assert "Content-Length" not in response.request.headers
    assert response.request.headers["Transfer-Encoding"] == "chunked"
    assert response.status_code == 202, response.text
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert job.status == ImportJob.Status.DONE and job.created_count == 40_000, job.message
    assert (media_root / job.file.name).read_bytes() == content
    assert Item.objects.filter(project=project).count() == 40_000

    too_big = jsonl(80_000)  # about 3 MB, and nothing says so before it streams
    response = requests.post(url, data=multipart_pieces("big.jsonl", too_big), headers=headers)
    assert response.status_code == 413 and "over the limit" in response.json()["detail"]
    assert ImportJob.objects.count() == 1
    assert uploads_left(media_root) == [media_root / job.file.name]
