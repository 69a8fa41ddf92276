"""Import jobs: a file uploaded by a lead becomes items, in the background, with a status row.

The stages: `import_job_create` checks the upload and stores it with its job (queued);
`import_job_plan` reads just enough to split the file into chunks (running); each chunk is then
imported by `import_chunk_run`, possibly by several workers at once, in batches. Every batch is
one transaction: its items (inserted keyed by external id), its bad rows, the chunk's resume
position and the job's counters commit together, so a worker killed at any point leaves a chunk
that the redelivered task resumes exactly where the last commit left it. The last chunk to finish
marks the job done. A cancelled job's counters stop moving at once: a batch whose job is no longer
running rolls back, and a running attempt (or planning) stops within a second of the cancel, at its
next read of the file or its next thousand rows (stop_check). A job whose options name a `target`
(hooks.ImportTarget) goes through the same stages, its rows read and stored by the target instead
of becoming items.
"""

from __future__ import annotations

import csv
import gc
import io
import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import F, JSONField
from django.db.models.expressions import RawSQL
from django.utils import timezone

from projects.event_hooks import event_emit
from projects.imports.batch_writer import BatchWriter
from projects.imports.formats import FORMATS, FormatUnknown, import_format_detect
from projects.imports.hooks import (
    ANONYMOUS_CHOICES,
    ANONYMOUS_DISTINCT,
    import_finished,
    import_target,
)
from projects.imports.readers.rows import (
    DEFAULT_MAPPING,
    ChunkSpec,
    ColumnMapping,
    FileError,
    Record,
    record_to_row,
)
from projects.imports.stop_check import (
    STOP_CHECK_ROWS,
    JobStopCheck,
    JobStopped,
    StopCheckedStream,
)
from projects.imports.uploads import HEAD_BYTES, StoredUpload
from projects.items.bulk import project_lock_for_items
from projects.items.create import ItemRow, ItemRowParser, RowError, items_create_batch
from projects.job_attempts import TooManyCrashes, attempt_counted, crash_message
from projects.label_schema import LabelSchema
from projects.models import ImportChunk, ImportJob, ImportRowError, Project
from projects.unstorable import NUL_CHOICES, NUL_REFUSE, nul_escaped

logger = logging.getLogger(__name__)

ERRORS_STORED_PER_CHUNK = 10_000
ERRORS_PREVIEW = 100
ADVISORY_LOCK_CLASS = 0x5155  # "QU": namespaces this app's advisory locks


class ImportRefused(ValueError):
    """The upload is refused before any job runs (unknown format, empty or too large file)."""


class ChunkStopped(JobStopped):
    """The chunk's work stops: the job was cancelled or failed, or another task took over."""


def import_limits() -> dict[str, int]:
    return {
        "zip_total_bytes": settings.IMPORT_ZIP_MAX_TOTAL_BYTES,
        "zip_max_ratio": settings.IMPORT_ZIP_MAX_RATIO,
        "image_bytes": settings.IMPORT_MAX_IMAGE_BYTES,
        "image_pixels": settings.IMPORT_MAX_IMAGE_PIXELS,
    }


def _upload_head(upload: UploadedFile) -> bytes:
    if isinstance(upload, StoredUpload):
        return upload.head
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    return head


