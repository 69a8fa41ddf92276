"""Jobs that survive a lost broker and lost workers (issue 18, part 4): 503 while the broker is
down with nothing stored, a job whose message was lost sent again by the sweep, a stalled
chunk (its worker stopped beating, its lock free) picked up, and retention of old files."""

from datetime import timedelta

import psycopg
import pytest
from django.db import connection
from django.utils import timezone

from exports.jobs import export_files_expired, export_job_create, export_job_run
from exports.models import ExportJob
from projects.imports.jobs import ADVISORY_LOCK_CLASS, import_job_plan
from projects.job_queue import import_files_expired, send_after_commit, stalled_chunks
from projects.models import ImportChunk, ImportJob, Item
from projects.tasks import imports_sweep_task
from tests.celery_worker import app_connections_reset
from tests.projects.imports.import_support import import_file, upload


@pytest.fixture
def broker_down(settings):
    # Through Django's settings, which the Celery app reads when asked (never app.conf: a value
    # set there would stay for the rest of the session); its cached pools are dropped.
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    app_connections_reset()
    yield
    app_connections_reset()  # the settings fixture restores the broker after this


@pytest.mark.django_db
def test_imports_and_exports_answer_503_while_the_broker_is_down(broker_down, lead_api, project):
    response = upload(lead_api, project, "rows.jsonl", b'{"text": "a"}\n')
    assert response.status_code == 503
    assert (
        "broker" in response.json()["detail"] and "nothing was stored" in response.json()["detail"]
    )
    response = lead_api.post(f"/api/projects/{project.pk}/exports/", {"format": "jsonl"})
    assert response.status_code == 503
    assert not ImportJob.objects.exists() and not ExportJob.objects.exists()


@pytest.mark.django_db
def test_a_send_that_fails_after_commit_leaves_the_job_for_the_sweep(
    django_capture_on_commit_callbacks, lead_api, project, settings
):
    def lost(*args):
        raise ConnectionError("the broker went away")

    with django_capture_on_commit_callbacks(execute=True):
        send_after_commit(lost, 1)  # logged, not raised: the request still answers
    with django_capture_on_commit_callbacks(execute=False):
        response = upload(lead_api, project, "rows.jsonl", b'{"text": "a"}\n{"text": "b"}\n')
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert job.status == ImportJob.Status.QUEUED  # its message never left
    settings.JOB_STALL_SECONDS = 60
    imports_sweep_task()
    assert ImportJob.objects.get(pk=job.pk).status == ImportJob.Status.QUEUED  # too fresh
    ImportJob.objects.filter(pk=job.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    imports_sweep_task()  # eager here: the start task runs at once
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE, job.message
    assert Item.objects.filter(project=project).count() == 2


@pytest.fixture
def running_chunk(lead_api, project, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = upload(lead_api, project, "rows.jsonl", b'{"text": "a"}\n')
    [chunk_id] = import_job_plan(job_id=response.json()["id"])
    return ImportChunk.objects.get(pk=chunk_id)


@pytest.mark.django_db
def test_a_chunk_whose_worker_stopped_beating_is_picked_up(running_chunk, settings):
    settings.JOB_STALL_SECONDS = 60
    now = timezone.now()
    ImportChunk.objects.filter(pk=running_chunk.pk).update(heartbeat_at=now)
    assert stalled_chunks() == []
    ImportChunk.objects.filter(pk=running_chunk.pk).update(heartbeat_at=now - timedelta(minutes=2))
    assert stalled_chunks() == [running_chunk.pk]
    ImportChunk.objects.filter(pk=running_chunk.pk).update(status=ImportChunk.Status.DONE)
    assert stalled_chunks() == []


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_chunk_a_live_worker_holds_is_left_alone(running_chunk, settings):
    settings.JOB_STALL_SECONDS = 60
    old = timezone.now() - timedelta(minutes=2)
    ImportChunk.objects.filter(pk=running_chunk.pk).update(heartbeat_at=old)
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=True) as worker:  # another session: "the worker"
        worker.execute(
            "SELECT pg_advisory_lock(%s, %s)", (ADVISORY_LOCK_CLASS, running_chunk.pk % 2**31)
        )
        assert stalled_chunks() == []
    assert stalled_chunks() == [running_chunk.pk]  # its session ended: the lock went with it


@pytest.mark.django_db(transaction=True)
def test_retention_removes_old_source_and_export_files_but_never_a_pinned_one(
    lead_api, project, lead, settings
):
    settings.IMPORT_FILE_RETENTION_DAYS = 30
    settings.EXPORT_RETENTION_DAYS = 90
    job = ImportJob.objects.get(
        pk=import_file(lead_api, project, "a.jsonl", b'{"text": "a"}\n')["id"]
    )
    source = job.file.name
    exports = [
        export_job_run(
            job_id=export_job_create(project=project, user=lead, format="jsonl", raw_options={}).pk
        )
        for _ in range(2)
    ]
    ExportJob.objects.filter(pk=exports[1].pk).update(pinned=True)
    assert import_files_expired() == 0 and export_files_expired() == 0  # all recent
    later = timezone.now() + timedelta(days=100)
    assert import_files_expired(now=later) == 1
    assert export_files_expired(now=later) == 1
    job.refresh_from_db()
    assert job.file.name == "" and not job.file.storage.exists(source)
    assert Item.objects.filter(project=project).count() == 1  # the items stay
    removed, pinned = (ExportJob.objects.get(pk=e.pk) for e in exports)
    assert not removed.file and "EXPORT_RETENTION_DAYS" in removed.message
    assert pinned.file and pinned.file.storage.exists(pinned.file.name)


@pytest.mark.django_db
def test_leads_pin_an_export_through_the_api(lead_api, project, lead):
    job = export_job_create(project=project, user=lead, format="jsonl", raw_options={})
    response = lead_api.post(f"/api/exports/{job.pk}/pin/", {"pinned": True}, format="json")
    assert response.status_code == 200 and response.json()["pinned"] is True
    assert ExportJob.objects.get(pk=job.pk).pinned
