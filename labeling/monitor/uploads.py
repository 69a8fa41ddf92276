"""A JSONL file of prediction events, ingested in the background with the import machinery.

The job is an ImportJob row (format `jsonl`, options `{"target": "monitor_events"}`), so its state,
counts and error report come from the same row, API and CSV as any import; the file is read by
the JSONL importer's streaming reader and committed in batches. Each batch's events, its bad
lines (ImportRowError) and the resume position (one ImportChunk) commit together, so a killed
worker's redelivered task resumes at the last committed batch. Bad lines are reported and the
good ones kept. created_count counts stored events, skipped_count duplicates; the routed count is
kept in options["routed"].
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from labeling.monitor.events import EventParser, events_store, ruleset_for
from projects.imports.jobs import ERRORS_PREVIEW, ERRORS_STORED_PER_CHUNK, ImportRefused
from projects.imports.readers.jsonl import jsonl_read
from projects.models import ImportChunk, ImportJob, ImportRowError, Project

logger = logging.getLogger(__name__)
TARGET = "monitor_events"


def event_upload_create(*, project: Project, user, upload: UploadedFile) -> ImportJob:
    if not upload.size:
        raise ImportRefused("The file is empty.")
    if upload.size > settings.IMPORT_MAX_FILE_BYTES:
        raise ImportRefused(
            f"The file is {upload.size} bytes, over the limit of "
            f"{settings.IMPORT_MAX_FILE_BYTES} bytes."
        )
    return ImportJob.objects.create(
        project=project,
        created_by=user,
        format="jsonl",
        file=upload,
        file_size=upload.size,
        progress_total=upload.size,
        original_name=(upload.name or "")[:255],
        options={"target": TARGET, "routed": 0, "batch_rows": settings.IMPORT_BATCH_ROWS},
    )


def _batch_commit(job: ImportJob, chunk: ImportChunk, parser, ruleset, records) -> None:
    rows, problems = [], []
    for record in records:
        value = record.value
        if isinstance(value, Exception):
            problems.append((record.line, str(value)))
            continue
        row, error = parser.parse(value, line=record.line)
        if error:
            reasons = "; ".join(f"{k}: {v}" for k, v in error.items() if k != "line")
            problems.append((record.line, reasons))
        else:
            rows.append(row)
    last = records[-1]
    with transaction.atomic():
        locked = ImportChunk.objects.select_for_update().get(pk=chunk.pk)
        if locked.position != chunk.position:
            raise RuntimeError("another task ingested this part of the file")
        report = events_store(project=job.project, rows=rows, ruleset=ruleset)
        room = ERRORS_STORED_PER_CHUNK - chunk.failed_count
        if room > 0 and problems:
            ImportRowError.objects.bulk_create(
                ImportRowError(job_id=job.pk, line=line, reason=reason[:2000])
                for line, reason in problems[:room]
            )
        ImportJob.objects.filter(pk=job.pk).update(
            rows_read=F("rows_read") + len(records),
            created_count=F("created_count") + report.created,
            skipped_count=F("skipped_count") + report.duplicates,
            failed_count=F("failed_count") + len(problems),
            progress_done=last.progress,
        )
        job.options["routed"] = job.options.get("routed", 0) + report.routed
        ImportJob.objects.filter(pk=job.pk).update(options=job.options)
        chunk.position = last.position
        chunk.line = last.line + 1
        chunk.rows_read += len(records)
        chunk.failed_count += len(problems)
        chunk.save(update_fields=["position", "line", "rows_read", "failed_count"])


def event_upload_run(*, job_id: int) -> None:
    """Ingest the file from where it stands (a re-run resumes at the last committed batch)."""
    job = ImportJob.objects.select_related("project").get(pk=job_id)
    if job.is_finished:
        return
    ImportJob.objects.filter(pk=job.pk, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now()
    )
    chunk, _ = ImportChunk.objects.get_or_create(job=job, index=0)
    job.refresh_from_db()
    parser = EventParser(job.project)
    ruleset = ruleset_for(job.project)
    size = job.options.get("batch_rows") or settings.IMPORT_BATCH_ROWS
    try:
        with job.file.storage.open(job.file.name, "rb") as stream:
            batch = []
            records = jsonl_read(
                stream, start=chunk.position, end=None, line=chunk.line, options={}
            )
            for record in records:
                batch.append(record)
                if len(batch) >= size:
                    _batch_commit(job, chunk, parser, ruleset, batch)
                    batch = []
            if batch:
                _batch_commit(job, chunk, parser, ruleset, batch)
    except (OperationalError, InterfaceError):
        raise  # the database is away: the task retries, resuming from the last batch
    except Exception:
        logger.exception("monitor event upload %s failed", job.pk)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            message="The upload failed unexpectedly; the error was logged.",
            finished_at=timezone.now(),
        )
        return
    job.refresh_from_db()
    job.status = ImportJob.Status.DONE
    job.finished_at = timezone.now()
    job.progress_done = job.progress_total
    job.chunk_count = 1
    job.errors = [
        {"line": line, "reason": reason}
        for line, reason in job.row_errors.values_list("line", "reason")[:ERRORS_PREVIEW]
    ]
    ImportChunk.objects.filter(pk=chunk.pk).update(status=ImportChunk.Status.DONE)
    job.save(update_fields=["status", "finished_at", "progress_done", "chunk_count", "errors"])
