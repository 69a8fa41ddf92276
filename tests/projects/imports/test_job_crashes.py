"""A job whose attempts killed their worker JOB_MAX_CRASHES times fails with a message instead
of being redelivered forever (issue 18). An attempt counts itself in before it starts and out
when it ends; what a SIGKILLed attempt leaves behind is its count, set here directly."""

import pytest

from exports.jobs import export_job_create, export_job_run
from exports.models import ExportJob
from projects.imports.jobs import import_chunk_run, import_job_plan
from projects.models import ImportChunk, ImportJob, Item
from tests.projects.imports.import_support import upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued_import(lead_api, project):
    # on the `db` fixture the commit never comes, so the job waits, queued, for this test
    response = upload(lead_api, project, "rows.jsonl", b'{"text": "a"}\n{"text": "b"}\n')
    assert response.status_code == 202, response.json()
    return ImportJob.objects.get(pk=response.json()["id"])


def test_a_chunk_that_killed_its_worker_too_often_fails_the_job(queued_import, settings):
    settings.JOB_MAX_CRASHES = 3
    [chunk_id] = import_job_plan(job_id=queued_import.pk)
    ImportChunk.objects.filter(pk=chunk_id).update(unfinished_attempts=3)
    assert import_chunk_run(chunk_id=chunk_id) is True
    queued_import.refresh_from_db()
    assert queued_import.status == ImportJob.Status.FAILED
    assert "from line 1 stopped its worker 3 times" in queued_import.message
    assert not Item.objects.exists()


def test_fewer_crashes_are_retried_and_a_clean_attempt_counts_itself_out(queued_import, settings):
    settings.JOB_MAX_CRASHES = 3
    [chunk_id] = import_job_plan(job_id=queued_import.pk)
    ImportChunk.objects.filter(pk=chunk_id).update(unfinished_attempts=2)
    import_chunk_run(chunk_id=chunk_id)
    queued_import.refresh_from_db()
    assert queued_import.status == ImportJob.Status.DONE, queued_import.message
    assert ImportChunk.objects.get(pk=chunk_id).unfinished_attempts == 2  # its own came off
    assert Item.objects.count() == 2


def test_planning_that_killed_its_worker_too_often_fails_the_job(queued_import, settings):
    settings.JOB_MAX_CRASHES = 2
    ImportJob.objects.filter(pk=queued_import.pk).update(unfinished_attempts=2)
    assert import_job_plan(job_id=queued_import.pk) == []
    queued_import.refresh_from_db()
    assert queued_import.status == ImportJob.Status.FAILED
    assert "Reading the file stopped its worker 2 times" in queued_import.message


def test_an_export_that_killed_its_worker_too_often_fails(project, lead, settings):
    settings.JOB_MAX_CRASHES = 3
    job = export_job_create(project=project, user=lead, format="jsonl", raw_options={})
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportJob.Status.RUNNING, unfinished_attempts=3
    )
    job = export_job_run(job_id=job.pk)
    assert job.status == ExportJob.Status.FAILED
    assert "The export stopped its worker 3 times" in job.message
    assert not job.file
