"""One-row inserts and upserts, keyed updates and simple reads as plain SQL, for the paths every
request takes, and `rows_fetch` for the bulk reads of analytics and exports.

Building a statement with the ORM (save(), QuerySet.update()) costs more CPU than the database
spends running it: on submitting an answer that was half the request. These helpers write the
same statements from the model's metadata, keep each SQL text once per process, and prepare the
values with the fields' own conversions, so they run alike on PostgreSQL and SQLite.

They send no model signals (the project uses none) and skip full_clean, like QuerySet.update().

Inside `writes_batched()` the writes wait and go to PostgreSQL together, in one round trip, at
the end of the block (a round trip costs about as much CPU as a small statement itself).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.backends.utils import CursorWrapper
from django.db.models import Model

_sql_texts: dict[tuple, str] = {}
_sql_texts_lock = threading.Lock()
# Per thread, as Django's connections are: the writes waiting in a writes_batched() block.
_batch = threading.local()


def _sql_text(key: tuple, build) -> str:
    key = (connection.vendor, *key)  # quoting differs between databases
    text = _sql_texts.get(key)
    if text is None:
        text = build()
        with _sql_texts_lock:
            _sql_texts[key] = text
    return text


@contextmanager
def writes_batched() -> Iterator[None]:
    """Hold back the row_insert and rows_update calls made inside, and send them at the end of
    the block, in order, as one round trip (PostgreSQL; elsewhere each runs at once).

    Inside, rows_update answers None instead of a row count and row_insert sets the pk at the
    end of the block; reads inside do not see the held writes. Errors surface at the end.
    """
    if connection.vendor != "postgresql" or getattr(_batch, "held", None) is not None:
        yield
        return
    _batch.held = []
    _batch.after = []
    try:
        yield
        held, after = _batch.held, _batch.after
    finally:
        _batch.held = None
        _batch.after = None
    if held:
        with connection.cursor() as cursor:
            # psycopg's client-side binding (Django's default) sends several statements at once.
            cursor.execute(
                ";\n".join(sql for sql, _, _ in held), [p for _, ps, _ in held for p in ps]
            )
            for index, (_, _, on_result) in enumerate(held):
                if index:
                    cursor.cursor.nextset()
                if on_result is not None:
                    on_result(cursor)
    for callback in after:
        callback()


def after_held_writes(callback: Callable[[], None]) -> None:
    """Run the callback once the writes held by the enclosing writes_batched() block are sent
    (at once outside such a block): then it reads what they wrote, and their rows' pks."""
    if getattr(_batch, "held", None) is None:
        callback()
    else:
        _batch.after.append(callback)


def _run(sql: str, params: list, on_result: Callable | None = None) -> int | None:
    held = getattr(_batch, "held", None)
    if held is not None:
        held.append((sql, params, on_result))
        return None
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if on_result is not None:
            on_result(cursor)
        return cursor.rowcount


def _column(model: type[Model], name: str):
    field = model._meta.pk if name == "pk" else model._meta.get_field(name)
    return field, connection.ops.quote_name(field.column)


def _insert_parts(instance: Model) -> tuple[str, list]:
    """The head of an INSERT of every column but the pk (up to VALUES (...); the table aliased
    `existing` for an upsert's ON CONFLICT clause), and its values (auto_now fields filled as
    save() would)."""
    model = type(instance)
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]

    def build() -> str:
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        marks = ", ".join("%s" for _ in fields)
        return f"INSERT INTO {model._meta.db_table} AS existing ({columns}) VALUES ({marks})"

    head = _sql_text(("insert", model), build)
    return head, [f.get_db_prep_save(f.pre_save(instance, add=True), connection) for f in fields]


