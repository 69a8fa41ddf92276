"""Model predictions for items: stored in bulk, validated like annotations.

A bulk call is all or nothing: every row is checked (item found in the project, result valid for
the label schema, score a number) and if any row is bad nothing is stored and every bad row is
reported by its 1-based position (`line`), with the control named for a bad result. A partial
store would leave a model's predictions half in, and a re-send would then duplicate the other
half; all-or-nothing makes a corrected re-send exact.

Each item keeps the score of its newest prediction (Item.prediction_score), which the queue's
uncertainty ordering reads from an index (lowest first).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection, transaction
from django.utils import timezone

from projects.label_schema import LabelSchema, ResultError
from projects.models import Item, Prediction, Project

BATCH_SIZE = 2000
ITEM_TABLE = Item._meta.db_table
_SCORES_SET = f"""locked AS (SELECT id FROM {ITEM_TABLE} WHERE id = ANY(%s) ORDER BY id FOR UPDATE)
UPDATE {ITEM_TABLE} AS item SET prediction_score = v.score, prediction_model_version = v.version
FROM unnest(%s::bigint[], %s::float8[], %s::text[]) AS v(id, score, version)
WHERE item.id = v.id AND item.id IN (SELECT id FROM locked)
"""
PREDICTION_SCORES_SQL = "WITH " + _SCORES_SET
# The predictions (in their order: ids follow it, and the newest of an item is its last) and
# their items' newest scores in one statement.
PREDICTIONS_STORE_SQL = f"""WITH made AS (
    INSERT INTO {Prediction._meta.db_table} (item_id, model_version, result, score, created_at)
    SELECT (p->>0)::bigint, p->>1, p->2, (p->>3)::float8, %s
    FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS b(p, seq) ORDER BY b.seq
), {_SCORES_SET}"""
MAX_MODEL_VERSION = Prediction._meta.get_field("model_version").max_length


class PredictionsRefused(ValueError):
    """Some rows are bad; `errors` lists them: [{"line": n, <field>: message or {control: ...}}]."""

    def __init__(self, errors: list[dict[str, Any]]):
        self.errors = errors
        super().__init__(f"{len(errors)} bad prediction row(s)")


@dataclass(slots=True)
class _Row:
    line: int
    item_ref: tuple[str, Any]  # ("id", 12) or ("external_id", "a-1")
    result: dict
    model_version: str
    score: float | None


def _row_parse(line: int, raw: Any) -> tuple[_Row | None, dict | None]:
    if not isinstance(raw, dict):
        return None, {"line": line, "detail": "Each prediction is a JSON object."}
    errors: dict[str, Any] = {}
    if raw.get("item") is not None:
        item_ref = raw["item"]
        if isinstance(item_ref, bool) or not isinstance(item_ref, int):
            errors["item"] = "An item id is an integer."
        item_ref = ("id", item_ref)
    elif raw.get("external_id") not in (None, ""):
        item_ref = ("external_id", str(raw["external_id"]))
    else:
        errors["item"] = "Name the item by `item` (its id) or `external_id`."
        item_ref = ("id", None)
    model_version = raw.get("model_version", "")
    if not isinstance(model_version, str) or len(model_version) > MAX_MODEL_VERSION:
        errors["model_version"] = f"A string of at most {MAX_MODEL_VERSION} characters."
    score = raw.get("score")
    if score is not None and (
        isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score)
    ):
        errors["score"] = "A finite number, or null."
    if "result" not in raw:
        errors["result"] = {"result": "This field is required."}
    if errors:
        return None, {"line": line, **errors}
    row = _Row(
        line=line,
        item_ref=item_ref,
        result=raw["result"],
        model_version=model_version,
        score=None if score is None else float(score),
    )
    return row, None


def _items_by_ref(project: Project, rows: list[_Row]) -> dict[tuple[str, Any], Item]:
    fields = ("id", "external_id", "data", "width", "height")
    ids = {row.item_ref[1] for row in rows if row.item_ref[0] == "id"}
    external_ids = {row.item_ref[1] for row in rows if row.item_ref[0] == "external_id"}
    found: dict[tuple[str, Any], Item] = {}
    if ids:
        for item in Item.objects.filter(project=project, pk__in=ids).only(*fields):
            found["id", item.pk] = item
    if external_ids:
        for item in Item.objects.filter(project=project, external_id__in=external_ids).only(
            *fields
        ):
            found["external_id", item.external_id] = item
    return found


def predictions_check(*, project: Project, raw_rows: Sequence[Any]) -> list[tuple[Item, _Row]]:
    """Every row with its item, or PredictionsRefused listing every bad row."""
    schema = LabelSchema(project.label_schema)
    errors: list[dict[str, Any]] = []
    rows: list[_Row] = []
    for line, raw in enumerate(raw_rows, start=1):
        row, error = _row_parse(line, raw)
        if error:
            errors.append(error)
        else:
            rows.append(row)
    items = _items_by_ref(project, rows)
    checked: list[tuple[Item, _Row]] = []
    for row in rows:
        item = items.get(row.item_ref)
        if item is None:
            errors.append({"line": row.line, "item": "No such item in this project."})
            continue
        try:
            schema.validate(row.result, data=item.data, width=item.width, height=item.height)
        except ResultError as exc:
            errors.append({"line": row.line, "result": exc.errors})
            continue
        checked.append((item, row))
    if errors:
        raise PredictionsRefused(sorted(errors, key=lambda e: e["line"]))
    return checked


def predictions_create(*, project: Project, raw_rows: Sequence[Any]) -> int:
    """Store the predictions (all or none) and refresh their items' scores; return the count."""
    checked = predictions_check(project=project, raw_rows=raw_rows)
    with transaction.atomic():  # a later row for the same item is the newer one
        predictions_store(
            [
                Prediction(
                    item_id=item.pk,
                    model_version=row.model_version,
                    result=row.result,
                    score=row.score,
                )
                for item, row in checked
            ]
        )
    return len(checked)