def import_job_create(
    *,
    project: Project,
    user,
    upload: UploadedFile,
    format: str | None = None,
    mapping: dict[str, Any] | None = None,
    anonymous_answers: str = ANONYMOUS_DISTINCT,
    nul: str = NUL_REFUSE,
    target: str | None = None,
) -> ImportJob:
    """Check the upload and store it with a queued job. Enqueue it with `import_job_enqueue`.

    anonymous_answers: what answers with no annotator in the export become (Label Studio):
    `distinct` anonymous annotators, one per answer and task, or `refuse`d with a report line.
    nul: a row holding a NUL character (which PostgreSQL cannot store) is `refuse`d with a
    report line, or goes in with its NULs `strip`ped.
    target: the registered ImportTarget that stores the rows instead of items (its format
    must be given).
    """
    if target is not None and format not in import_target(target).formats:
        raise ImportRefused(
            f"Unknown format '{format}': use one of {', '.join(import_target(target).formats)}."
        )
    if anonymous_answers not in ANONYMOUS_CHOICES:
        raise ImportRefused(
            f"anonymous_answers: use one of {', '.join(ANONYMOUS_CHOICES)}, "
            f"not '{anonymous_answers}'."
        )
    if nul not in NUL_CHOICES:
        raise ImportRefused(f"nul: use one of {', '.join(NUL_CHOICES)}, not '{nul}'.")
    if not upload.size:
        raise ImportRefused("The file is empty.")
    if upload.size > settings.IMPORT_MAX_FILE_BYTES:
        raise ImportRefused(
            f"The file is {upload.size} bytes, over the limit of "
            f"{settings.IMPORT_MAX_FILE_BYTES} bytes."
        )
    head = _upload_head(upload)
    if format:
        if format not in FORMATS:
            raise ImportRefused(f"Unknown format '{format}': use one of {', '.join(FORMATS)}.")
    else:
        try:
            format = import_format_detect(filename=upload.name or "", head=head)
        except FormatUnknown as exc:
            raise ImportRefused(str(exc)) from exc
    try:
        column_mapping = ColumnMapping.from_options(mapping)
    except ValueError as exc:
        raise ImportRefused(f"Column mapping: {exc}") from exc
    options = {
        "mapping": column_mapping.as_options(),
        "chunk_bytes": settings.IMPORT_CHUNK_BYTES,
        "chunk_rows": settings.IMPORT_CHUNK_ROWS,
        "batch_rows": settings.IMPORT_BATCH_ROWS,
        "limits": import_limits(),
        "anonymous_answers": anonymous_answers,
        "nul": nul,
    }
    if target is not None:
        options["target"] = target
    return ImportJob.objects.create(
        project=project,
        created_by=user,
        format=format,
        # An upload streamed into the storage already stays where it is.
        file=upload.claim() if isinstance(upload, StoredUpload) else upload,
        file_size=upload.size,
        original_name=(upload.name or "")[:255],
        options=options,
    )


def import_job_fail(*, job_id: int, message: str) -> None:
    with transaction.atomic():
        failed = ImportJob.objects.filter(
            pk=job_id, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]
        ).update(
            status=ImportJob.Status.FAILED,
            message=nul_escaped(message)[:2000],
            finished_at=timezone.now(),
        )
        if failed:
            project_id = ImportJob.objects.filter(pk=job_id).values_list("project_id", flat=True)
            event_emit(project_id=project_id.get(), event="import.finished", ids={"import": job_id})


def import_job_cancel(*, job: ImportJob) -> ImportJob:
    """Stop the job: batches not yet committed roll back; items already in stay."""
    ImportJob.objects.filter(
        pk=job.pk, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]
    ).update(status=ImportJob.Status.CANCELLED, finished_at=timezone.now())
    job.refresh_from_db()
    return job


@contextmanager
def _open(job: ImportJob, *, going_on: tuple[str, ...]) -> Iterator[StopCheckedStream]:
    """The job's file, read while the job's status stays one of `going_on`."""
    with job.file.storage.open(job.file.name, "rb") as stream:
        yield StopCheckedStream(stream, JobStopCheck(job.pk, going_on=going_on))


GOING_ON_PLANNED = (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING)
GOING_ON_RUNNING = (ImportJob.Status.RUNNING,)


