"""Inserting a batch of new items fast, skipping external ids the project already has.

PostgreSQL: a few rows (FEW_ROWS) go in by one INSERT of a JSON parameter. A larger batch of
external ids all new to the project (the common first import) is copied straight into the item
table, inside a savepoint; should any id exist after all, the savepoint rolls back and the batch
takes the general path: COPY into a temporary staging table, then one INSERT ... SELECT ... ON
CONFLICT DO NOTHING (COPY is the fastest way in; the conflict clause makes a batch safe to
re-run). The direct copy spares PostgreSQL the stage and the conflict checks of that INSERT,
about a sixth of its work per row.
SQLite: one executemany of INSERT OR IGNORE. Elsewhere: the ORM. Callers run inside a
transaction; the counts come from the database, so concurrent imports never double count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import Enum
from itertools import repeat
from typing import Any, Protocol

import orjson
from django.db import connection, transaction
from django.utils import timezone

from projects.direct_sql import copy_escape, copy_unless_taken
from projects.models import Item, Project

STAGE_TABLE = "quorum_item_stage"
# A batch of at most this many rows goes in by one INSERT (no stage, no COPY).
FEW_ROWS = 50
ITEM_TABLE = Item._meta.db_table
PROJECT_TABLE = Project._meta.db_table
# The columns an import writes from each row; every other column gets its model default.
ROW_COLUMNS = ("project_id", "external_id", "data", "priority", "gold", "width", "height")


class NewItem(Protocol):
    external_id: str
    data: dict[str, Any]
    priority: int
    gold: dict | None
    width: int | None
    height: int | None


def _json_text(value: Any) -> str:
    # orjson escapes control characters inside strings, so only backslashes need escaping.
    return orjson.dumps(value).decode().replace("\\", "\\\\")


def _copy_lines(rows: Sequence[NewItem], leads: Iterable[str], tail: str = "") -> str:
    """The rows in COPY's text format: each row's lead column (the stage's sequence number, or
    the project id), its values of the other ROW_COLUMNS, then `tail` (more columns, each led by
    a tab)."""
    null = "\\N"
    return "".join(
        f"{lead}\t{copy_escape(row.external_id)}\t{_json_text(row.data)}\t{row.priority}\t"
        f"{null if row.gold is None else _json_text(row.gold)}\t"
        f"{null if row.width is None else row.width}\t"
        f"{null if row.height is None else row.height}{tail}\n"
        for lead, row in zip(leads, rows, strict=False)
    )


def _default_columns(queue_ordering: str) -> tuple[list[str], list[Any]]:
    """The other columns of the item table and their values for a new item of a project with
    that queue ordering: the model's defaults otherwise, ready for the database (read from the
    model each time, so a field added to Item needs no change here)."""
    names, values = [], []
    now = timezone.now()
    for field in Item._meta.concrete_fields:
        if field.primary_key or field.column in ROW_COLUMNS:
            continue
        if field.name == "queue_ordering":
            value = queue_ordering
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            value = now
        elif field.has_default():
            value = field.get_default()
        elif field.null:
            value = None
        else:
            raise RuntimeError(f"Item.{field.name} has no default: imports cannot fill it")
        if isinstance(value, Enum):
            value = value.value  # a choices member: the database wants its value, not its name
        names.append(field.column)
        values.append(field.get_db_prep_save(value, connection))
    return names, values


def _copy_text(value: Any) -> str | None:
    """A column default in COPY's text format, or None for a value this does not know how to
    write (the batch then takes the staging path, where the driver adapts it)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return copy_escape(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return None


def _copy_direct(project_id: int, rows: Sequence[NewItem], names, values) -> bool:
    """Copy the rows straight into the item table. False, with nothing written, when one of
    their external ids is already taken (by the project or by a transaction committing now)."""
    defaults = [_copy_text(value) for value in values]
    if None in defaults:
        return False
    text = _copy_lines(rows, repeat(str(project_id)), "".join(f"\t{d}" for d in defaults))
    columns = ", ".join(ROW_COLUMNS + tuple(names))
    return copy_unless_taken(f"COPY {ITEM_TABLE} ({columns}) FROM STDIN", text)


def _ids_distinct(rows: Sequence[NewItem]) -> bool:
    return len({row.external_id for row in rows}) == len(rows)


def _insert_postgresql(project_id: int, rows: Sequence[NewItem], want_ids: bool, defaults):
    names, values = defaults
    with connection.cursor() as cursor:
        if len(rows) <= FEW_ROWS:
            return _insert_postgresql_few(cursor, project_id, rows, want_ids, names, values)
        # The ids of the created rows come back only from the staging path's RETURNING.
        if not want_ids and _ids_distinct(rows) and _copy_direct(project_id, rows, names, values):
            return len(rows), {}
        return _insert_postgresql_staged(cursor, project_id, rows, want_ids, names, values)


def _inserted(cursor, want_ids: bool) -> tuple[int, dict[str, int]]:
    """What an INSERT ... ON CONFLICT DO NOTHING (RETURNING external_id, id if want_ids) made."""
    if want_ids:
        created_ids = dict(cursor.fetchall())
        return len(created_ids), created_ids
    return cursor.rowcount, {}


def _insert_postgresql_few(
    cursor, project_id: int, rows: Sequence[NewItem], want_ids: bool, names, values
):
    """A few rows (an item made over the API, a routed prediction event): one statement, the
    rows as one JSON parameter, where the stage would cost two more round trips."""
    batch = orjson.dumps(
        [[r.external_id, r.data, r.priority, r.gold, r.width, r.height] for r in rows]
    ).decode()
    cursor.execute(
        f"INSERT INTO {ITEM_TABLE} ({', '.join(ROW_COLUMNS + tuple(names))}) "
        "SELECT %s, r->>0, r->1, (r->>2)::integer, NULLIF(r->3, 'null'::jsonb), "
        "(r->>4)::integer, (r->>5)::integer"
        + "".join(", %s" for _ in names)
        + " FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS b(r, seq) ORDER BY b.seq"
        " ON CONFLICT (project_id, external_id) DO NOTHING"
        + (" RETURNING external_id, id" if want_ids else ""),
        [project_id, *values, batch],
    )
    return _inserted(cursor, want_ids)


def _insert_postgresql_staged(
    cursor, project_id: int, rows: Sequence[NewItem], want_ids: bool, names, values
):
    cursor.execute(
        f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE_TABLE} (seq integer, external_id text, "
        "data jsonb, priority integer, gold jsonb, width integer, height integer) "
        "ON COMMIT DELETE ROWS"
    )
    # ON COMMIT DELETE ROWS empties the stage after each batch (a rolled-back one too).
    with cursor.cursor.copy(f"COPY {STAGE_TABLE} FROM STDIN") as copy:
        copy.write(_copy_lines(rows, map(str, range(len(rows)))))
    cursor.execute(
        f"INSERT INTO {ITEM_TABLE} ({', '.join(ROW_COLUMNS + tuple(names))}) "
        "SELECT %s, external_id, data, priority, gold, width, height"
        + "".join(", %s" for _ in names)
        + f" FROM {STAGE_TABLE} ORDER BY seq ON CONFLICT (project_id, external_id) DO NOTHING"
        + (" RETURNING external_id, id" if want_ids else ""),
        [project_id, *values],
    )
    return _inserted(cursor, want_ids)


def _insert_sqlite(project_id: int, rows: Sequence[NewItem], want_ids: bool, defaults):
    external_ids = [row.external_id for row in rows]
    existing: set[str] = set()
    if want_ids:
        existing = set(
            Item.objects.filter(project_id=project_id, external_id__in=external_ids).values_list(
                "external_id", flat=True
            )
        )
    names, values = defaults
    dumps = orjson.dumps
    params = [
        (
            project_id,
            row.external_id,
            dumps(row.data).decode(),
            row.priority,
            None if row.gold is None else dumps(row.gold).decode(),
            row.width,
            row.height,
            *values,
        )
        for row in rows
    ]
    columns = ROW_COLUMNS + tuple(names)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT OR IGNORE INTO {ITEM_TABLE} ({', '.join(columns)}) "
            f"VALUES ({', '.join('%s' for _ in columns)})",
            params,
        )
        created = cursor.rowcount
    if not want_ids:
        return created, {}
    new_ids = [e for e in dict.fromkeys(external_ids) if e not in existing]
    created_ids = dict(
        Item.objects.filter(project_id=project_id, external_id__in=new_ids).values_list(
            "external_id", "id"
        )
    )
    return created, created_ids


