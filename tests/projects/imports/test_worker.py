"""Imports on real Celery workers (Redis broker, PostgreSQL): a worker killed mid-file, cancel,
and a file split across two workers."""

import io
import json
import time
import zipfile

import pytest
from django.db.models import Count
from PIL import Image

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


def test_a_killed_workers_import_is_taken_up_by_the_sweep_whatever_the_visibility_timeout(
    celery_worker_process, lead_api, project, settings
):
    """The whole worker dies (main process and pool) and the broker would hand its task back
    only after an hour: the sweep (celery beat in the second worker, with the default
    JOB_STALL_SECONDS and JOBS_SWEEP_SECONDS) sends the chunk whose heartbeat stopped, and the
    import completes exactly once."""
    count = 120_000
    settings.IMPORT_BATCH_ROWS = 1000
    workers = celery_worker_process
    workers.stop_all()  # this test's workers only: a broker that never redelivers in time
    never_redelivered = {"CELERY_VISIBILITY_TIMEOUT": "3600"}
    first = workers.start(environment=never_redelivered)
    try:
        job_id = started(lead_api, project, "big.jsonl", jsonl_rows(count))
        mid = job_wait(
            lead_api, job_id, until=lambda j: j["rows_read"] >= 3000 or j["status"] in FINISHED
        )
        workers.sigkill(first)
        killed_at = time.monotonic()
        assert mid["status"] == "running" and mid["rows_read"] < count, mid
        second = workers.start(environment=never_redelivered, beat=True)
        job = job_wait(lead_api, job_id, timeout=300)
        elapsed = time.monotonic() - killed_at
        assert job["status"] == "done", job
        assert (job["rows_read"], job["created_count"], job["skipped_count"]) == (count, count, 0)
        assert job["failed_count"] == 0
        assert_every_row_once(project, count)
        log = second.log()
        assert "imports_sweep_task" in log and "import_chunk_run_task" in log
        print(f"killed at {mid['rows_read']} rows; the import completed {elapsed:.0f} s later")
    finally:
        workers.stop_all()  # the next test starts a worker with the usual settings


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


def images_zip(count: int) -> bytes:
    """`count` entries of one image that takes a worker a while to check and store."""
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((768, 768)).convert("RGB").save(buffer, format="PNG")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        for n in range(count):
            zf.writestr(f"pic-{n:04}.png", buffer.getvalue())
    return archive.getvalue()


def test_cancel_stops_an_attempt_already_running(
    celery_worker_process, lead_api, project, settings
):
    """No batch commits before the end of this file (one batch holds it all), so only the
    running attempt's own check can stop it: it stops reading, nothing goes in."""
    count = 1000
    settings.IMPORT_BATCH_ROWS = 5000
    project.label_schema = {
        "controls": [{"name": "c", "kind": "choice", "source": "image", "labels": ["a"]}]
    }
    project.save()
    job_id = started(lead_api, project, "pics.zip", images_zip(count))
    stored = celery_worker_process.media_root / "imports" / str(job_id)

    def images_stored() -> int:
        return len(list(stored.glob("pic-*.png"))) if stored.exists() else 0

    deadline = time.monotonic() + 120
    while images_stored() < 5:
        assert time.monotonic() < deadline, "the worker stored no images"
        time.sleep(0.1)
    chunk = ImportChunk.objects.get(job_id=job_id)
    assert chunk.unfinished_attempts == 1  # the attempt is under way
    response = lead_api.post(f"/api/imports/{job_id}/cancel/")
    assert response.json()["status"] == "cancelled"
    while ImportChunk.objects.get(pk=chunk.pk).unfinished_attempts:  # the attempt ends
        assert time.monotonic() < deadline, "the attempt went on after the cancel"
        time.sleep(0.1)
    assert images_stored() < count  # it stopped reading: the rest of the file was left
    assert ImportJob.objects.get(pk=job_id).status == ImportJob.Status.CANCELLED
    assert not Item.objects.filter(project=project).exists()
    log = celery_worker_process.live()[0].log()
    assert f"import job {job_id} chunk 0 stopped: the job is cancelled" in log, log[-3000:]
    print(f"stopped after {images_stored()} of {count} images")