def import_job_plan(*, job_id: int) -> list[int]:
    """Split the job's file into chunks (once) and return the ids of the chunks still to do."""
    job = ImportJob.objects.get(pk=job_id)
    if job.is_finished:
        return []
    if job.status == ImportJob.Status.RUNNING:  # a redelivered start: planned already
        return list(
            job.chunks.filter(status=ImportChunk.Status.PENDING).values_list("pk", flat=True)
        )
    import_format = FORMATS[job.format]
    try:
        with (
            attempt_counted(ImportJob.objects.filter(pk=job.pk)),
            _open(job, going_on=GOING_ON_PLANNED) as stream,
        ):
            plan = import_format.plan(stream, job.file_size, job.options)
    except JobStopped as exc:
        logger.info("planning import job %s stopped: %s", job.pk, exc)
        return []
    except TooManyCrashes as exc:
        message = crash_message(what="Reading the file", crashes=exc.crashes)
        import_job_fail(job_id=job.pk, message=message)
        return []
    except FileError as exc:
        import_job_fail(job_id=job.pk, message=str(exc))
        return []
    except Exception:
        logger.exception("planning import job %s failed", job.pk)
        import_job_fail(job_id=job.pk, message="The file could not be read; the error was logged.")
        return []
    specs = plan.chunks or [ChunkSpec(start=0, end=None, first_line=1)]
    with transaction.atomic():
        locked = ImportJob.objects.select_for_update().get(pk=job.pk)
        if locked.status != ImportJob.Status.QUEUED:
            return []
        locked.options = {
            **locked.options,
            **plan.options,
            "media_prefix": f"imports/{locked.pk}/",
        }
        locked.progress_total = plan.progress_total
        locked.chunk_count = len(specs)
        locked.status = ImportJob.Status.RUNNING
        locked.started_at = timezone.now()
        locked.save(
            update_fields=[
                "options",
                "progress_total",
                "chunk_count",
                "status",
                "started_at",
            ]
        )
        chunks = ImportChunk.objects.bulk_create(
            ImportChunk(
                job=locked,
                index=index,
                start=spec.start,
                end=spec.end,
                first_line=spec.first_line,
                position=spec.position,
                line=spec.first_line,
                progress=spec.position,
            )
            for index, spec in enumerate(specs)
        )
    return [chunk.pk for chunk in chunks]


@contextmanager
def _chunk_lock(chunk: ImportChunk) -> Iterator[bool]:
    """Whether this task may work on the chunk: on PostgreSQL one session at a time holds an
    advisory lock on it (freed by the server when a killed worker's connection drops)."""
    if connection.vendor != "postgresql":
        yield True
        return
    key = (ADVISORY_LOCK_CLASS, chunk.pk % 2**31)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", key)
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", key)


def _errors_store(job: ImportJob, chunk: ImportChunk, problems: list[tuple[int, str]]) -> None:
    room = ERRORS_STORED_PER_CHUNK - chunk.failed_count
    if room > 0 and problems:
        ImportRowError.objects.bulk_create(
            ImportRowError(job_id=job.pk, line=line, reason=nul_escaped(reason)[:2000])
            for line, reason in problems[:room]
        )


def _options_added(counters: dict[str, int]) -> RawSQL:
    """The job's options with each counter added to the number under its key, as one SQL
    expression: the chunks of a job, in parallel, add to the same row without losing a count."""
    if connection.vendor == "postgresql":
        pairs = ", ".join(["%s, COALESCE((options->>%s)::bigint, 0) + %s"] * len(counters))
        params = [value for key, n in counters.items() for value in (key, key, n)]
        return RawSQL(f"options || jsonb_build_object({pairs})", params, JSONField())
    paths = [f'$."{key}"' for key in counters]
    sets = ", ".join(["%s, COALESCE(json_extract(options, %s), 0) + %s"] * len(counters))
    params = [v for path, n in zip(paths, counters.values(), strict=True) for v in (path, path, n)]
    return RawSQL(f"json_set(options, {sets})", params, JSONField())


