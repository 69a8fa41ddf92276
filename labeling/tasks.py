"""Celery tasks for labeling (thin: each calls one service), and how they are enqueued.

Enqueued with transaction.on_commit, so a worker never looks for a row not yet committed.
"""

from celery import shared_task
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, transaction

from labeling.consensus.refresh import consensus_job_create, consensus_job_run, consensus_jobs_due
from labeling.models import ConsensusJob
from labeling.quality.report import (
    quality_report_compute,
    quality_report_latest,
    quality_report_payload,
)
from projects.models import Project

RETRY = {
    "acks_late": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": True,
    "max_retries": 10,
}


@shared_task(**RETRY, soft_time_limit=3600)
def consensus_job_run_task(job_id: int) -> None:
    consensus_job_run(job_id=job_id)


@shared_task(**RETRY)
def consensus_jobs_due_task() -> None:
    """The schedule (CELERY_BEAT_SCHEDULE): refit the projects whose answers moved."""
    for job_id in consensus_jobs_due():
        consensus_job_run_task.delay(job_id)


@shared_task(**RETRY, soft_time_limit=3600)
def quality_report_compute_task(project_id: int) -> None:
    try:
        quality_report_compute(project_id=project_id)
    finally:
        cache.delete(f"quorum:quality-enqueued:{project_id}")


def consensus_job_enqueue(job: ConsensusJob | None) -> None:
    if job is not None:
        job_id = job.pk
        transaction.on_commit(lambda: consensus_job_run_task.delay(job_id))


def consensus_refit_start(*, project: Project, trigger: str, user=None) -> ConsensusJob | None:
    """Queue a refit of the project (unless one is queued already) and enqueue it."""
    job = consensus_job_create(project=project, trigger=trigger, user=user)
    consensus_job_enqueue(job)
    return job


def consensus_refit_after_import(project: Project, answers_carried: int) -> None:
    """The import hook (projects.imports.hooks): an import that carried answers refits."""
    if answers_carried:
        consensus_refit_start(project=project, trigger=ConsensusJob.Trigger.IMPORT)


QUALITY_ENQUEUED_SECONDS = 600


def quality_report_served(*, project: Project) -> dict:
    """The newest kept quality report at once, with its age; when the data moved since, a
    worker computes a new one (enqueued once per project until it is done) and the answer says
    "refreshing". With tasks in-process (`make run`), the new one is computed here."""
    report, fresh = quality_report_latest(project=project)
    # One computation at a time per project, however many pages poll meanwhile.
    if not fresh and cache.add(
        f"quorum:quality-enqueued:{project.pk}", 1, QUALITY_ENQUEUED_SECONDS
    ):
        project_id = project.pk
        transaction.on_commit(lambda: quality_report_compute_task.delay(project_id))
        report, fresh = quality_report_latest(project=project)
    return quality_report_payload(report=report, fresh=fresh)
