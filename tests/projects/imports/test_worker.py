"""Imports on real Celery workers (Redis broker, PostgreSQL): a worker killed mid-file, cancel,
and a file split across two workers."""

import json
import time

import pytest
from django.db.models import Count

from projects.models import ImportChunk, ImportJob, Item
from tests.projects.imports.import_support import job_wait, upload

pytestmark = [pytest.mark.worker, pytest.mark.postgres]
FINISHED = ("done", "failed", "cancelled")


def jsonl_rows(count: int) -> bytes:
    text = "lorem ipsum dolor sit amet " * 7  # ~200 characters, like the benchmark
    return "".join(
        json.dumps({"external_id": f"row-{n}", "text": f"{n} {text}"}) + "\n" for n in range(count)
    ).encode()


def started(lead_api, project, name, content) -> int:
    response = upload(lead_api, project, name, content)
    assert response.status_code == 202, response.content
    return response.json()["id"]


def assert_every_row_once(project, count: int) -> None:
    assert Item.objects.filter(project=project).count() == count
    duplicates = (
        Item.objects.filter(project=project)
        .values("external_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert not duplicates.exists()
    expected = {f"row-{n}" for n in range(count)}
    assert set(Item.objects.filter(project=project).values_list("external_id", flat=True)) == (
        expected
    )


def test_sigkilled_worker_process_is_redelivered_and_every_row_lands_once(
    celery_worker_process, lead_api, project, settings
):
    count = 120_000
    settings.IMPORT_BATCH_ROWS = 1000
    job_id = started(lead_api, project, "big.jsonl", jsonl_rows(count))
    mid = job_wait(
        lead_api, job_id, until=lambda j: j["rows_read"] >= 3000 or j["status"] in FINISHED
    )
    killed = celery_worker_process.kill_task_process()
    assert killed, "no pool process to kill"
    assert mid["status"] == "running" and mid["rows_read"] < count, mid
    job = job_wait(lead_api, job_id, timeout=300)
    assert job["status"] == "done", job
    assert (job["rows_read"], job["created_count"], job["skipped_count"]) == (count, count, 0)
    assert job["failed_count"] == 0
    assert_every_row_once(project, count)
    log = celery_worker_process.live()[0].log()
    assert "WorkerLostError" in log or "signal 9" in log, log[-3000:]


def test_sigkilled_whole_worker_is_finished_by_another_worker(
    celery_worker_process, lead_api, project, settings
):
    """The whole worker dies (main process too): its unacknowledged task returns to the queue
    after the visibility timeout and a second worker finishes the job."""
    count = 120_000
    settings.IMPORT_BATCH_ROWS = 1000
    first = celery_worker_process.live()[0]
    job_id = started(lead_api, project, "big.jsonl", jsonl_rows(count))
    mid = job_wait(
        lead_api, job_id, until=lambda j: j["rows_read"] >= 3000 or j["status"] in FINISHED
    )
    celery_worker_process.sigkill(first)
    assert mid["status"] == "running" and mid["rows_read"] < count, mid
    second = celery_worker_process.start()
    job = job_wait(lead_api, job_id, timeout=300)
    assert job["status"] == "done", job
    assert (job["rows_read"], job["created_count"]) == (count, count)
    assert_every_row_once(project, count)
    assert "import_chunk_run_task" in second.log()


def test_cancel_mid_run(celery_worker_process, lead_api, project, settings):
    count = 150_000
    settings.IMPORT_BATCH_ROWS = 500
    job_id = started(lead_api, project, "big.jsonl", jsonl_rows(count))
    job_wait(lead_api, job_id, until=lambda j: j["rows_read"] > 0 or j["status"] in FINISHED)
    response = lead_api.post(f"/api/imports/{job_id}/cancel/")
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    # the worker stops at its next batch; counts then stay as they are
    deadline = time.monotonic() + 30
    while ImportChunk.objects.filter(job_id=job_id).exists():
        before = Item.objects.filter(project=project).count()
        time.sleep(1.0)
        if Item.objects.filter(project=project).count() == before or time.monotonic() > deadline:
            break
    job = ImportJob.objects.get(pk=job_id)
    assert job.status == ImportJob.Status.CANCELLED
    created = Item.objects.filter(project=project).count()
    assert 0 < created < count
    assert job.created_count == created
    time.sleep(1.0)
    assert Item.objects.filter(project=project).count() == created


def test_a_big_file_is_split_across_two_workers(celery_worker_process, lead_api, project, settings):
    count = 60_000
    settings.IMPORT_CHUNK_BYTES = 512 * 1024
    settings.IMPORT_BATCH_ROWS = 2000
    first = celery_worker_process.live()[0]
    second = celery_worker_process.start()
    job_id = started(lead_api, project, "big.jsonl", jsonl_rows(count))
    job = job_wait(lead_api, job_id, timeout=300)
    assert job["status"] == "done", job
    assert job["chunk_count"] >= 8
    assert (job["rows_read"], job["created_count"]) == (count, count)
    assert_every_row_once(project, count)
    for worker in (first, second):
        assert "import_chunk_run_task" in worker.log() and "succeeded" in worker.log()