def import_batch_commit(*, job: ImportJob, chunk: ImportChunk, batch: Batch) -> None:
    """One batch, all or nothing: items, bad rows, the chunk's position, the job's counters."""
    rows, problems, read, last = batch.rows, batch.problems, batch.read, batch.last
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # The batch and the chunk's position commit together, so a commit lost to a server
            # crash only means the chunk resumes a batch earlier: no need to wait for the flush.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        # The project before the chunk, in the order Project.delete takes them: no deadlock.
        try:
            project_lock_for_items(job.project_id)
        except Project.DoesNotExist:
            raise ChunkStopped("the project was deleted") from None
        position = (
            ImportChunk.objects.select_for_update()
            .filter(pk=chunk.pk)
            .values_list("position", flat=True)
            .get()
        )
        if position != chunk.position:
            raise ChunkStopped("another task imported this part of the chunk")
        target = import_target(job.options.get("target"))
        if target is None:
            report = items_create_batch(
                project=job.project,
                rows=rows,
                answer_options={"anonymous_answers": job.options.get("anonymous_answers")},
            )
        else:
            report = target.store(job=job, rows=rows)
        _errors_store(job, chunk, problems + report.problems)
        progress = last.progress - chunk.progress
        counted = {"options": _options_added(report.counters)} if report.counters else {}
        updated = ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.RUNNING).update(
            rows_read=F("rows_read") + read,
            created_count=F("created_count") + report.created,
            skipped_count=F("skipped_count") + report.skipped,
            failed_count=F("failed_count") + len(problems),
            answers_carried=F("answers_carried") + report.answers_carried,
            answers_skipped=F("answers_skipped") + report.answers_skipped,
            progress_done=F("progress_done") + max(progress, 0),
            **counted,
        )
        if not updated:
            raise ChunkStopped("the job is no longer running")
        chunk.position = last.position
        chunk.line = last.resume_line or last.line + 1
        chunk.progress = last.progress
        chunk.rows_read += read
        chunk.failed_count += len(problems) + len(report.problems)
        chunk.heartbeat_at = timezone.now()
        chunk.save(
            update_fields=[
                "position",
                "line",
                "progress",
                "rows_read",
                "failed_count",
                "heartbeat_at",
            ]
        )


