"""Export jobs: a lead asks for a format and options; a worker writes an immutable snapshot.

The job row moves queued -> running -> done / failed / cancelled and carries its progress
(items_written of items_total); pages and the API read the row, never Celery's results.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.utils import timezone

from exports.formats import export_format_get
from exports.manifest import ExportTally, manifest_build
from exports.models import ExportJob
from exports.options import ExportOptions, export_options_parse
from exports.records import ExportRecord, export_batches, export_items_count
from exports.splits import SplitPlan, split_plan_build
from exports.writers.base import WriteContext
from projects.event_hooks import event_emit
from projects.job_attempts import TooManyCrashes, attempt_counted, crash_message
from projects.label_schema import LabelSchema
from projects.media import MediaLinks
from projects.models import Project

logger = logging.getLogger(__name__)

HASH_CHUNK = 1024 * 1024
FINISHED = {ExportJob.Status.DONE, ExportJob.Status.FAILED, ExportJob.Status.CANCELLED}


class ExportCancelled(Exception):
    """The job row was cancelled while the worker wrote it."""


def export_job_create(*, project: Project, user, format: str, raw_options: dict) -> ExportJob:
    """Check the format and options (raises OptionsError) and store a queued job."""
    export_format = export_format_get(format)
    schema = LabelSchema(project.label_schema)
    options = export_options_parse(raw_options, schema=schema)
    export_format.check(schema, options)
    return ExportJob.objects.create(
        project=project, created_by=user, format=format, options=options.as_json()
    )


def export_job_cancel(*, job: ExportJob) -> bool:
    """Cancel a queued or running job; a running worker stops at its next batch."""
    changed = ExportJob.objects.filter(
        pk=job.pk, status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING]
    ).update(status=ExportJob.Status.CANCELLED, finished_at=timezone.now())
    job.refresh_from_db()
    return bool(changed)


class ScratchFile(File):
    """The written export as Django storage sees it: a file storage on the same disk moves it
    into place (as it does large uploads) instead of copying hundreds of megabytes again."""

    def __init__(self, stream, *, name: str, path: Path):
        super().__init__(stream, name=name)
        self._path = path

    def temporary_file_path(self) -> str:
        return str(self._path)


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "project"


def export_filename(*, job: ExportJob, extension: str) -> str:
    return f"{_slug(job.project.name)}-export-{job.pk}.{extension}"


def progress_batches(
    job: ExportJob,
    batches: Iterator[list[ExportRecord]],
    tally: ExportTally,
    split_plan: SplitPlan | None,
) -> Iterator[list[ExportRecord]]:
    """The batches on their way to the writer: split, counted, and their progress put on the
    job row, whose status is checked at the same time (a cancelled job stops here)."""
    written = 0
    for batch in batches:
        if split_plan is not None:
            split_plan.splits_assign(batch)
        tally.tally_add(batch)
        yield batch
        written += len(batch)
        still_running = ExportJob.objects.filter(pk=job.pk, status=ExportJob.Status.RUNNING).update(
            items_written=written
        )
        if not still_running:
            raise ExportCancelled()


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _export_write(job: ExportJob) -> None:
    project = job.project
    export_format = export_format_get(job.format)
    schema = LabelSchema(project.label_schema)
    options = export_options_parse(job.options, schema=schema)
    total = export_items_count(project=project, options=options)
    ExportJob.objects.filter(pk=job.pk).update(items_total=total)
    split_plan = None
    if options.split:
        # The plan reads results only: annotations and predictions do not change strata.
        plan_options = ExportOptions(only_resolved=options.only_resolved)
        split_plan = split_plan_build(
            batches=export_batches(project=project, options=plan_options, schema=schema),
            schema=schema,
            options=options,
        )
        # Hand the planning pass's Arrow buffers back before the writing pass takes its own.
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    tally = ExportTally(schema=schema)
    extension, content_type = export_format.output(options)
    filename = export_filename(job=job, extension=extension)
    with tempfile.TemporaryDirectory(prefix=f"export-{job.pk}-") as scratch:
        path = Path(scratch) / "export.out"
        parts = Path(scratch) / "parts"
        parts.mkdir()
        context = WriteContext(
            schema=schema,
            options=options,
            scratch=parts,
            project_name=project.name,
            media=MediaLinks(project.pk),
        )
        batches = progress_batches(
            job,
            export_batches(project=project, options=options, schema=schema),
            tally,
            split_plan,
        )
        with path.open("wb") as out:
            export_format.write(batches, out, context)
        sha256 = _sha256(path)
        size = path.stat().st_size
        with path.open("rb") as stream:
            job.file.save(filename, ScratchFile(stream, name=filename, path=path), save=False)
    finished = timezone.now()
    job.manifest = manifest_build(
        job_id=job.pk,
        project_id=project.pk,
        project_name=project.name,
        format=job.format,
        filename=filename,
        content_type=content_type,
        options=options,
        tally=tally,
        sha256=sha256,
        size=size,
        created_at=finished,
        extra={"writer_report": context.report} if context.report else None,
    )
    job.checksum = sha256
    job.items_written = tally.items
    job.items_total = tally.items
    job.finished_at = finished
    job.status = ExportJob.Status.DONE
    job.save(
        update_fields=[
            "file",
            "manifest",
            "checksum",
            "items_written",
            "items_total",
            "finished_at",
            "status",
        ]
    )


def export_job_run(*, job_id: int) -> ExportJob:
    """Write the job's file to the end. A finished job is left as it is (snapshots are immutable);
    a job left running by a crashed worker is written again from the start."""
    job = ExportJob.objects.select_related("project").get(pk=job_id)
    if job.status in FINISHED:
        return job
    started = ExportJob.objects.filter(
        pk=job.pk, status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING]
    ).update(status=ExportJob.Status.RUNNING, started_at=timezone.now(), items_written=0)
    if not started:
        job.refresh_from_db()
        return job
    job.refresh_from_db()
    try:
        with attempt_counted(ExportJob.objects.filter(pk=job.pk)):
            _export_write(job)
    except TooManyCrashes as exc:
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED,
            message=crash_message(what="The export", crashes=exc.crashes),
            finished_at=timezone.now(),
        )
    except ExportCancelled:
        logger.info("export job %s was cancelled", job.pk)
    except Exception as exc:
        logger.exception("export job %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportJob.Status.FAILED,
            message=f"The export failed: {exc}"[:2000],
            finished_at=timezone.now(),
        )
    job.refresh_from_db()
    if job.status in (ExportJob.Status.DONE, ExportJob.Status.FAILED):
        event_emit(
            project_id=job.project_id,
            event="export.finished",
            ids={"export": job.pk},
            data={
                "export": {
                    "id": job.pk,
                    "status": job.status,
                    "format": job.format,
                    "items_written": job.items_written,
                    "checksum": job.checksum,
                    "file": job.file.name or None,
                    "message": job.message,
                }
            },
        )
    return job


def export_files_expired(*, now=None) -> int:
    """Delete the files of exports finished more than EXPORT_RETENTION_DAYS ago (0 keeps them),
    never a pinned one; the job row stays and says why its file is gone. Returns the count."""
    days = settings.EXPORT_RETENTION_DAYS
    if days <= 0:
        return 0
    cutoff = (now or timezone.now()) - timedelta(days=days)
    removed = 0
    expired = ExportJob.objects.filter(finished_at__lt=cutoff, pinned=False).exclude(file="")
    for job in expired:
        job.file.delete(save=False)
        ExportJob.objects.filter(pk=job.pk, pinned=False).update(
            file="",
            message=f"The file was removed {days} days after the export (EXPORT_RETENTION_DAYS); "
            "pin an export to keep it.",
        )
        removed += 1
    return removed


def export_job_pin(*, job: ExportJob, pinned: bool) -> ExportJob:
    ExportJob.objects.filter(pk=job.pk).update(pinned=pinned)
    job.refresh_from_db()
    return job
