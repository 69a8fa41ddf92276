"""Run an export as the worker does and hand back its file."""

from __future__ import annotations

from pathlib import Path

from exports.jobs import export_job_create, export_job_run
from exports.models import ExportJob


def export_run(project, user, format: str, tmp_path: Path, **options) -> tuple[ExportJob, Path]:
    job = export_job_create(project=project, user=user, format=format, raw_options=options)
    job = export_job_run(job_id=job.pk)
    assert job.status == ExportJob.Status.DONE, job.message
    path = tmp_path / f"{job.pk}-{job.manifest['filename']}"
    with job.file.open("rb") as stream:
        path.write_bytes(stream.read())
    return job, path
