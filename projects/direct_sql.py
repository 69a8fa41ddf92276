"""One-row inserts and keyed updates as plain SQL, for the paths every request takes.

Building a statement with the ORM (save(), QuerySet.update()) costs more CPU than the database
spends running it: on submitting an answer that was half the request. These helpers write the
same statements from the model's metadata, keep each SQL text once per process, and prepare the
values with the fields' own conversions, so they run alike on PostgreSQL and SQLite.

They send no model signals (the project uses none) and skip full_clean, like QuerySet.update().
"""

from __future__ import annotations

import threading
from typing import Any

from django.db import connection
from django.db.models import Model

_sql_texts: dict[tuple, str] = {}
_sql_texts_lock = threading.Lock()


def _sql_text(key: tuple, build) -> str:
    key = (connection.vendor, *key)  # quoting differs between databases
    text = _sql_texts.get(key)
    if text is None:
        text = build()
        with _sql_texts_lock:
            _sql_texts[key] = text
    return text


def _column(model: type[Model], name: str):
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    return field, connection.ops.quote_name(field.column)


def row_insert(instance: Model) -> Model:
    """INSERT the unsaved instance (auto_now fields filled as save() would); set its pk."""
    model = type(instance)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]

    def build() -> str:
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        marks = ", ".join("%s" for _ in fields)
        pk = connection.ops.quote_name(model._meta.pk.column)
        return f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({marks}) RETURNING {pk}"

    sql = _sql_text(("insert", model), build)
    params = [f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        instance.pk = cursor.fetchone()[0]
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def rows_update(
    model: type[Model],
    where: dict[str, Any],
    *,
    set: dict[str, Any] | None = None,  # noqa: A002 - reads as SQL
    add: dict[str, int] | None = None,
) -> int:
    """UPDATE the rows matching `where` (column = value, all of them): `set` columns to values,
    `add` amounts to integer columns. Return the number of rows updated."""
    set, add = set or {}, add or {}
    key = ("update", model, tuple(where), tuple(set), tuple(add))

    def build() -> str:
        assignments = [f"{_column(model, n)[1]} = %s" for n in set]
        for name in add:
            column = _column(model, name)[1]
            assignments.append(f"{column} = {column} + %s")
        conditions = " AND ".join(f"{_column(model, n)[1]} = %s" for n in where)
        return f"UPDATE {model._meta.db_table} SET {', '.join(assignments)} WHERE {conditions}"

    sql = _sql_text(key, build)
    params = [_column(model, n)[0].get_db_prep_save(v, connection) for n, v in set.items()]
    params += list(add.values())
    params += [_column(model, n)[0].get_db_prep_value(v, connection) for n, v in where.items()]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def rows_select(
    model: type[Model], columns: list[str], where: dict[str, Any], *, order_by: str = "pk"
) -> list[tuple]:
    """SELECT `columns` of the rows matching `where`, in `order_by` order, as tuples of Python
    values (each field's from_db_value applied, as the ORM does)."""
    key = ("select", model, tuple(columns), tuple(where), order_by)

    def build() -> str:
        selected = ", ".join(_column(model, n)[1] for n in columns)
        conditions = " AND ".join(f"{_column(model, n)[1]} = %s" for n in where)
        order = _column(model, order_by)[1]
        return f"SELECT {selected} FROM {model._meta.db_table} WHERE {conditions} ORDER BY {order}"

    sql = _sql_text(key, build)
    params = [_column(model, n)[0].get_db_prep_value(v, connection) for n, v in where.items()]
    converters = [
        (i, field.from_db_value)
        for i, field in enumerate(_column(model, n)[0] for n in columns)
        if hasattr(field, "from_db_value")
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not converters:
        return rows
    converted = []
    for row in rows:
        row = list(row)
        for i, convert in converters:
            row[i] = convert(row[i], None, connection)
        converted.append(tuple(row))
    return converted
