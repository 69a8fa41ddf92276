"""A JSONL upload of events as an import job: split into chunks like item imports, each chunk's
events checked, stored once, counted and routed; in-process and across two real workers."""

from datetime import timedelta

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Count, Sum

from labeling.monitor.models import EventCount, ModelVersion, PredictionEvent, RoutingRule
from projects.models import ImportChunk, ImportJob, Item
from tests.labeling.monitor.helpers import START, event
from tests.projects.imports.import_support import job_wait


def upload_body(lines: list[bytes]) -> bytes:
    return b"\n".join(lines) + b"\n"


def events_upload(lead_api, project, body: bytes):
    upload = SimpleUploadedFile("events.jsonl", body, content_type="application/jsonl")
    return lead_api.post(
        f"/api/projects/{project.pk}/monitor/events/upload/", {"file": upload}, format="multipart"
    )


def routed_events(project) -> int:
    return (
        PredictionEvent.objects.filter(project=project)
        .exclude(rule__isnull=True, baseline=False)
        .count()
    )


@pytest.mark.django_db
def test_upload_in_chunks_keeps_good_lines_counts_and_routes(
    project, lead_api, settings, django_capture_on_commit_callbacks
):
    # Chunks of about 75 lines, batches of 60: batches copied straight in, and the small rest.
    settings.IMPORT_CHUNK_BYTES = 16384
    settings.IMPORT_BATCH_ROWS = 60
    project.monitor_baseline_rate = 0.0
    project.save()
    RoutingRule.objects.create(
        project=project, name="unsure", condition={"field": "score", "op": "<", "value": 0.5}
    )
    count = 200
    lines = [
        orjson.dumps(event(n, score=0.2 if n % 4 == 0 else 0.9, version=f"v{n % 3}"))
        for n in range(count)
    ]
    lines[10] = orjson.dumps(event(10, score=3))
    lines[20] = b'{"event_id": "e20", "data": {"text": "a \\u0000 NUL"}}'
    lines[30] = b"[1, 2]"
    # Resent in a later chunk: a duplicate inside a batch that is otherwise new.
    lines.insert(100, orjson.dumps(event(5)))
    with django_capture_on_commit_callbacks(execute=True):
        response = events_upload(lead_api, project, upload_body(lines))
    assert response.status_code == 202, response.content
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert job.status == "done", job.message
    assert job.chunk_count >= 3 and job.options["target"] == "monitor_events"
    assert (job.rows_read, job.created_count, job.skipped_count, job.failed_count) == (
        count + 1,
        count - 3,
        1,
        3,
    )
    reasons = {e["line"]: e["reason"] for e in job.errors}
    assert set(reasons) == {11, 21, 31}
    assert "outside [0, 1]" in reasons[11]
    assert "NUL" in reasons[21] and "data.text" in reasons[21]
    assert "JSON object" in reasons[31]
    assert not ImportChunk.objects.filter(job=job).exclude(status="done").exists()

    stored = PredictionEvent.objects.filter(project=project)
    assert stored.count() == count - 3
    assert not stored.values("event_id").annotate(n=Count("id")).filter(n__gt=1).exists()
    low = {f"e{n}" for n in range(0, count, 4)} - {"e20"}
    assert set(stored.filter(rule__isnull=False).values_list("event_id", flat=True)) == low
    assert job.options["routed"] == len(low) == routed_events(project)
    assert Item.objects.filter(project=project).count() == len(low)
    assert set(ModelVersion.objects.filter(project=project).values_list("version", flat=True)) == {
        "v0",
        "v1",
        "v2",
    }
    labels = EventCount.objects.filter(project=project, kind="label").aggregate(n=Sum("count"))
    assert labels["n"] == count - 3


@pytest.mark.worker
@pytest.mark.postgres
def test_upload_split_across_two_workers(celery_worker_process, project, lead_api, settings):
    settings.IMPORT_CHUNK_BYTES = 256 * 1024
    settings.IMPORT_BATCH_ROWS = 2000
    project.monitor_baseline_rate = 0.05
    project.save()
    RoutingRule.objects.create(
        project=project,
        name="unsure",
        condition={"field": "score", "op": "<", "value": 0.5},
        sample_rate=0.5,
        cap_per_day=20,
    )
    count = 20_000
    # An event every ten minutes: most days fall inside one chunk.
    lines = [
        orjson.dumps(
            event(
                n,
                score=(n % 100) / 100,
                version=f"v{n % 2}",
                at=START - timedelta(days=150) + n * timedelta(minutes=10),
            )
        )
        for n in range(count)
    ]
    first = celery_worker_process.live()[0]
    second = celery_worker_process.start()
    response = events_upload(lead_api, project, upload_body(lines))
    assert response.status_code == 202, response.content
    job = job_wait(lead_api, response.json()["id"], timeout=300)
    assert job["status"] == "done", job
    assert job["chunk_count"] >= 8
    assert (job["rows_read"], job["created_count"], job["failed_count"]) == (count, count, 0)
    stored = PredictionEvent.objects.filter(project=project)
    assert stored.count() == count
    assert not stored.values("event_id").annotate(n=Count("id")).filter(n__gt=1).exists()
    routed = ImportJob.objects.get(pk=job["id"]).options["routed"]
    assert routed == routed_events(project) == Item.objects.filter(project=project).count()
    # Each day's cap held: exactly within a chunk; two chunks in flight at once (the day on
    # their border) may each spend it.
    per_day = [
        day["n"]
        for day in stored.filter(rule__isnull=False)
        .values("timestamp__date")
        .annotate(n=Count("id"))
    ]
    assert len(per_day) >= 100 and max(per_day) <= 2 * 20
    assert sorted(per_day)[len(per_day) // 2] == 20
    for worker in (first, second):
        assert "import_chunk_run_task" in worker.log() and "succeeded" in worker.log()