def row_insert(instance: Model) -> Model:
    """INSERT the unsaved instance (auto_now fields filled as save() would); set its pk."""
    head, params = _insert_parts(instance)
    pk = connection.ops.quote_name(type(instance)._meta.pk.column)

    def pk_read(cursor) -> None:
        instance.pk = cursor.fetchone()[0]

    _run(f"{head} RETURNING {pk}", params, pk_read)
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def row_upsert(instance: Model, *, conflict: list[str], set: list[str], add: list[str]) -> None:
    """INSERT the unsaved instance; if a row with the same `conflict` columns exists, instead
    set its `set` columns to the instance's values and add the instance's `add` amounts."""
    model = type(instance)
    head, params = _insert_parts(instance)

    def build() -> str:
        target = ", ".join(_column(model, n)[1] for n in conflict)
        changes = [f"{_column(model, n)[1]} = excluded.{_column(model, n)[1]}" for n in set]
        for name in add:
            column = _column(model, name)[1]
            changes.append(f"{column} = existing.{column} + excluded.{column}")
        return f" ON CONFLICT ({target}) DO UPDATE SET {', '.join(changes)}"

    tail = _sql_text(("upsert", model, tuple(conflict), tuple(set), tuple(add)), build)
    _run(head + tail, params)


def rows_update(
    model: type[Model],
    where: dict[str, Any],
    *,
    set: dict[str, Any] | None = None,
    add: dict[str, int] | None = None,
) -> int | None:
    """UPDATE the rows matching `where` (column = value, all of them): `set` columns to values,
    `add` amounts to integer columns. Return the number of rows updated (None when batched)."""
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
    return _run(sql, params)


def rows_select(
    model: type[Model], columns: list[str], where: dict[str, Any], *, order_by: str = "pk"
) -> list[tuple]:
    """SELECT `columns` of the rows matching `where`, in `order_by` order, as tuples of Python
    values (each column converted as the ORM does)."""
    key = ("select", model, tuple(columns), tuple(where), order_by)

    def build() -> str:
        selected = ", ".join(_column(model, n)[1] for n in columns)
        conditions = " AND ".join(f"{_column(model, n)[1]} = %s" for n in where)
        order = _column(model, order_by)[1]
        return f"SELECT {selected} FROM {model._meta.db_table} WHERE {conditions} ORDER BY {order}"

    sql = _sql_text(key, build)
    params = [_column(model, n)[0].get_db_prep_value(v, connection) for n, v in where.items()]
    converters = _converters(model, tuple(columns))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    if not converters:
        return rows
    return [_converted(row, converters) for row in rows]


def as_health_check(read: Callable[[], Any]) -> Any:
    """Run `read`, a request's first query, so that it stands in for the check CONN_HEALTH_CHECKS
    makes of a kept connection (a SELECT 1 of its own round trip): should the server have dropped
    the connection, the read fails, and runs again on a new one."""
    database = connections[DEFAULT_DB_ALIAS]  # the proxy `connection` looks it up per attribute
    if (
        database.connection is None
        or not database.health_check_enabled
        or database.health_check_done
        or database.in_atomic_block
    ):
        return read()
    database.health_check_done = True
    try:
        return read()
    except (OperationalError, InterfaceError):
        database.close()
    return read()


def model_columns(model: type[Model], alias: str) -> str:
    """The model's columns as a SELECT list (its table aliased `alias`), in the order
    model_row_read takes them."""

    def build() -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{alias}.{quote(f.column)}" for f in model._meta.concrete_fields)

    return _sql_text(("columns", model, alias), build)


_converter_lists: dict[tuple, list] = {}


def _converters(model: type[Model], names: tuple[str, ...]) -> list[tuple[int, list, Any]]:
    """The conversions of each named column (names or "pk") as the ORM applies them: the
    backend's, then the field's; (index, converters, column) for the columns that have any."""
    key = (connection.vendor, model, names)
    found = _converter_lists.get(key)
    if found is None:
        found = []
        for index, name in enumerate(names):
            column = _column(model, name)[0].get_col(model._meta.db_table)
            convert = connection.ops.get_db_converters(column) + column.get_db_converters(
                connection
            )
            if convert:
                found.append((index, convert, column))
        _converter_lists[key] = found
    return found


