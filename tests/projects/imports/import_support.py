"""Helpers for the import tests: upload through the API and wait for the job to finish, either
in-process (eager, the embedded default) or on a real Celery worker."""

from __future__ import annotations

import csv
import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

WAIT_SECONDS = 60


@pytest.fixture(
    params=["eager", pytest.param("worker", marks=[pytest.mark.worker, pytest.mark.postgres])]
)
def import_mode(request, transactional_db):
    """Each import test runs in-process and, on PostgreSQL, on a real Celery worker. Rows are
    committed (transactional_db): on_commit enqueues, and the worker sees them."""
    if request.param == "worker":
        request.getfixturevalue("celery_worker_process")
    return request.param


def upload(lead_api, project, name: str, content: bytes, **fields):
    body = {"file": SimpleUploadedFile(name, content), **fields}
    return lead_api.post(f"/api/projects/{project.pk}/imports/", body, format="multipart")


def job_wait(lead_api, job_id: int, *, until=None, timeout: float = WAIT_SECONDS) -> dict:
    """Poll the job through the API until it is finished (or `until(job)` holds)."""
    deadline = time.monotonic() + timeout
    while True:
        job = lead_api.get(f"/api/imports/{job_id}/").json()
        if until(job) if until else job["status"] in ("done", "failed", "cancelled"):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"import job {job_id} did not get there in time: {job}")
        time.sleep(0.1)


def import_file(lead_api, project, name: str, content: bytes, **fields) -> dict:
    response = upload(lead_api, project, name, content, **fields)
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "queued"
    return job_wait(lead_api, response.json()["id"])


def error_report(lead_api, job_id: int) -> list[list[str]]:
    response = lead_api.get(f"/api/imports/{job_id}/errors/")
    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(text)))
