"""Refit a project's Dawid-Skene model and re-resolve the items it now reads differently.

Run by a worker (labeling.tasks), never inside a request or a submit: after an import that
carried answers, after a reviewer's decision (a known answer changes the reliabilities), on a
schedule when answers moved, and when a lead asks (POST .../resolutions/refresh/). Each run is a
ConsensusJob row (queued, running, done or failed, with its counts) that the API serves.

The refit stores a new model version (consensus.fitted_model); one vectorised pass then finds
the automatically resolved items (unanimous and single answers included) whose label the model
now reads differently, and only those are re-resolved (history kept); the others keep their
resolution with its confidence set to the new posterior. Reviewers' decisions stay.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone

from labeling.consensus.answer_codes import label_codes
from labeling.consensus.fitted_model import (
    ModelFit,
    consensus_model_current,
    consensus_model_fit,
    consensus_model_stale_projects,
    model_used_by,
)
from labeling.consensus.resolve import items_re_resolve
from labeling.models import ConsensusJob, Resolution
from projects.direct_sql import rows_fetch
from projects.label_schema import CHOICE, LabelSchema
from projects.models import Project

logger = logging.getLogger(__name__)

AUTOMATIC = (
    Resolution.Method.MAJORITY,
    Resolution.Method.DAWID_SKENE,
    Resolution.Method.UNANIMOUS,
    Resolution.Method.SINGLE,
    Resolution.Method.WEIGHTED_VOTE,
)
CONFIDENCE_MOVED = 1e-6
UNFINISHED = (ConsensusJob.Status.QUEUED, ConsensusJob.Status.RUNNING)


@dataclass
class Comparison:
    changed: list[int]  # item ids whose label the fit reads differently: re-resolve them
    kept: dict[int, float]  # resolution id -> the fit's confidence where it moved (label stays)


def resolutions_compare(*, project: Project, fit: ModelFit) -> Comparison:
    """Compare, in one vectorised pass per control, the current automatic (or pending)
    resolutions with the fit's posteriors."""
    schema = LabelSchema(project.label_schema)
    automatic = Resolution.objects.filter(
        item__project=project, is_current=True, method__in=AUTOMATIC
    ).exclude(state=Resolution.State.SENT_BACK)
    changed: set[int] = set()
    confidence: dict[int, float] = {}
    stored_by_id: dict[int, float | None] = {}
    for control in (c for c in schema.controls if c.kind == CHOICE):
        control_fit = fit.controls[control.name]
        if not len(control_fit.item_ids):
            continue
        rows = rows_fetch(
            automatic.values_list(
                "id", "item_id", "confidence", KeyTextTransform(control.name, "result")
            )
        )
        if not rows:
            continue
        ids, item_ids, stored_confidence, answers = (
            np.asarray(column) for column in zip(*rows, strict=True)
        )
        ids, item_ids = ids.astype(np.int64), item_ids.astype(np.int64)
        stored = label_codes(list(answers), control_fit.label_values)
        posteriors = control_fit.posteriors
        ordered = np.sort(posteriors, axis=1)
        decided = (
            ordered[:, -1] - ordered[:, -2] > 1e-12
            if ordered.shape[1] > 1
            else np.ones(len(ordered), dtype=bool)
        )
        labels = np.where(decided, posteriors.argmax(axis=1), -2)
        where = np.clip(np.searchsorted(control_fit.item_ids, item_ids), 0, len(labels) - 1)
        known = control_fit.item_ids[where] == item_ids
        differs = known & (labels[where] != stored)
        changed.update(int(i) for i in item_ids[differs])
        same = known & ~differs
        for resolution_id, value in zip(
            ids[same].tolist(), ordered[where[same], -1].tolist(), strict=True
        ):
            # The weakest choice control's posterior is the resolution's confidence.
            confidence[resolution_id] = min(value, confidence.get(resolution_id, 1.0))
        stored_by_id.update(zip(ids.tolist(), stored_confidence.tolist(), strict=True))
    # Only the confidences that moved are written: a refit after a few answers writes few.
    moved = {
        pk: value
        for pk, value in confidence.items()
        if stored_by_id.get(pk) is None or abs(stored_by_id[pk] - value) > CONFIDENCE_MOVED
    }
    return Comparison(changed=sorted(changed), kept=moved)


