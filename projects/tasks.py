"""Celery tasks for projects (thin: each calls one service).

Every task is acknowledged late and rejected when its worker process dies (settings), so a
killed worker's task is redelivered; the services make a re-run harmless.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError, transaction

from projects.api_tokens import api_tokens_purge
from projects.imports.jobs import import_chunk_run, import_job_plan
from projects.items.filing import items_refile
from projects.items.search_index import (
    items_search_index,
    projects_with_unsearchable_items,
    search_indexed,
)
from projects.job_queue import import_files_expired, send_after_commit, stale_queued, stalled_chunks
from projects.models import ImportJob, Project

CHUNK_BUSY_RETRY_SECONDS = 5
CHUNK_BUSY_MAX_RETRIES = 720  # an hour of waiting for a chunk another task holds


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=10,
)
def import_job_start_task(job_id: int) -> None:
    """Plan the job into chunks and fan the chunks out to the workers."""
    for chunk_id in import_job_plan(job_id=job_id):
        import_chunk_run_task.delay(chunk_id)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=CHUNK_BUSY_MAX_RETRIES,
)
def import_chunk_run_task(self, chunk_id: int) -> None:
    if not import_chunk_run(chunk_id=chunk_id):
        raise self.retry(countdown=CHUNK_BUSY_RETRY_SECONDS)


def import_job_enqueue(job_id: int) -> None:
    """Start the job once the transaction that created it commits (a send that fails then
    leaves it queued for imports_sweep_task)."""
    send_after_commit(import_job_start_task.delay, job_id)


@shared_task(ignore_result=True)
def imports_sweep_task() -> None:
    """Celery beat, every JOBS_SWEEP_SECONDS: send again the imports whose message was lost
    and the chunks whose worker stopped beating."""
    for job_id in stale_queued(ImportJob).values_list("pk", flat=True):
        import_job_start_task.delay(job_id)
    for chunk_id in stalled_chunks():
        import_chunk_run_task.delay(chunk_id)


@shared_task(ignore_result=True)
def import_files_retention_task() -> None:
    """Celery beat, hourly: remove source files past IMPORT_FILE_RETENTION_DAYS."""
    import_files_expired()


@shared_task(ignore_result=True)
def api_tokens_purge_task() -> None:
    """Celery beat, daily: delete tokens expired or revoked API_TOKEN_KEEP_DAYS ago."""
    api_tokens_purge()


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=10,
)
def items_refile_task(project_id: int) -> None:
    items_refile(project_id=project_id)


def items_refile_if_reordered(project: Project, previous_ordering: str) -> bool:
    """Refile the project's items once the transaction that changed its ordering commits;
    whether it did change."""
    if project.ordering == previous_ordering:
        return False
    project_id = project.pk
    transaction.on_commit(lambda: items_refile_task.delay(project_id))
    return True


@shared_task(
    acks_late=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=10,
    ignore_result=True,
)
def items_search_index_task(project_id: int, from_id: int | None = None) -> None:
    items_search_index(project_id, from_id=from_id)


def items_search_index_enqueue(project_id: int, *, from_id: int | None = None) -> None:
    """Index the project's items not yet searchable (from `from_id` up, when given) once the
    current transaction commits (a lost message is made good by items_search_sweep_task)."""
    send_after_commit(items_search_index_task.delay, project_id, from_id)


def items_search_index_after_import(project: Project, answers_carried: int) -> None:
    """The import hook (projects.imports.hooks): an import's items become searchable."""
    if search_indexed():
        items_search_index_enqueue(project.pk)


@shared_task(ignore_result=True)
def items_search_sweep_task() -> None:
    """Celery beat, every SEARCH_INDEX_SWEEP_SECONDS: index the projects with items that are
    not searchable yet (an import whose hook or message was lost)."""
    for project_id in projects_with_unsearchable_items():
        items_search_index_task.delay(project_id)
