"""Query stage of an export: stream a project's items with their final results, in batches.

Keyset pagination on the item id (one query per batch of items and their current resolutions,
merge-joined), `values_list` rows fetched as plain tuples, JSON columns kept as the database's
text and decoded only by writers that need them (orjson): memory stays flat and the cost per
item a few microseconds. Every order is fixed (items, annotations and predictions by id), so two
runs over the same data read the same records.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from queue import Full, Queue
from typing import Any

import orjson
from django.db import connection, transaction
from django.db.models import Case, FilteredRelation, Q, TextField, When
from django.db.models.functions import Cast

from exports.arrow_results import results_table
from exports.options import ExportOptions
from labeling.datamanager.bulk import bulk_selection
from labeling.models import Annotation
from labeling.monitor.selectors import monitor_filter, routed_item_external_ids
from projects.direct_sql import rows_fetch
from projects.label_schema import LabelSchema
from projects.media import MediaLinks
from projects.models import Item, Prediction, Project

BATCH_SIZE = 2500
READ_AHEAD = 2  # batches read ahead of the writer: memory is bounded by this
_END = object()


@dataclass(slots=True, frozen=True)
class AnnotationRecord:
    annotation_id: int
    annotator_id: int
    annotator: str
    annotator_email: str
    result: dict[str, Any]
    lead_time: float
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True, frozen=True)
class PredictionRecord:
    prediction_id: int
    model_version: str
    result: dict[str, Any]
    score: float | None


_UNSET: Any = object()


@dataclass(slots=True)
class ExportRecord:
    """One item as the writers see it. `data` and `result` are decoded on first use: writers that
    copy them verbatim use `data_json` / `result_json` (the database's own JSON text) instead."""

    item_id: int
    external_id: str
    data_json: str
    status: str
    result_json: str | None
    method: str | None
    agreement: float | None
    width: int | None = None
    height: int | None = None
    gold: dict[str, Any] | None = None
    annotations: list[AnnotationRecord] = field(default_factory=list)
    predictions: list[PredictionRecord] = field(default_factory=list)
    split: str | None = None
    _data: Any = _UNSET
    _result: Any = _UNSET

    @property
    def data(self) -> dict[str, Any]:
        if self._data is _UNSET:
            self._data = orjson.loads(self.data_json)
        return self._data

    @property
    def result(self) -> dict[str, Any] | None:
        if self._result is _UNSET:
            self._result = None if self.result_json is None else orjson.loads(self.result_json)
        return self._result


class ExportBatch(list):
    """A batch of records, with its results parsed once into Arrow columns for whoever asks
    (the manifest's label counts, the Parquet writer)."""

    _results: Any = None

    def results(self, schema: LabelSchema):
        if self._results is None:
            self._results = results_table([r.result_json for r in self], schema)
        return self._results


def _loads(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


def export_items_query(
    *,
    project: Project,
    only_resolved: bool,
    selection: dict | None = None,
    monitor: dict | None = None,
):
    if selection:
        items = bulk_selection(project=project, selection=selection)
    else:
        items = Item.objects.filter(project=project)
    if only_resolved:
        items = items.filter(status=Item.Status.RESOLVED)
    if monitor:
        items = items.filter(
            external_id__in=routed_item_external_ids(project=project, **monitor_filter(monitor))
        )
    return items


def export_items_count(*, project: Project, options: ExportOptions) -> int:
    return export_items_query(
        project=project,
        only_resolved=options.only_resolved,
        selection=options.selection,
        monitor=options.monitor,
    ).count()


def _annotations_by_item(project: Project, first_id: int, last_id: int) -> dict[int, list]:
    by_item: dict[int, list[AnnotationRecord]] = {}
    rows = (
        Annotation.objects.filter(project=project, item_id__gte=first_id, item_id__lte=last_id)
        .order_by("item_id", "id")
        .values_list(
            "item_id",
            "id",
            "annotator_id",
            "annotator__username",
            "annotator__email",
            Cast("result", TextField()),
            "lead_time",
            "created_at",
            "updated_at",
        )
    )
    for item_id, pk, annotator_id, username, email, result, lead_time, created, updated in rows:
        by_item.setdefault(item_id, []).append(
            AnnotationRecord(
                pk, annotator_id, username, email, orjson.loads(result), lead_time, created, updated
            )
        )
    return by_item


def _predictions_by_item(first_id: int, last_id: int, item_ids: set[int]) -> dict[int, list]:
    by_item: dict[int, list[PredictionRecord]] = {}
    rows = (
        Prediction.objects.filter(item_id__gte=first_id, item_id__lte=last_id)
        .order_by("item_id", "id")
        .values_list("item_id", "id", "model_version", Cast("result", TextField()), "score")
    )
    for item_id, pk, model_version, result, score in rows:
        if item_id in item_ids:
            by_item.setdefault(item_id, []).append(
                PredictionRecord(pk, model_version, orjson.loads(result), score)
            )
    return by_item


def _batches_read(
    project: Project, options: ExportOptions, batch_size: int, schema: LabelSchema | None
):
    items = export_items_query(
        project=project,
        only_resolved=options.only_resolved,
        selection=options.selection,
        monitor=options.monitor,
    )
    resolved = Item.Status.RESOLVED
    columns = [
        "id",
        "external_id",
        Cast("data", TextField()),
        "status",
        # Only a resolved item has a final result (see export_batches).
        Case(When(status=resolved, then=Cast("current__result", TextField())), default=None),
        Case(When(status=resolved, then="current__method"), default=None),
        Case(When(status=resolved, then="current__agreement"), default=None),
        "width",
        "height",
    ]
    if options.include_gold:
        columns.append(Cast("gold", TextField()))
    links = MediaLinks(project.pk)  # files referred to as URLs fetchable now
    last_id = 0
    while True:
        # The bound on the resolution side too lets PostgreSQL merge-join from last_id on
        # instead of scanning the resolutions from the start on every batch.
        current = FilteredRelation(
            "resolutions",
            condition=Q(resolutions__is_current=True, resolutions__item_id__gt=last_id),
        )
        rows = rows_fetch(
            items.annotate(current=current)
            .filter(id__gt=last_id)
            .order_by("id")
            .values_list(*columns)[:batch_size]
        )
        if not rows:
            return
        first_id, last_id = rows[0][0], rows[-1][0]
        annotations = (
            _annotations_by_item(project, first_id, last_id) if options.include_annotations else {}
        )
        predictions = (
            _predictions_by_item(first_id, last_id, {row[0] for row in rows})
            if options.include_predictions
            else {}
        )
        empty: list = []
        batch = ExportBatch(
            ExportRecord(
                row[0],
                row[1],
                links.data_json(row[2]),
                row[3],
                row[4],
                row[5],
                row[6],
                row[7],
                row[8],
                _loads(row[9]) if options.include_gold else None,
                annotations.get(row[0], empty),
                predictions.get(row[0], empty),
            )
            for row in rows
        )
        if schema is not None:
            # Parsed here, in the reading thread when there is one: Arrow parses without the
            # GIL, so this runs beside the writer instead of before it.
            batch.results(schema)
        yield batch


def _read_ahead(batches: Iterator[list[ExportRecord]]) -> Iterator[list[ExportRecord]]:
    """Read the next batches in a thread, on its own database connection and in one read-only
    snapshot, while the caller writes this one: the database's time hides behind the writer's."""
    queue: Queue = Queue(maxsize=READ_AHEAD)
    stop = threading.Event()

    def read() -> None:
        try:
            # One transaction, one snapshot: every batch sees the data as it was at the start,
            # however long the export takes and whatever annotators do meanwhile.
            with transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                for batch in batches:
                    while not stop.is_set():
                        try:
                            queue.put(batch, timeout=0.5)
                            break
                        except Full:
                            continue
                    if stop.is_set():
                        return
            queue.put(_END)
        except BaseException as exc:  # handed to the caller, who raises it
            queue.put(exc)
        finally:
            connection.close()

    reader = threading.Thread(target=read, name="export-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            batch = queue.get()
            if batch is _END:
                return
            if isinstance(batch, BaseException):
                raise batch
            yield batch
    finally:
        stop.set()
        reader.join(timeout=30)


def export_batches(
    *,
    project: Project,
    options: ExportOptions,
    batch_size: int = BATCH_SIZE,
    schema: LabelSchema | None = None,
) -> Iterator[ExportBatch]:
    """Items in id order with their final result (and what the options ask for).

    Only a resolved item has a final result: an item still in review may have a current
    resolution that is a proposal, and that is not a label to train on. Outside a transaction
    the batches are read ahead on a second connection; inside one (a request, a test) the reads
    stay on the caller's connection so they see what it sees. Given the schema, each batch's
    results are parsed into Arrow columns as it is read (see ExportBatch.results).
    """
    batches = _batches_read(project, options, batch_size, schema)
    if connection.in_atomic_block or connection.vendor != "postgresql":
        return batches
    return _read_ahead(batches)


def export_records(
    *, project: Project, only_resolved: bool = True, options: ExportOptions | None = None
) -> Iterator[ExportRecord]:
    """The records one by one (the direct download streams these)."""
    options = options or ExportOptions(only_resolved=only_resolved)
    for batch in export_batches(project=project, options=options):
        yield from batch
