"""Celery tasks for projects (thin: each calls one service)."""

from celery import shared_task

from projects.imports import import_job_run


@shared_task(acks_late=True)
def import_job_run_task(job_id: int) -> None:
    import_job_run(job_id=job_id)