def _insert_orm(project_id: int, rows: Sequence[NewItem], want_ids: bool, queue_ordering: str):
    unique = {row.external_id: row for row in reversed(rows)}
    existing = set(
        Item.objects.filter(project_id=project_id, external_id__in=list(unique)).values_list(
            "external_id", flat=True
        )
    )
    new = [
        Item(
            project_id=project_id,
            external_id=row.external_id,
            data=row.data,
            priority=row.priority,
            gold=row.gold,
            width=row.width,
            height=row.height,
            queue_ordering=queue_ordering,
        )
        for external_id, row in reversed(unique.items())
        if external_id not in existing
    ]
    Item.objects.bulk_create(new, ignore_conflicts=True)
    created_ids = {}
    if want_ids:
        created_ids = dict(
            Item.objects.filter(
                project_id=project_id, external_id__in=[i.external_id for i in new]
            ).values_list("external_id", "id")
        )
    return len(new), created_ids


def items_insert_new(
    *, project_id: int, rows: Sequence[NewItem], want_ids: bool = False
) -> tuple[int, dict[str, int]]:
    """Insert the rows whose external id is new to the project (the first of duplicates in
    the batch wins). Return (created count, {external_id: id} of the created if want_ids)."""
    if not rows:
        return 0, {}
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("items_insert_new runs inside a transaction")
    queue_ordering = project_lock_for_items(project_id)
    if connection.vendor == "postgresql":
        return _insert_postgresql(project_id, rows, want_ids, _default_columns(queue_ordering))
    if connection.vendor == "sqlite":
        return _insert_sqlite(project_id, rows, want_ids, _default_columns(queue_ordering))
    return _insert_orm(project_id, rows, want_ids, queue_ordering)


def project_lock_for_items(project_id: int) -> str:
    """Lock the project row for the transaction as its items' foreign key would (Item.project
    has no database constraint), and answer its queue ordering, the one new items are filed
    under. A shared lock: the project's deletion and any change to it, its ordering included,
    wait for the transaction, so no item lands orphaned or filed under a replaced ordering.
    Raises Project.DoesNotExist when the project is gone."""
    # FOR SHARE, not FOR UPDATE: imports of the project's chunks run side by side.
    lock = " FOR SHARE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT ordering FROM {PROJECT_TABLE} WHERE id = %s{lock}", [project_id])
        found = cursor.fetchone()
    if found is None:
        raise Project.DoesNotExist(f"project {project_id} does not exist")
    return found[0]
