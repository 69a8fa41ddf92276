"""Import jobs: a file uploaded by a lead becomes items, in the background, with a status row."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import PurePath
from typing import IO, Any

from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone

from projects.importers.csv import csv_rows
from projects.importers.jsonl import jsonl_rows
from projects.importers.rows import FileError
from projects.items import items_create
from projects.models import ImportJob, Project

logger = logging.getLogger(__name__)

MAX_REPORTED_ERRORS = 10_000
READERS = {
    "csv": lambda stream: csv_rows(stream),
    "tsv": lambda stream: csv_rows(stream, delimiter="\t"),
    "jsonl": jsonl_rows,
}
EXTENSIONS = {".csv": "csv", ".tsv": "tsv", ".tab": "tsv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class ImportRefused(ValueError):
    """The upload is refused before any job runs (unknown format, empty file)."""


def import_format_detect(*, filename: str, head: bytes) -> str:
    """The format from the file name, else from its first bytes."""
    by_name = EXTENSIONS.get(PurePath(filename).suffix.lower())
    if by_name:
        return by_name
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"{"):
        return "jsonl"
    if b"\t" in head.split(b"\n", 1)[0]:
        return "tsv"
    if b"," in head.split(b"\n", 1)[0]:
        return "csv"
    raise ImportRefused("Cannot tell the file's format: upload CSV, TSV or JSONL.")


def import_job_create(
    *, project: Project, user, upload: UploadedFile, format: str | None = None
) -> ImportJob:
    if upload.size == 0:
        raise ImportRefused("The file is empty.")
    head = upload.read(4096)
    upload.seek(0)
    format = format or import_format_detect(filename=upload.name or "", head=head)
    if format not in READERS:
        raise ImportRefused(f"Unknown format '{format}': use one of {', '.join(READERS)}.")
    return ImportJob.objects.create(
        project=project,
        created_by=user,
        format=format,
        file=upload,
        original_name=(upload.name or "")[:255],
    )


def _rows(job: ImportJob, stream: IO[bytes]) -> Iterator[tuple[int, Any]]:
    return READERS[job.format](stream)


def import_job_run(*, job_id: int) -> ImportJob:
    """Run the job to the end: items go in batch by batch; bad rows are reported by line."""
    job = ImportJob.objects.select_related("project").get(pk=job_id)
    if job.is_finished:
        return job
    job.status = ImportJob.Status.RUNNING
    job.started_at = timezone.now()
    job.save(update_fields=["status", "started_at"])
    try:
        with job.file.open("rb") as stream:
            report = items_create(project=job.project, raw_rows=_rows(job, stream))
    except FileError as exc:
        job.status = ImportJob.Status.FAILED
        job.message = str(exc)
    except Exception:
        logger.exception("import job %s failed", job.pk)
        job.status = ImportJob.Status.FAILED
        job.message = "The import failed unexpectedly; the error was logged."
    else:
        job.status = ImportJob.Status.DONE
        job.created_count = report.created
        job.skipped_count = report.skipped
        job.failed_count = report.failed
        job.rows_read = report.created + report.skipped + report.failed
        job.errors = report.errors[:MAX_REPORTED_ERRORS]
    job.finished_at = timezone.now()
    job.save()
    return job