def predictions_store(predictions: Sequence[Prediction]) -> None:
    """Insert the predictions (unsaved; a later one of an item is its newer) and set each
    item's newest score and model version; inside a transaction. A score that is not a finite
    number is stored as none. One statement on PostgreSQL (the insert and the update would cost
    a round trip each)."""
    if not predictions:
        return
    for p in predictions:  # NaN or infinity (a model server's JSON may hold them): no score
        if p.score is not None and not math.isfinite(p.score):
            p.score = None
    newest = {p.item_id: p for p in predictions}
    if connection.vendor != "postgresql":
        Prediction.objects.bulk_create(predictions, batch_size=BATCH_SIZE)
        item_prediction_scores_set(
            scores={pk: p.score for pk, p in newest.items()},
            versions={pk: p.model_version for pk, p in newest.items()},
        )
        return
    rows = orjson.dumps([[p.item_id, p.model_version, p.result, p.score] for p in predictions])
    ids = sorted(newest)
    with connection.cursor() as cursor:
        cursor.execute(
            PREDICTIONS_STORE_SQL,
            [
                timezone.now(),
                rows.decode(),
                ids,
                ids,
                [newest[pk].score for pk in ids],
                [newest[pk].model_version for pk in ids],
            ],
        )


def item_prediction_scores_set(
    *, scores: dict[int, float | None], versions: dict[int, str] | None = None
) -> None:
    """Set Item.prediction_score and prediction_model_version (the newest prediction's); items
    locked in id order so concurrent calls cannot deadlock."""
    versions = versions or {}
    if not scores:
        return
    if connection.vendor == "postgresql":
        # One statement: the ORM's bulk_update builds a CASE per row and column, which cost
        # more than the rest of an import's batch of routed events.
        ids = sorted(scores)
        with connection.cursor() as cursor:
            cursor.execute(
                PREDICTION_SCORES_SQL,
                [ids, ids, [scores[pk] for pk in ids], [versions.get(pk, "") for pk in ids]],
            )
        return
    items = [
        Item(pk=pk, prediction_score=score, prediction_model_version=versions.get(pk, ""))
        for pk, score in sorted(scores.items())
    ]
    Item.objects.bulk_update(
        items, ["prediction_score", "prediction_model_version"], batch_size=BATCH_SIZE // 2
    )