def _job_finish_if_complete(job_id: int) -> None:
    """The last chunk done marks the job done; then labeling hears how many answers it carried
    (once the job row commits)."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job_id)
        if job.status != ImportJob.Status.RUNNING:
            return
        if job.chunks.filter(status=ImportChunk.Status.PENDING).exists():
            return
        job.status = ImportJob.Status.DONE
        job.finished_at = timezone.now()
        job.progress_done = job.progress_total
        job.errors = [
            {"line": line, "reason": reason}
            for line, reason in job.row_errors.values_list("line", "reason")[:ERRORS_PREVIEW]
        ]
        job.save(update_fields=["status", "finished_at", "progress_done", "errors"])
        project, carried = job.project, job.answers_carried
        transaction.on_commit(lambda: import_finished(project, carried))
        event_emit(project_id=job.project_id, event="import.finished", ids={"import": job.pk})


@dataclass
class Batch:
    rows: list[ItemRow]
    problems: list[tuple[int, str]]  # (line, reason)
    read: int  # records read, good and bad
    last: Record  # the last record: where the chunk stands once the batch is in


def _no_stop_check() -> None:
    return None


def record_batches(
    records: Iterable[Record],
    *,
    parse,
    mapping: ColumnMapping,
    size: int,
    stop_check: Callable[[], None] = _no_stop_check,
) -> Iterator[Batch]:
    """Records into batches of parsed rows and line-numbered problems (no database here but what
    `stop_check` does, every STOP_CHECK_ROWS records: raise to stop)."""
    rows: list[ItemRow] = []
    problems: list[tuple[int, str]] = []
    count, last = 0, None
    for record in records:
        count += 1
        last = record
        value = record.value
        if isinstance(value, Exception):
            problems.append((record.line, str(value)))
        else:
            try:
                row = record_to_row(value, mapping)
                rows.append(parse(row, line=record.line))
            except RowError as exc:
                problems.append((record.line, str(exc)))
            else:
                if "notes" in row:  # what a Label Studio task could not carry over
                    problems.extend((record.line, note) for note in row["notes"])
        if not count % STOP_CHECK_ROWS:
            stop_check()
        if count >= size:
            yield Batch(rows, problems, count, last)
            rows, problems, count = [], [], 0
    if count:
        yield Batch(rows, problems, count, last)


@contextmanager
def _heap_frozen() -> Iterator[None]:
    """Parsing makes millions of short-lived objects, and each full pass of Python's cyclic
    garbage collector walks the whole heap: Django's and Celery's objects too, far more than
    a batch's. Frozen for the import, that older heap is left out of the passes (parsing a
    JSONL file took 40% less time); unfrozen after, so its garbage is collected as before."""
    if gc.get_freeze_count():  # frozen on purpose by the server: not ours to unfreeze
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _chunk_import(job: ImportJob, chunk: ImportChunk) -> None:
    schema = LabelSchema(job.project.label_schema)
    mapping = ColumnMapping.from_options(job.options.get("mapping"))
    if mapping == DEFAULT_MAPPING:
        mapping = DEFAULT_MAPPING  # record_to_row's fast path checks identity
    options = {
        **job.options,
        "schema": schema,
        "chunk_start": chunk.start,
        "chunk_end": chunk.end,
        "chunk_first_line": chunk.first_line,
    }
    read = FORMATS[job.format].read
    target = import_target(job.options.get("target"))
    size = job.options.get("batch_rows") or settings.IMPORT_BATCH_ROWS
    writer = BatchWriter.for_this_connection()
    try:
        with _heap_frozen(), _open(job, going_on=GOING_ON_RUNNING) as stream:
            if target is None:
                records = read(
                    stream, start=chunk.position, end=chunk.end, line=chunk.line, options=options
                )
                batches = record_batches(
                    records,
                    parse=ItemRowParser(schema, nul=job.options.get("nul", NUL_REFUSE)).parse,
                    mapping=mapping,
                    size=size,
                    stop_check=stream.check,
                )
            else:
                batches = target.batches(
                    job=job,
                    stream=stream,
                    start=chunk.position,
                    end=chunk.end,
                    line=chunk.line,
                    size=size,
                )
            for batch in batches:
                writer.write(import_batch_commit, job=job, chunk=chunk, batch=batch)
    finally:
        writer.close()
    with transaction.atomic():  # a kill between the two would leave the job running forever
        ImportChunk.objects.filter(pk=chunk.pk).update(status=ImportChunk.Status.DONE)
        _job_finish_if_complete(job.pk)


def import_chunk_run(*, chunk_id: int) -> bool:
    """Import one chunk from where it stands. False when another task holds the chunk (the
    caller retries later); True when there is nothing more for this task to do."""
    chunk = ImportChunk.objects.select_related("job__project").get(pk=chunk_id)
    job = chunk.job
    if job.status != ImportJob.Status.RUNNING:
        return True
    if chunk.status == ImportChunk.Status.DONE:
        _job_finish_if_complete(job.pk)
        return True
    with _chunk_lock(chunk) as acquired:
        if not acquired:
            return False
        chunk.refresh_from_db()
        if chunk.status == ImportChunk.Status.DONE:
            return True
        try:
            with attempt_counted(ImportChunk.objects.filter(pk=chunk.pk)):
                _chunk_import(job, chunk)
        except TooManyCrashes as exc:
            where = f"The part of the file from line {chunk.line}"
            import_job_fail(job_id=job.pk, message=crash_message(what=where, crashes=exc.crashes))
        except JobStopped as exc:
            logger.info("import job %s chunk %s stopped: %s", job.pk, chunk.index, exc)
        except FileError as exc:
            import_job_fail(job_id=job.pk, message=str(exc))
        except (OperationalError, InterfaceError):
            raise  # the database is away: the task retries, resuming from the last batch
        except Exception:
            logger.exception("import job %s chunk %s failed", job.pk, chunk.index)
            import_job_fail(
                job_id=job.pk, message="The import failed unexpectedly; the error was logged."
            )
    return True


def import_errors_csv(*, job: ImportJob) -> Iterator[str]:
    """The error report, a CSV of line and reason, streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(["line", "reason"])
    if job.message:
        writer.writerow(["", job.message])
    yield flush()
    for line, reason in (
        job.row_errors.order_by("line", "id")
        .values_list("line", "reason")
        .iterator(chunk_size=2000)
    ):
        writer.writerow([line, reason])
        yield flush()
    listed = job.row_errors.count()
    if job.failed_count > listed:
        writer.writerow(["", f"{job.failed_count - listed} more bad rows are not listed"])
        yield flush()
