"""The job service without Celery: planning once, re-running chunks, a stale task stopped by the
chunk's position, cancel rolling back the batch in flight."""

import gc

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.imports.jobs import (
    Batch,
    ChunkStopped,
    import_batch_commit,
    import_chunk_run,
    import_job_cancel,
    import_job_create,
    import_job_plan,
)
from projects.imports.readers.rows import Record
from projects.items.create import ItemRow
from projects.models import ImportChunk, ImportJob, Item

pytestmark = pytest.mark.django_db(transaction=True)


def job_for(project, lead, content: bytes, name="rows.jsonl") -> ImportJob:
    return import_job_create(project=project, user=lead, upload=SimpleUploadedFile(name, content))


def jsonl(count: int) -> bytes:
    return b"".join(b'{"external_id": "e%d", "text": "row %d"}\n' % (n, n) for n in range(count))


def test_planning_twice_makes_the_chunks_once(project, lead, settings):
    settings.IMPORT_CHUNK_BYTES = 200
    job = job_for(project, lead, jsonl(50))
    first = import_job_plan(job_id=job.pk)
    again = import_job_plan(job_id=job.pk)  # a redelivered start task
    assert len(first) > 3 and again == first
    assert ImportChunk.objects.filter(job=job).count() == len(first)
    job.refresh_from_db()
    assert (job.status, job.chunk_count) == (ImportJob.Status.RUNNING, len(first))


def test_chunks_run_in_any_order_and_twice_without_double_counting(project, lead, settings):
    settings.IMPORT_CHUNK_BYTES = 200
    job = job_for(project, lead, jsonl(50))
    chunk_ids = import_job_plan(job_id=job.pk)
    for chunk_id in reversed(chunk_ids):
        assert import_chunk_run(chunk_id=chunk_id) is True
    for chunk_id in chunk_ids:  # redelivered after they finished
        assert import_chunk_run(chunk_id=chunk_id) is True
    job.refresh_from_db()
    assert job.status == ImportJob.Status.DONE
    assert (job.rows_read, job.created_count, job.skipped_count) == (50, 50, 0)
    assert Item.objects.filter(project=project).count() == 50
    assert job.progress_done == job.progress_total == len(jsonl(50))


def test_a_stale_task_cannot_commit_a_batch_over_a_newer_one(project, lead):
    job = job_for(project, lead, jsonl(3))
    (chunk_id,) = import_job_plan(job_id=job.pk)
    stale = ImportChunk.objects.get(pk=chunk_id)
    ImportChunk.objects.filter(pk=chunk_id).update(position=10)  # another task moved on
    batch = Batch(
        rows=[ItemRow(external_id="x", data={"text": "x"})],
        problems=[],
        read=1,
        last=Record(1, 20, 20, {}),
    )
    with pytest.raises(ChunkStopped):
        import_batch_commit(job=job, chunk=stale, batch=batch)
    assert not Item.objects.filter(project=project).exists()


def test_a_batch_after_cancel_rolls_back(project, lead):
    job = job_for(project, lead, jsonl(3))
    (chunk_id,) = import_job_plan(job_id=job.pk)
    chunk = ImportChunk.objects.get(pk=chunk_id)
    import_job_cancel(job=job)
    batch = Batch(
        rows=[ItemRow(external_id="x", data={"text": "x"})],
        problems=[(2, "bad")],
        read=2,
        last=Record(2, 20, 20, {}),
    )
    with pytest.raises(ChunkStopped):
        import_batch_commit(job=job, chunk=chunk, batch=batch)
    assert not Item.objects.filter(project=project).exists()
    assert not job.row_errors.exists()
    chunk.refresh_from_db()
    assert chunk.position == 0
    assert import_chunk_run(chunk_id=chunk_id) is True  # a cancelled job's chunk does nothing
    assert not Item.objects.filter(project=project).exists()


def job_run(project, lead, content: bytes) -> ImportJob:
    job = job_for(project, lead, content)
    for chunk_id in import_job_plan(job_id=job.pk):
        import_chunk_run(chunk_id=chunk_id)
    job.refresh_from_db()
    return job


def test_the_same_file_again_creates_nothing_and_skips_every_row(project, lead, settings):
    settings.IMPORT_CHUNK_BYTES = 300
    settings.IMPORT_BATCH_ROWS = 4
    # e5 again inside its batch, e0 again chunks later: the first of each wins.
    content = jsonl(20) + b'{"external_id": "e0", "text": "later"}\n'
    content = content.replace(b"row 5", b'row 5"}\n{"external_id": "e5", "text": "near')
    first = job_run(project, lead, content)
    assert first.status == ImportJob.Status.DONE
    assert (first.rows_read, first.created_count, first.skipped_count) == (22, 20, 2)
    assert Item.objects.get(project=project, external_id="e0").data == {"text": "row 0"}
    assert Item.objects.get(project=project, external_id="e5").data == {"text": "row 5"}
    again = job_run(project, lead, content)
    assert (again.rows_read, again.created_count, again.skipped_count) == (22, 0, 22)
    assert Item.objects.filter(project=project).count() == 20


def test_the_heap_frozen_for_an_import_is_unfrozen_after(project, lead):
    assert gc.get_freeze_count() == 0
    assert job_run(project, lead, jsonl(3)).created_count == 3
    assert gc.get_freeze_count() == 0


def test_a_heap_the_server_froze_stays_frozen(project, lead):
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert job_run(project, lead, jsonl(3)).created_count == 3
        assert gc.get_freeze_count() > frozen * 0.9  # a few were freed, none unfrozen
    finally:
        gc.unfreeze()
