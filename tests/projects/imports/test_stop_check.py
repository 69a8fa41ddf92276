"""A running attempt checks whether its job is still to be worked on: every STOP_CHECK_ROWS
records and at each read of the file, asking the database at most once a second. The real
cancel of a running attempt is tested on a Celery worker (test_worker.py)."""

import io

import pytest

from projects.imports import stop_check
from projects.imports.jobs import record_batches
from projects.imports.readers.rows import DEFAULT_MAPPING, Record
from projects.imports.stop_check import JobStopCheck, JobStopped, StopCheckedStream
from projects.items.create import ItemRowParser
from projects.label_schema import LabelSchema
from projects.models import ImportJob
from tests.factories import TEXT_CLASSIFICATION_SCHEMA


def test_record_batches_ask_the_stop_check_every_so_many_records():
    records = (Record(n, n, n, {"text": f"row {n}"}) for n in range(1, 10_001))
    asked = []

    def check():
        asked.append(True)
        if len(asked) == 3:
            raise JobStopped("the job is cancelled")

    parse = ItemRowParser(LabelSchema(TEXT_CLASSIFICATION_SCHEMA)).parse
    batches = record_batches(
        records, parse=parse, mapping=DEFAULT_MAPPING, size=10_000, stop_check=check
    )
    with pytest.raises(JobStopped):
        next(batches)
    assert len(asked) == 3  # at record 1000, 2000 and 3000: the other 7000 were never read


@pytest.fixture
def running_job(project):
    return ImportJob.objects.create(project=project, status=ImportJob.Status.RUNNING)


@pytest.mark.django_db
def test_the_check_asks_the_database_once_a_second_at_most(running_job, monkeypatch):
    monkeypatch.setattr(stop_check, "STOP_CHECK_SECONDS", 0.0)
    check = JobStopCheck(running_job.pk, going_on=[ImportJob.Status.RUNNING])
    check()  # running: goes on
    ImportJob.objects.filter(pk=running_job.pk).update(status=ImportJob.Status.CANCELLED)
    with pytest.raises(JobStopped, match="the job is cancelled"):
        check()
    monkeypatch.setattr(stop_check, "STOP_CHECK_SECONDS", 3600.0)
    patient = JobStopCheck(running_job.pk, going_on=[ImportJob.Status.RUNNING])
    patient()  # not due yet: no question asked, nothing raised


@pytest.mark.django_db
def test_every_read_of_the_file_runs_the_check(running_job, monkeypatch):
    monkeypatch.setattr(stop_check, "STOP_CHECK_SECONDS", 0.0)
    check = JobStopCheck(running_job.pk, going_on=[ImportJob.Status.RUNNING])
    stream = StopCheckedStream(io.BytesIO(b"line 1\nline 2\n"), check)
    assert stream.readline() == b"line 1\n" and stream.tell() == 7
    ImportJob.objects.filter(pk=running_job.pk).delete()
    with pytest.raises(JobStopped, match="the job is deleted"):
        stream.read()
