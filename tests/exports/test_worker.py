"""An export written by a real Celery worker (a subprocess) through Redis and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from exports.models import ExportJob
from labeling.models import Resolution
from projects.models import Item
from tests.exports.conftest import database_label_counts

pytestmark = [pytest.mark.worker, pytest.mark.postgres]

WAIT_SECONDS = 90


def job_wait(job_id: int, workers) -> ExportJob:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        job = ExportJob.objects.get(pk=job_id)
        if job.status in {ExportJob.Status.DONE, ExportJob.Status.FAILED}:
            return job
        time.sleep(0.2)
    logs = "\n".join(w.log()[-3000:] for w in workers.workers)
    raise AssertionError(f"export {job_id} still {job.status} after {WAIT_SECONDS}s:\n{logs}")


def test_a_worker_writes_the_export(celery_worker_process, text_project, lead_api):
    project = text_project.project
    response = lead_api.post(
        f"/api/projects/{project.pk}/exports/",
        {"format": "jsonl", "options": {"include_annotations": True, "split": [0.6, 0.2, 0.2]}},
        format="json",
    )
    assert response.status_code == 202 and response.data["status"] == "queued"
    job = job_wait(response.data["id"], celery_worker_process)
    assert job.status == ExportJob.Status.DONE, job.message
    assert job.started_at and job.finished_at and job.items_written == 10
    download = lead_api.get(f"/api/exports/{job.pk}/download/")
    body = b"".join(download.streaming_content)
    assert hashlib.sha256(body).hexdigest() == job.checksum
    rows = [json.loads(line) for line in body.splitlines()]
    assert sorted(r["external_id"] for r in rows) == [f"t-{n:02d}" for n in range(10)]
    assert {r["split"] for r in rows} <= {"train", "validation", "test"}
    sentiments = {}
    for row in rows:
        sentiments[row["result"]["sentiment"]] = sentiments.get(row["result"]["sentiment"], 0) + 1
    assert sentiments == dict(database_label_counts(project)["sentiment"])
    # The worker read ahead on its own connection; the snapshot is the same bytes as one written
    # in-process on the caller's connection.
    again = lead_api.post(
        f"/api/projects/{project.pk}/exports/",
        {"format": "jsonl", "options": {"include_annotations": True, "split": [0.6, 0.2, 0.2]}},
        format="json",
    )
    assert job_wait(again.data["id"], celery_worker_process).checksum == job.checksum


def test_an_export_whose_worker_process_dies_is_written_again(
    celery_worker_process, project, lead, lead_api
):
    """SIGKILL the pool process mid-export (as the OOM killer would): the task is redelivered,
    the job is written from the start, and the snapshot is whole."""
    size = 40_000
    items = Item.objects.bulk_create(
        Item(
            project=project,
            external_id=f"k-{n}",
            data={"text": f"text {n}"},
            status=Item.Status.RESOLVED,
        )
        for n in range(size)
    )
    Resolution.objects.bulk_create(
        Resolution(
            item=item, result={"sentiment": ("positive", "negative")[n % 2]}, method="single"
        )
        for n, item in enumerate(items)
    )
    response = lead_api.post(
        f"/api/projects/{project.pk}/exports/",
        {"format": "jsonl", "options": {"split": [0.8, 0.1, 0.1]}},
        format="json",
    )
    job_id = response.data["id"]
    deadline = time.monotonic() + WAIT_SECONDS
    while ExportJob.objects.get(pk=job_id).status != ExportJob.Status.RUNNING:
        assert time.monotonic() < deadline, "the export never started"
        time.sleep(0.02)
    first_start = ExportJob.objects.get(pk=job_id).started_at
    killed = celery_worker_process.kill_task_process()
    assert killed
    assert ExportJob.objects.get(pk=job_id).status == ExportJob.Status.RUNNING  # killed mid-way
    job = job_wait(job_id, celery_worker_process)
    assert job.status == ExportJob.Status.DONE, job.message
    assert job.started_at > first_start  # the redelivered task wrote it again from the start
    with job.file.open("rb") as stream:
        lines = stream.read().splitlines()
    assert len(lines) == size == job.items_written
    assert len({json.loads(line)["id"] for line in lines}) == size
