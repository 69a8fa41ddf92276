"""Bulk actions of the data manager over a selection of items, as ItemBulkJob status rows.

A job walks its selection by item id in batches. Each batch locks its items, applies the action
and advances the job's counters in one transaction, so a batch commits whole or not at all, a
killed worker's job resumes after the last committed batch, and the row says what was done.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import CASCADE, F, QuerySet
from django.http import QueryDict
from django.utils import timezone

from labeling.datamanager.query import ItemFilterError, item_filter_check, item_selection_query
from labeling.models import Annotation, Assignment, ItemBulkJob, Resolution
from projects.direct_sql import column_in
from projects.label_schema import LabelSchema, ResultError, SchemaError
from projects.models import Item, Project

Action = ItemBulkJob.Action
MAX_IDS = 10_000
MAX_REQUEUE = 100
INT_LIMIT = 2**31 - 1


class BulkRefused(ValueError):
    """The request is wrong. `errors` maps each field to its message."""

    def __init__(self, errors: dict[str, Any]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def _params_check(action: str, params: Any, schema: LabelSchema | None) -> dict[str, Any]:
    if not isinstance(params, dict):
        raise BulkRefused({"params": "must be an object"})
    wanted = {
        Action.SET_PRIORITY: {"priority"},
        Action.SET_GOLD: {"answer"},
        Action.REQUEUE: {"answers"},
    }.get(action, set())
    errors: dict[str, Any] = {}
    for name in sorted(set(params) - wanted):
        errors[f"params.{name}"] = f"not a parameter of {action}"
    for name in sorted(wanted - set(params)):
        errors[f"params.{name}"] = "required"
    if action == Action.SET_PRIORITY and "priority" in params:
        value = params["priority"]
        if isinstance(value, bool) or not isinstance(value, int) or abs(value) > INT_LIMIT:
            errors["params.priority"] = "a whole number"
    if action == Action.REQUEUE and "answers" in params:
        value = params["answers"]
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_REQUEUE:
            errors["params.answers"] = f"a whole number from 1 to {MAX_REQUEUE}"
    if action == Action.SET_GOLD and "answer" in params:
        if schema is None:
            errors["params.answer"] = "the project has no valid label schema"
        else:
            try:
                schema.validate(params["answer"])
            except ResultError as exc:
                errors["params.answer"] = exc.errors
    if errors:
        raise BulkRefused(errors)
    return params


def selection_check(selection: Any) -> dict[str, Any]:
    """The selection normalised ({"ids": sorted ids} or {"query": text}), or BulkRefused."""
    if not isinstance(selection, dict) or len(selection) != 1:
        raise BulkRefused({"selection": 'give {"ids": [item ids]} or {"query": "<filters>"}'})
    if "ids" in selection:
        ids = selection["ids"]
        valid = isinstance(ids, list) and all(
            isinstance(i, int) and not isinstance(i, bool) and 0 < i < 2**63 for i in ids
        )
        if not valid or not ids:
            raise BulkRefused({"selection.ids": "a non-empty list of item ids"})
        if len(ids) > MAX_IDS:
            raise BulkRefused({"selection.ids": f"at most {MAX_IDS}; select by query instead"})
        return {"ids": sorted(set(ids))}
    if "query" in selection:
        query = selection["query"]
        if not isinstance(query, str):
            raise BulkRefused({"selection.query": "the data manager's query string"})
        try:
            item_filter_check(_query_params(query))
        except ItemFilterError as exc:
            raise BulkRefused({f"selection.query.{k}": v for k, v in exc.errors.items()}) from None
        return {"query": query}
    raise BulkRefused({"selection": 'give {"ids": [item ids]} or {"query": "<filters>"}'})


def _query_params(query: str) -> QueryDict:
    params = QueryDict(query.lstrip("?"), mutable=True)
    for name in ("cursor", "size", "ordering"):
        params.pop(name, None)  # the view's page and order do not narrow a selection
    return params


def bulk_selection(*, project: Project, selection: dict[str, Any]) -> QuerySet[Item]:
    """The items a checked selection names, unordered."""
    if "ids" in selection:
        return Item.objects.filter(project=project, pk__in=selection["ids"])
    return item_selection_query(project=project, params=_query_params(selection["query"]))


def item_bulk_job_create(
    *, project: Project, user, action: Any, params: Any = None, selection: Any
) -> ItemBulkJob:
    """A queued bulk job over the selection; BulkRefused names each bad field."""
    if action not in Action.values:
        raise BulkRefused({"action": f"one of {', '.join(Action.values)}"})
    try:
        schema = LabelSchema(project.label_schema)
    except SchemaError:
        schema = None
    errors: dict[str, Any] = {}
    try:
        checked_params = _params_check(action, {} if params is None else params, schema)
    except BulkRefused as exc:
        errors.update(exc.errors)
    try:
        checked_selection = selection_check(selection)
    except BulkRefused as exc:
        errors.update(exc.errors)
    if errors:
        raise BulkRefused(errors)
    count = bulk_selection(project=project, selection=checked_selection).count()
    return ItemBulkJob.objects.create(
        project=project,
        created_by=user,
        action=action,
        params=checked_params,
        selection=checked_selection,
        selected_count=count,
    )


def item_bulk_job_runs_inline(job: ItemBulkJob) -> bool:
    return job.selected_count <= settings.ITEM_BULK_INLINE_LIMIT


# --- the actions: each takes one batch's item rows (pk, status, annotation_count), locked by
# _batch_run unless the action is one UPDATE or DELETE (which locks its rows itself), and
# returns (changed, skipped reasons) ----------------------------------------------------------

Outcome = tuple[int, Counter]
Rows = list[tuple[int, str, int]]


def _ids(rows: Rows) -> list[int]:
    return [row[0] for row in rows]


@cache  # the models do not change while the process runs
def _item_dependents() -> list[str]:
    """The tables whose rows die with an item (CASCADE), each with no dependents of its own but
    the resolutions' accepted answer (cleared by _delete): resolutions before answers. A new
    relation of another kind is refused here rather than deleted wrongly."""
    tables = []
    for relation in Item._meta.get_fields(include_hidden=True):
        if not (relation.auto_created and not relation.concrete):
            continue
        if relation.on_delete is not CASCADE or relation.field.column != "item_id":
            raise ImproperlyConfigured(f"bulk delete does not handle {relation}")
        model = relation.related_model
        for further in model._meta.get_fields(include_hidden=True):
            known = further.auto_created and not further.concrete
            if known and further.remote_field.name != "accepted_annotation":
                raise ImproperlyConfigured(f"bulk delete does not handle {further}")
        tables.append(model._meta.db_table)
    return sorted(tables, key=lambda table: table != Resolution._meta.db_table)  # first


def _delete(job: ItemBulkJob, rows: Rows) -> Outcome:
    """A statement per table, never Django's cascade (it loaded every item and answer, and
    sent each id as a placeholder of every statement)."""
    ids = _ids(rows)
    where, params = column_in("item_id", ids)
    resolutions, *others = _item_dependents()
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {resolutions} WHERE {where}", params)
        # Another item's resolution that accepted one of these answers keeps going, cleared.
        cursor.execute(
            f"UPDATE {resolutions} SET accepted_annotation_id = NULL WHERE accepted_annotation_id"
            f" IN (SELECT id FROM {Annotation._meta.db_table} WHERE {where})",
            params,
        )
        for table in others:
            cursor.execute(f"DELETE FROM {table} WHERE {where}", params)
        where_id, params = column_in("id", ids)
        cursor.execute(
            f"DELETE FROM {Item._meta.db_table} WHERE {where_id} AND project_id = %s",
            [*params, job.project_id],
        )
        deleted = cursor.rowcount
    return deleted, +Counter({"deleted meanwhile": len(ids) - deleted})


def _set_priority(job: ItemBulkJob, rows: Rows) -> Outcome:
    ids = _ids(rows)
    changed = (
        Item.objects.filter(pk__in=ids)
        .exclude(priority=job.params["priority"])
        .update(priority=job.params["priority"])
    )
    return changed, +Counter({"already at that priority (or deleted)": len(ids) - changed})


def _set_gold(job: ItemBulkJob, rows: Rows) -> Outcome:
    ids = _ids(rows)
    schema = LabelSchema(job.project.label_schema)
    answer = job.params["answer"]
    fits, skipped = [], Counter()
    for pk, data, width, height in Item.objects.filter(pk__in=ids).values_list(
        "pk", "data", "width", "height"
    ):
        try:
            schema.validate(answer, data=data, width=width, height=height)
            fits.append(pk)
        except ResultError:
            skipped["the answer does not fit the item (span or shape out of bounds)"] += 1
    Item.objects.filter(pk__in=fits).update(gold=answer)
    return len(fits), skipped


def _unset_gold(job: ItemBulkJob, rows: Rows) -> Outcome:
    ids = _ids(rows)
    changed = Item.objects.filter(pk__in=ids, gold__isnull=False).update(gold=None)
    return changed, +Counter({"not gold (or deleted)": len(ids) - changed})


def _resolutions_replace(ids: list[int], *, state: str, reason: str) -> None:
    """A new current resolution for each item, copied from its current one in one INSERT ...
    SELECT (the old row is kept as history); items without one get an empty result."""
    table = Resolution._meta.db_table
    old = list(
        Resolution.objects.filter(item_id__in=ids, is_current=True).values_list("pk", "item_id")
    )
    Resolution.objects.filter(pk__in=[pk for pk, _ in old]).update(is_current=False)
    if old:
        copied = ["item_id", "result", "method", "agreement", "details"]
        given = ["state", "reason", "is_current", "created_at"]
        marks = ", ".join(["%s"] * len(old))
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(copied + given)}) "
                f"SELECT {', '.join(copied)}, %s, %s, %s, %s FROM {table} WHERE id IN ({marks})",
                [state, reason, True, timezone.now(), *[pk for pk, _ in old]],
            )
    having = {item_id for _, item_id in old}
    Resolution.objects.bulk_create(
        Resolution(
            item_id=pk,
            result={},
            method=Resolution.Method.MAJORITY,
            state=state,
            reason=reason,
            is_current=True,
        )
        for pk in ids
        if pk not in having
    )


def _send_to_review(job: ItemBulkJob, rows: Rows) -> Outcome:
    skipped: Counter = Counter()
    chosen = []
    for pk, status, answers in rows:
        if status == Item.Status.IN_REVIEW:
            skipped["already in review"] += 1
        elif not answers:
            skipped["no answers yet"] += 1
        else:
            chosen.append(pk)
    _resolutions_replace(
        chosen, state=Resolution.State.PENDING, reason="sent to review from the data manager"
    )
    Item.objects.filter(pk__in=chosen).update(status=Item.Status.IN_REVIEW)
    return len(chosen), skipped


def _release_assignments(job: ItemBulkJob, rows: Rows) -> Outcome:
    ids = _ids(rows)
    held = list(
        Assignment.objects.select_for_update()
        .filter(item_id__in=ids, state=Assignment.State.ACTIVE)
        .values_list("pk", "item_id", "is_gold")
    )
    now = timezone.now()
    Assignment.objects.filter(pk__in=[pk for pk, _, _ in held]).update(
        state=Assignment.State.EXPIRED, finished_at=now
    )
    slots = Counter(item_id for _, item_id, is_gold in held if not is_gold)
    for item_id, released in slots.items():
        Item.objects.filter(pk=item_id, assigned_count__gte=released).update(
            assigned_count=F("assigned_count") - released
        )
    items_released = len({item_id for _, item_id, _ in held})
    skipped = Counter({"held by nobody": len(ids) - items_released})
    return items_released, +skipped


def _requeue(job: ItemBulkJob, rows: Rows) -> Outcome:
    more = job.params["answers"]
    ids = _ids(rows)
    answered = [pk for pk, status, _ in rows if status != Item.Status.OPEN]
    _resolutions_replace(
        answered,
        state=Resolution.State.SENT_BACK,
        reason=f"sent back for {more} more answer(s) from the data manager",
    )
    Item.objects.filter(pk__in=ids).update(
        status=Item.Status.OPEN, extra_slots=F("extra_slots") + more
    )
    return len(ids), Counter()


ACTIONS: dict[str, Callable[[ItemBulkJob, Rows], Outcome]] = {
    Action.DELETE: _delete,
    Action.SET_PRIORITY: _set_priority,
    Action.SET_GOLD: _set_gold,
    Action.UNSET_GOLD: _unset_gold,
    Action.SEND_TO_REVIEW: _send_to_review,
    Action.RELEASE_ASSIGNMENTS: _release_assignments,
    Action.REQUEUE: _requeue,
}
# One statement each: it locks the rows it changes, no need to lock them first.
SINGLE_STATEMENT = {Action.DELETE, Action.SET_PRIORITY, Action.UNSET_GOLD}


def _batch_run(job: ItemBulkJob, ids: list[int]) -> None:
    """Apply the action to one batch and advance the job, in one transaction."""
    with transaction.atomic():
        if job.action in SINGLE_STATEMENT:
            rows: Rows = [(pk, "", 0) for pk in ids]
            gone = 0
        else:
            rows = list(
                Item.objects.select_for_update()
                .filter(pk__in=ids, project_id=job.project_id)
                .order_by("pk")
                .values_list("pk", "status", "annotation_count")
            )
            gone = len(ids) - len(rows)
        changed, skipped = ACTIONS[job.action](job, rows) if rows else (0, Counter())
        if gone:
            skipped["deleted meanwhile"] += gone
        report = dict(job.report)
        tally = Counter(report.get("skipped", {}))
        tally.update(skipped)
        report["skipped"] = dict(tally)
        ItemBulkJob.objects.filter(pk=job.pk).update(
            processed_count=F("processed_count") + len(ids),
            changed_count=F("changed_count") + changed,
            skipped_count=F("skipped_count") + sum(skipped.values()),
            batch_count=F("batch_count") + 1,
            last_item_id=ids[-1],
            report=report,
        )
        job.report = report
        job.last_item_id = ids[-1]


def item_bulk_job_run(*, job_id: int, batch_size: int | None = None) -> ItemBulkJob:
    """Run the job from where it stopped; a re-run of a finished job does nothing.

    A batch that fails rolls back whole; the job is then failed with the error, and its
    counters say what the committed batches did. A lost database connection is raised for the
    task to retry: the job resumes after its last committed batch.
    """
    batch_size = batch_size or settings.ITEM_BULK_BATCH
    job = ItemBulkJob.objects.select_related("project").get(pk=job_id)
    if job.is_finished:
        return job
    ItemBulkJob.objects.filter(pk=job.pk).update(
        status=ItemBulkJob.Status.RUNNING, started_at=job.started_at or timezone.now()
    )
    selection = bulk_selection(project=job.project, selection=job.selection)
    try:
        while True:
            status = ItemBulkJob.objects.filter(pk=job.pk).values_list("status", flat=True).first()
            if status in (None, ItemBulkJob.Status.CANCELLED):
                break
            ids = list(
                selection.filter(pk__gt=job.last_item_id)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not ids:
                ItemBulkJob.objects.filter(pk=job.pk).update(
                    status=ItemBulkJob.Status.DONE, finished_at=timezone.now()
                )
                break
            _batch_run(job, ids)
    except (OperationalError, InterfaceError):
        raise  # the database went away: the task retries and resumes after the last batch
    except Exception as exc:
        ItemBulkJob.objects.filter(pk=job.pk).update(
            status=ItemBulkJob.Status.FAILED,
            finished_at=timezone.now(),
            message=f"stopped after item {job.last_item_id}: {exc}"[:2000],
        )
    job.refresh_from_db()
    return job


def item_bulk_job_cancel(*, job: ItemBulkJob) -> bool:
    """Stop the job after the batch under way (the committed batches stay)."""
    return bool(
        ItemBulkJob.objects.filter(
            pk=job.pk, status__in=[ItemBulkJob.Status.QUEUED, ItemBulkJob.Status.RUNNING]
        ).update(status=ItemBulkJob.Status.CANCELLED, finished_at=timezone.now())
    )
