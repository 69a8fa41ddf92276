"""Full-text search of items, filled in the background (PostgreSQL).

An item's words live in projects_itemsearch (ItemSearch), not in an index over the items table:
a GIN index written by every insert made imports several times slower. So items arrive without
search words, and `items_search_index` gives them theirs afterwards: the Celery task
projects.tasks.items_search_index_task runs it once an import finishes, after items are made
over the API, and from the beat sweep for anything a lost message left behind.

Ids come from a sequence and concurrent imports commit in any order, so an item with a lower id
can appear after a higher one was indexed: the indexer never trusts a high-water mark, it walks
the project's whole id range in windows and adds, per window, the items that have no search row
(an anti-join), each window one INSERT ... SELECT. Running it twice, or two at once, is harmless:
windows of one project take turns under an advisory lock and existing rows are left as they are.

Item data does not change after insert anywhere in Quorum; code that changes it must delete the
item's ItemSearch row in the same transaction (`items_search_forget`), and the indexer re-adds it.

The row also keeps the start of the item's `text` for the data manager's sort by text
(labeling.datamanager.query), which an index here serves without costing imports.

On SQLite nothing is indexed: search matches substrings there, sorts read the items' data, and
nothing is ever pending.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Min

from projects.models import Item, ItemSearch

# Ids per window: one statement reads at most this many items (of any project) by primary key.
WINDOW_IDS = 20_000
SEARCH_LOCK_CLASS = 0x5153  # "QS": the advisory locks of search indexing, one per project
_INSERT_ROWS = (
    f"INSERT INTO {ItemSearch._meta.db_table} (item_id, project_id, document, text_key) "
    "SELECT i.id, i.project_id, to_tsvector('simple'::regconfig, i.data), "
    f"left(i.data ->> 'text', {ItemSearch.TEXT_KEY_CHARS}) "
    f"FROM {Item._meta.db_table} i WHERE i.project_id = %s AND {{items}} AND NOT EXISTS ("
    f"SELECT 1 FROM {ItemSearch._meta.db_table} s WHERE s.item_id = i.id) "
    "ORDER BY i.id ON CONFLICT (item_id) DO NOTHING"
)
INSERT_WINDOW = _INSERT_ROWS.format(items="i.id >= %s AND i.id < %s")
INSERT_NAMED = _INSERT_ROWS.format(items="i.external_id = ANY(%s)")
# A call that makes at most this many items indexes them itself (items_search_index_now).
INDEX_NOW_MAX = 50


def search_indexed() -> bool:
    """Whether this database searches through ItemSearch (PostgreSQL) or by substring."""
    return connection.vendor == "postgresql"


def _window_index(project_id: int, low: int, high: int) -> int:
    # An item deleted between the window's read and its insert fails the foreign key check:
    # the window is read again, without it.
    for attempt in range(3):
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(%s, %s)",
                    [SEARCH_LOCK_CLASS, project_id % 2**31],
                )
                cursor.execute(INSERT_WINDOW, [project_id, low, high])
                return max(cursor.rowcount, 0)
        except IntegrityError:
            if attempt == 2:
                raise
    return 0


def items_search_floor(project_id: int) -> int:
    """The lowest id an item of the project inserted from now on can have. The sequence hands
    out ids in order: a caller that reads this before inserting gets all its items at or above
    it (a concurrent insert below it is its own caller's to index, or the sweep's)."""
    if not search_indexed():
        return 0
    highest = Item.objects.filter(project_id=project_id).aggregate(high=Max("id"))["high"]
    return (highest or 0) + 1


def items_search_index(
    project_id: int, *, from_id: int | None = None, window: int = WINDOW_IDS
) -> int:
    """Give every item of the project that has none its search row (only those from `from_id`
    up, when given: what one call created); how many were added. Each window commits on its own
    (call it outside a transaction to let searches see the rows as they come)."""
    if not search_indexed():
        return 0
    bounds = Item.objects.filter(project_id=project_id).aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return 0
    added = 0
    for low in range(max(bounds["low"], from_id or 0), bounds["high"] + 1, window):
        added += _window_index(project_id, low, low + window)
    return added


def items_not_searchable_count(project_id: int) -> int:
    """How many items of the project full-text search does not find yet (0 on SQLite). Every
    search row belongs to an item of the same project, so this is a difference of counts."""
    if not search_indexed():
        return 0
    items = Item.objects.filter(project_id=project_id).count()
    searchable = ItemSearch.objects.filter(project_id=project_id).count()
    return max(items - searchable, 0)


def projects_with_unsearchable_items() -> list[int]:
    """The projects that have items without search rows (what the beat sweep indexes)."""
    if not search_indexed():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT i.project_id FROM (SELECT project_id, count(*) AS n FROM "
            f"{Item._meta.db_table} GROUP BY project_id) i LEFT JOIN (SELECT project_id, "
            f"count(*) AS n FROM {ItemSearch._meta.db_table} GROUP BY project_id) s "
            "ON s.project_id = i.project_id WHERE i.n > coalesce(s.n, 0) ORDER BY i.project_id"
        )
        return [row[0] for row in cursor.fetchall()]


def items_search_forget(item_ids: Iterable[int]) -> None:
    """Drop the search rows of items whose data changed (call it in the transaction that
    changes them): the indexer gives them new ones from their new data."""
    ItemSearch.objects.filter(item_id__in=list(item_ids)).delete()


def items_search_index_now(project_id: int, external_ids: list[str]) -> None:
    """Give these items of the project their search rows now, in the current transaction: for
    a call that makes a few items (at most INDEX_NOW_MAX; a routed prediction event makes one),
    where the task and the floor query of items_search_index_soon cost more than the rows."""
    if not search_indexed() or not external_ids:
        return
    if len(external_ids) > INDEX_NOW_MAX:
        raise ValueError(f"At most {INDEX_NOW_MAX} items are indexed in the call that makes them")
    with connection.cursor() as cursor:
        cursor.execute(INSERT_NAMED, [project_id, external_ids])


def items_search_index_soon(project_id: int, *, from_id: int | None = None) -> None:
    """Index the project's new items (those from `from_id` up, see items_search_floor) once
    the current transaction commits: in a worker, or at once in-process when tasks run eagerly
    (`make run`, tests)."""
    if not search_indexed():
        return
    # projects.tasks imports the importers, which import this module: imported when used.
    from projects.tasks import items_search_index_enqueue

    items_search_index_enqueue(project_id, from_id=from_id)