def resolution_confidences_write(confidence: dict[int, float]) -> None:
    """Set the confidence of resolutions whose label stays (one statement on PostgreSQL)."""
    if not confidence:
        return
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {Resolution._meta.db_table} r SET confidence = v.confidence "
                "FROM unnest(%s::bigint[], %s::float8[]) AS v(id, confidence) "
                "WHERE r.id = v.id AND r.confidence IS DISTINCT FROM v.confidence",
                [list(confidence), list(confidence.values())],
            )
        return
    Resolution.objects.bulk_update(
        [Resolution(pk=pk, confidence=value) for pk, value in confidence.items()],
        ["confidence"],
        batch_size=2000,
    )


def consensus_refit(*, project: Project, job: ConsensusJob | None = None) -> dict[str, int]:
    """Fit and store the project's model; in a Dawid-Skene project, re-resolve what changed."""
    fit = consensus_model_fit(project=project)
    counts = {"answers": fit.answers, "items": fit.items, "re_resolved": 0}
    if job is not None:
        ConsensusJob.objects.filter(pk=job.pk).update(
            answers_count=fit.answers, items_count=fit.items, model_version=fit.version
        )
    if project.aggregation != Project.Aggregation.DAWID_SKENE:
        return counts
    model = consensus_model_current(project=project)
    comparison = resolutions_compare(project=project, fit=fit)
    resolution_confidences_write(comparison.kept)
    counts["re_resolved"] = items_re_resolve(
        project=project, item_ids=comparison.changed, model=model
    )
    return counts


def consensus_job_create(*, project: Project, trigger: str, user=None) -> ConsensusJob | None:
    """A queued refit of the project, or None when one is queued already (it will read every
    answer there is when it runs) or the project uses no model."""
    if not model_used_by(project):
        return None
    if ConsensusJob.objects.filter(project=project, status=ConsensusJob.Status.QUEUED).exists():
        return None
    return ConsensusJob.objects.create(project=project, trigger=trigger, created_by=user)


def consensus_job_run(*, job_id: int) -> None:
    """Run a queued job: queued -> running -> done (with its counts) or failed (with why).
    A job left running (its worker died, the database went away) runs again when redelivered."""
    with transaction.atomic():
        job = ConsensusJob.objects.select_for_update().select_related("project").get(pk=job_id)
        if job.status not in UNFINISHED:
            return
        job.status = ConsensusJob.Status.RUNNING
        job.started_at = timezone.now()
        job.save(update_fields=["status", "started_at"])
    try:
        counts = consensus_refit(project=job.project, job=job)
    except (OperationalError, InterfaceError):
        raise  # the database is away: the task retries, and the job (running) runs again
    except Exception as exc:
        logger.exception("consensus job %s failed", job.pk)
        ConsensusJob.objects.filter(pk=job.pk).update(
            status=ConsensusJob.Status.FAILED,
            message=f"The refit failed: {exc}"[:2000],
            finished_at=timezone.now(),
        )
        raise
    ConsensusJob.objects.filter(pk=job.pk).update(
        status=ConsensusJob.Status.DONE,
        re_resolved_count=counts["re_resolved"],
        finished_at=timezone.now(),
    )


def consensus_jobs_due() -> list[int]:
    """Queued jobs for the projects whose answers moved since their last fit."""
    jobs = []
    for project in Project.objects.filter(pk__in=consensus_model_stale_projects()):
        if ConsensusJob.objects.filter(project=project, status__in=UNFINISHED).exists():
            continue
        job = consensus_job_create(project=project, trigger=ConsensusJob.Trigger.SCHEDULE)
        if job is not None:
            jobs.append(job.pk)
    return jobs