def _converted(row, converters: list[tuple[int, list, Any]]) -> tuple:
    values = list(row)
    for index, convert, column in converters:
        value = values[index]
        for converter in convert:
            value = converter(value, column, connection)
        values[index] = value
    return tuple(values)


def prepared_cursor():
    """A cursor whose statements PostgreSQL keeps parsed and planned for the connection's life
    (settings: DATABASE_PREPARED_STATEMENTS), for the few fixed statements every hot call sends;
    elsewhere Django's cursor. Its parameters are bound by the server: one statement per call,
    each parameter a value (no SQL pieces). With Django's query log on (DEBUG, a test counting
    queries) the statement goes as any other: a prepared one leaves the log no text."""
    database = connections[DEFAULT_DB_ALIAS]
    if database.vendor != "postgresql" or database.queries_logged:
        return database.cursor()
    binding_cursor, timestamptz_loader, tz_loader_register = _server_binding()
    database.close_if_health_check_failed()
    database.ensure_connection()
    with database.wrap_database_errors:
        cursor = binding_cursor(database.connection)
    # As Django's own cursors: aware datetimes in the connection's time zone.
    if database.timezone != timestamptz_loader(database.connection).timezone:
        tz_loader_register(database.timezone, cursor)
    return CursorWrapper(cursor, database)


@functools.cache
def _server_binding():
    """PostgreSQL's pieces of prepared_cursor, imported once (psycopg only where it is used)."""
    from django.db.backends.postgresql.base import TIMESTAMPTZ_OID, ServerBindingCursor
    from django.db.backends.postgresql.psycopg_any import register_tzloader
    from psycopg.pq import Format

    def timestamptz_loader(raw_connection):
        return raw_connection.adapters.get_loader(TIMESTAMPTZ_OID, Format.TEXT)

    return ServerBindingCursor, timestamptz_loader, register_tzloader


def model_row_read(model: type[Model], sql: str, params: list) -> tuple[Model, tuple] | None:
    """The first row of `sql` (a prepared statement, see prepared_cursor), which selects
    model_columns(model, ...) and then any other columns: the model instance those columns
    make, and the others; None for no row.

    What Model.objects.raw() does for one row, without the queryset machinery that costs the
    hot paths several times the query itself."""
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    fields = model._meta.concrete_fields
    count = len(fields)
    values = _converted(row[:count], _converters(model, tuple(f.name for f in fields)))
    return model.from_db(DEFAULT_DB_ALIAS, None, values), row[count:]


def column_in(column: str, values: list) -> tuple[str, list]:
    """SQL for `column` among the values, with its parameters: one array parameter on
    PostgreSQL (thousands of IN placeholders cost the client more than the statement runs), IN
    elsewhere."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)", [list(values)]
    return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)


def rows_fetch(queryset) -> list[tuple]:
    """The queryset's rows as plain tuples in one fetch: values_list's SQL without Django's
    per-row iteration, which costs more than the rows themselves at analytics and export volume
    (for columns that need no converters)."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- COPY (PostgreSQL): bulk loads of items and monitoring events --------------------------------

UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE


def copy_escape(text: str) -> str:
    """A value in COPY's text format."""
    # Nearly every id and label needs no escaping: one scan tells.
    if text.isprintable() and "\\" not in text:
        return text
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def copy_unless_taken(copy_sql: str, text: str) -> bool:
    """COPY the text (COPY's text format) in with `copy_sql`, inside a savepoint. False, with
    nothing written, when a row hits a unique constraint (a key stored before, or by a
    transaction committing now): the caller then takes the slower path that skips those."""
    try:
        with (
            transaction.atomic(),
            connection.wrap_database_errors,
            connection.cursor() as cursor,
            cursor.cursor.copy(copy_sql) as copy,
        ):
            copy.write(text)
    except IntegrityError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != UNIQUE_VIOLATION:
            raise
        return False
    return True
