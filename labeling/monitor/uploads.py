"""A JSONL file of prediction events, ingested in the background by the import machinery.

The job is an ImportJob (format `jsonl`, options `{"target": "monitor_events"}`), so it goes the
way of any import: planned into byte ranges of whole lines, each range a chunk imported by its own
Celery task (several workers at once), batch by batch; each batch's events, its bad lines
(ImportRowError), the chunk's resume position and the job's counters commit together, so a killed
worker's redelivered task resumes at the last committed batch. Its state, counts and error report
come from the same row, API and CSV as any import. Bad lines are reported and the good ones kept.
created_count counts stored events, skipped_count duplicates; the routed count is kept in
options["routed"].

This module is the job's ImportTarget (registered by MonitorConfig.ready): `event_batches` reads
a chunk's lines and checks each (EventParser's short path for the usual event), `event_batch_store`
stores a batch (events.events_store: COPY, counts, routing into items).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO

import orjson
from django.core.files.uploadedfile import UploadedFile

from labeling.monitor.events import EventParser, EventRow, events_store
from labeling.monitor.lookups import ingest_lookups
from projects.imports.hooks import ImportTarget
from projects.imports.jobs import Batch, import_job_create
from projects.imports.readers.lines import LineReader
from projects.imports.readers.rows import Record
from projects.items.create import BatchReport
from projects.models import ImportJob, Project
from projects.unstorable import nul_message, nul_path

TARGET = "monitor_events"
NUL_ESCAPE = b"\\u0000"  # how a NUL character appears in JSON text


def event_upload_create(*, project: Project, user, upload: UploadedFile) -> ImportJob:
    """Store the upload with its queued job (ImportRefused for an empty or too large file).
    Enqueue it with projects.tasks.import_job_enqueue."""
    return import_job_create(
        project=project, user=user, upload=upload, format="jsonl", target=TARGET
    )


def _problem(error: dict) -> str:
    return "; ".join(f"{k}: {v}" for k, v in error.items() if k != "line")


def event_batches(
    *, job: ImportJob, stream: IO[bytes], start: int, end: int | None, line: int, size: int
) -> Iterator[Batch]:
    """The chunk's lines in batches of parsed events and line-numbered problems. The versions
    the events name are looked up (and registered) here, outside the batch's transaction."""
    project = job.project
    parser = EventParser(project)
    parse = parser.parse
    loads = orjson.loads
    lines = LineReader(stream, start=start, end=end, line=line)
    rows: list[EventRow] = []
    problems: list[tuple[int, str]] = []
    count = 0

    def batch() -> Batch:
        ingest_lookups(project=project, rows=rows, rules=False)
        number = lines.next_line - 1
        return Batch(rows, problems, count, Record(number, lines.position, lines.position, None))

    for raw in lines:
        number = lines.next_line - 1
        try:
            value = loads(raw)
        except orjson.JSONDecodeError as exc:
            if not raw.strip():
                continue
            problems.append((number, f"invalid JSON: {exc}"))
        else:
            # PostgreSQL stores no NUL character: the text shows where one might be.
            if NUL_ESCAPE in raw and (path := nul_path(value)) is not None:
                problems.append((number, nul_message(path)))
            else:
                row, error = parse(value, line=number)
                if error is None:
                    rows.append(row)
                else:
                    problems.append((number, _problem(error)))
        count += 1
        if count >= size:
            yield batch()
            rows, problems, count = [], [], 0
    if count:
        yield batch()


def event_batch_store(*, job: ImportJob, rows: list[EventRow]) -> BatchReport:
    """One batch stored, inside the batch's transaction."""
    report = events_store(project=job.project, rows=rows)
    return BatchReport(
        created=report.created,
        skipped=report.duplicates,
        problems=[],
        counters={"routed": report.routed},
    )


EVENT_UPLOAD = ImportTarget(batches=event_batches, store=event_batch_store, formats=("jsonl",))
