"""The annotator queue: who labels what next.

Slots. Each item wants `overlap` (+ `extra_slots` added by review) annotations from distinct
annotators. A slot is taken by an active Assignment or filled by an Annotation; the item's
counters (annotation_count, assigned_count) count them so the queue never counts rows.

Locking. Candidate items are read with SELECT ... FOR UPDATE SKIP LOCKED: two annotators asking
at the same moment lock different rows, and the slot check is re-evaluated on the locked row
(PostgreSQL rechecks the WHERE clause on the newest version), so an item never gets more
assignments than free slots. SQLite serialises writers to the same effect. Locks are always
taken item first, then assignment, then the annotator's stats row, except in assignment_next,
which holds the stats row (one annotator's requests run one at a time) and takes item locks
only with SKIP LOCKED, so it never waits on an item: no lock cycle, no deadlock.

Speed. The next item comes from partial indexes (Item.Meta.indexes), never from a scan of the
project: first "started" items (someone holds or answered them: few, because everyone finishes
those first), then "fresh" ones (nobody touched them) in the project's ordering, each read with
ORDER BY ... LIMIT 1 along its index. What the annotator already did is excluded by an anti-join
on the unique (item, annotator) indexes. The cost grows only with rows to pass over: items
locked by others asking at the same moment, this annotator's own skips, and the started items
this annotator already answered. The last stays small while at least `overlap` annotators work
(started items are finished quickly); with fewer, half-done items pile up and each request reads
them all (thousands: milliseconds).

Gold. Gold items (Item.gold set) are outside the overlap: every annotator may get each one once.
The stats row counts what the annotator was served, and a gold item is served whenever that
keeps the annotator's gold share at or under Project.gold_share.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Greatest
from django.utils import timezone

from labeling.models import Annotation, AnnotatorStats, Assignment
from projects.direct_sql import row_upsert, rows_update, writes_batched
from projects.items.order import ItemSequence, ItemShuffle, annotator_shuffle_offset
from projects.models import ITEM_STARTED, Item, Prediction, Project, item_fresh

# Expired assignments released per call (the rest go on the next call).
EXPIRE_BATCH = 200
# Each process sweeps a project's expired assignments at most this often (a slot comes back at
# most this much later; an annotator's own expired assignment is also released on submit).
EXPIRE_EVERY = timedelta(seconds=2)
_last_expiry: dict[int, datetime] = {}
STATEMENT_CACHE_SIZE = 4096
_statement_cache: OrderedDict[tuple, list[tuple[str, tuple]]] = OrderedDict()
_statement_cache_lock = threading.Lock()
# Other annotators' transactions lock candidate rows for a few milliseconds only.
LOCKED_RETRIES = 5
LOCKED_RETRY_PAUSE = 0.005  # seconds, times the attempt number


class QueueError(Exception):
    """The request cannot be served (e.g. the assignment is no longer active)."""


class NotYourAssignment(QueueError):
    """The assignment belongs to another annotator."""


@dataclass(frozen=True)
class NextItem:
    assignment: Assignment
    item: Item
    prediction: Prediction | None = None


def _now() -> datetime:
    return timezone.now()


def _not_touched_by(annotator) -> Q:
    """Items the annotator neither holds, skipped, submitted nor answered (expired ones return)."""
    touched = Assignment.objects.filter(item=OuterRef("pk"), annotator=annotator).exclude(
        state=Assignment.State.EXPIRED
    )
    answered = Annotation.objects.filter(item=OuterRef("pk"), annotator=annotator)
    return ~Q(Exists(touched)) & ~Q(Exists(answered))


def _locking(queryset: QuerySet[Item]) -> QuerySet[Item]:
    return queryset.select_for_update(skip_locked=True, of=("self",))


def _ordering_keys(ordering: str) -> list:
    if ordering == Project.Ordering.PRIORITY:
        return ["-priority", "id"]
    if ordering == Project.Ordering.UNCERTAINTY:
        return [F("prediction_score").asc(nulls_last=True), "id"]
    if ordering == Project.Ordering.RANDOM:
        return [ItemShuffle("id"), "id"]
    return [ItemSequence("id")]


def started_candidates(project: Project, annotator) -> QuerySet[Item]:
    """Items others already started that still have a free slot for the annotator, fullest
    first (read from the small "started" partial index)."""
    # The overlap is a constant here, so the slot check needs no join to the project.
    candidates = Item.objects.filter(ITEM_STARTED, project=project).filter(
        annotation_count__lt=F("extra_slots") + project.overlap - F("assigned_count")
    )
    return candidates.filter(_not_touched_by(annotator)).order_by(
        F("annotation_count").desc(), *_ordering_keys(project.ordering)
    )


def fresh_candidates(project: Project, annotator) -> list[QuerySet[Item]]:
    """Untouched items in the project's ordering, each queryset read along a partial index;
    the first row of the first non-empty one is the next item. Items still filed under an
    earlier ordering (projects.items.filing is refiling them) come after, in that ordering."""
    fresh = Item.objects.filter(project=project).filter(_not_touched_by(annotator))
    filed = fresh.filter(item_fresh(project.ordering))
    if project.ordering != Project.Ordering.RANDOM:
        own = [filed.order_by(*_ordering_keys(project.ordering))]
    else:
        # Random: the annotator reads the shuffled order from their own offset, then wraps
        # around; both halves are plain index range scans.
        offset = annotator_shuffle_offset(annotator.pk)
        shuffled = filed.alias(shuffle=ItemShuffle("id"))
        own = [
            shuffled.filter(shuffle__gte=offset).order_by("shuffle", "id"),
            shuffled.filter(shuffle__lt=offset).order_by("shuffle", "id"),
        ]
    refiling = [
        fresh.filter(item_fresh(ordering)).order_by(*_ordering_keys(ordering))
        for ordering in Project.Ordering.values
        if ordering != project.ordering
    ]
    return own + refiling


def _candidate_statements(project: Project, annotator) -> list[tuple[str, tuple]]:
    """The SQL of the next-item queries for this annotator, compiled once per process.

    Compiling these querysets costs more CPU than running them; their text depends only on
    what the key holds, so it is kept (least recently used out first).
    """
    key = (project.pk, project.ordering, project.overlap, annotator.pk)
    with _statement_cache_lock:  # threaded workers share the cache
        statements = _statement_cache.get(key)
        if statements is not None:
            _statement_cache.move_to_end(key)
            return statements
    querysets = [started_candidates(project, annotator), *fresh_candidates(project, annotator)]
    statements = [_locking(queryset)[:1].query.sql_with_params() for queryset in querysets]
    with _statement_cache_lock:
        _statement_cache[key] = statements
        if len(_statement_cache) > STATEMENT_CACHE_SIZE:
            _statement_cache.popitem(last=False)
    return statements


def _first_locked(project: Project, annotator) -> Item | None:
    for sql, params in _candidate_statements(project, annotator):
        item = next(iter(Item.objects.raw(sql, params)), None)
        if item is not None:
            return item
    return None


def _gold_candidate(project: Project, annotator) -> Item | None:
    gold = Item.objects.filter(project=project, gold__isnull=False).filter(
        _not_touched_by(annotator)
    )
    return _locking(gold.order_by(*_ordering_keys(project.ordering))).first()


def gold_due(*, project: Project, stats: AnnotatorStats) -> bool:
    """Whether serving a gold item now keeps the annotator's gold share within the project's."""
    if project.gold_share <= 0:
        return False
    return stats.gold_served + 1 <= project.gold_share * (stats.served + 1) + 1e-9


# The two statements below are written out rather than built with the ORM: building them cost
# more CPU than running them, on the path every request for an item takes. Both are plain SQL
# that PostgreSQL and SQLite (3.35+) run alike.
ASSIGNMENT_TABLE = Assignment._meta.db_table
STATS_TABLE = AnnotatorStats._meta.db_table
STATS_LOCK_SQL = (
    f"SELECT st.*, (SELECT s.id FROM {ASSIGNMENT_TABLE} s WHERE s.project_id = %s"
    " AND s.annotator_id = %s AND s.state = %s AND s.expires_at > %s"
    " ORDER BY s.created_at, s.id LIMIT 1) AS held_id"
    f" FROM {STATS_TABLE} st WHERE st.project_id = %s AND st.annotator_id = %s"
)
ASSIGNMENT_OPEN_SQL = (
    f"INSERT INTO {ASSIGNMENT_TABLE} (project_id, item_id, annotator_id, state, is_gold,"
    " skip_reason, created_at, expires_at, finished_at)"
    " VALUES (%s, %s, %s, %s, %s, '', %s, %s, NULL)"
    " ON CONFLICT (item_id, annotator_id) DO UPDATE SET state = excluded.state,"
    " is_gold = excluded.is_gold, skip_reason = '', created_at = excluded.created_at,"
    " expires_at = excluded.expires_at, finished_at = NULL RETURNING id"
)


OVERDUE_SQL = (
    f"SELECT item_id FROM {ASSIGNMENT_TABLE} WHERE project_id = %s AND state = %s"
    " AND expires_at <= %s LIMIT %s"
)


def annotator_stats_lock(*, project: Project, annotator, now: datetime) -> AnnotatorStats:
    """The annotator's stats row, locked until the transaction ends (created on first use).

    In the same round trip, `held_id`: the assignment the annotator holds unexpired, if any.
    """
    sql = STATS_LOCK_SQL + (" FOR UPDATE" if connection.features.has_select_for_update else "")
    when = connection.ops.adapt_datetimefield_value(now)
    params = [project.pk, annotator.pk, Assignment.State.ACTIVE, when, project.pk, annotator.pk]
    stats = next(iter(AnnotatorStats.objects.raw(sql, params)), None)
    if stats is None:
        AnnotatorStats.objects.bulk_create(
            [AnnotatorStats(project=project, annotator=annotator)], ignore_conflicts=True
        )
        stats = next(iter(AnnotatorStats.objects.raw(sql, params)))
    return stats


def annotator_stats_add(*, project_id: int, annotator_id: int, now: datetime, **counts) -> None:
    """Add to the annotator's counters (e.g. annotated=1) and mark them active now; the row is
    made on first use."""
    row_upsert(
        AnnotatorStats(
            project_id=project_id, annotator_id=annotator_id, last_active_at=now, **counts
        ),
        conflict=["project", "annotator"],
        set=["last_active_at"],
        add=list(counts),
    )


def assignments_expire(*, project: Project, now: datetime | None = None) -> int:
    """Return expired slots to the pool; safe to run concurrently (busy items are left for later).

    Locks the items first (SKIP LOCKED), then their assignments, like every other writer.
    """
    now = now or _now()
    when = connection.ops.adapt_datetimefield_value(now)
    # Usually nothing is overdue: that look is one fixed statement (index assignment_expiry).
    with connection.cursor() as cursor:
        cursor.execute(OVERDUE_SQL, [project.pk, Assignment.State.ACTIVE, when, EXPIRE_BATCH])
        item_ids = [item_id for (item_id,) in cursor.fetchall()]
    if not item_ids:
        return 0
    with transaction.atomic(savepoint=False):  # inside assignment_next: its transaction
        overdue = Assignment.objects.filter(
            project=project, state=Assignment.State.ACTIVE, expires_at__lte=now
        )
        locked_items = list(
            Item.objects.select_for_update(skip_locked=True)
            .filter(pk__in=item_ids)
            .values_list("pk", flat=True)
        )
        expired = list(
            overdue.select_for_update()
            .filter(item_id__in=locked_items)
            .values_list("pk", "item_id", "is_gold")
        )
        if not expired:
            return 0
        Assignment.objects.filter(pk__in=[pk for pk, _, _ in expired]).update(
            state=Assignment.State.EXPIRED, finished_at=now
        )
        held_slots: dict[int, int] = {}
        for _, item_id, is_gold in expired:
            if not is_gold:
                held_slots[item_id] = held_slots.get(item_id, 0) + 1
        for item_id, released in held_slots.items():
            Item.objects.filter(pk=item_id, assigned_count__gte=released).update(
                assigned_count=F("assigned_count") - released
            )
    return len(expired)


def _expiry_due(project_id: int, now: datetime) -> bool:
    last = _last_expiry.get(project_id)
    if last is not None and last <= now < last + EXPIRE_EVERY:
        return False
    _last_expiry[project_id] = now
    return True


def prediction_latest(item: Item) -> Prediction | None:
    return Prediction.objects.filter(item=item).order_by("-created_at", "-id").first()


def _assignment_open(
    *, project: Project, annotator, item: Item, is_gold: bool, now: datetime
) -> Assignment:
    """One row per (item, annotator): a new one, or the annotator's expired one made active."""
    assignment = Assignment(
        project=project,
        item=item,
        annotator=annotator,
        state=Assignment.State.ACTIVE,
        is_gold=is_gold,
        skip_reason="",
        created_at=now,
        expires_at=now + timedelta(seconds=project.assignment_timeout),
        finished_at=None,
    )
    adapt = connection.ops.adapt_datetimefield_value
    params = [project.pk, item.pk, annotator.pk, Assignment.State.ACTIVE, is_gold]
    params += [adapt(assignment.created_at), adapt(assignment.expires_at)]
    with connection.cursor() as cursor:
        cursor.execute(ASSIGNMENT_OPEN_SQL, params)
        assignment.pk = cursor.fetchone()[0]
    return assignment


def assignment_next(
    *, project: Project, annotator, now: datetime | None = None, with_prediction: bool = False
) -> NextItem | None:
    """The annotator's next item with its assignment, or None when nothing is left for them.

    An annotator who still holds an unexpired assignment gets that same item back. With
    `with_prediction`, the item's newest prediction comes along (never on gold items: a model's
    answer there would bias the accuracy measured on them).
    """
    now = now or _now()
    with transaction.atomic():
        stats = annotator_stats_lock(project=project, annotator=annotator, now=now)
        held = None
        if stats.held_id is not None:
            held = Assignment.objects.select_related("item").get(pk=stats.held_id)
            rows_update(AnnotatorStats, {"pk": stats.pk}, set={"last_active_at": now})
        else:
            if _expiry_due(project.pk, now):
                assignments_expire(project=project, now=now)
            held = _assignment_take(project=project, annotator=annotator, stats=stats, now=now)
            if held is None:
                return None
    prediction = None
    if with_prediction and not held.is_gold:
        prediction = prediction_latest(held.item)
    return NextItem(assignment=held, item=held.item, prediction=prediction)


def _candidates_exist(project: Project, annotator) -> bool:
    """Whether some item is free for the annotator, locked or not (SKIP LOCKED may hide all)."""
    querysets = [started_candidates(project, annotator), *fresh_candidates(project, annotator)]
    return any(queryset.exists() for queryset in querysets)


def _candidate_take(project: Project, annotator) -> Item | None:
    """The next non-gold item, locked. When every free item is locked by annotators served at
    this very moment, wait a little and look again rather than answer "nothing left"."""
    for attempt in range(LOCKED_RETRIES + 1):
        item = _first_locked(project, annotator)
        if item is not None or not _candidates_exist(project, annotator):
            return item
        time.sleep(LOCKED_RETRY_PAUSE * (attempt + 1))
    return None


def _assignment_take(
    *, project: Project, annotator, stats: AnnotatorStats, now: datetime
) -> Assignment | None:
    item = None
    is_gold = gold_due(project=project, stats=stats)
    if is_gold:
        item = _gold_candidate(project, annotator)
        is_gold = item is not None
    if item is None:
        item = _candidate_take(project, annotator)
    if item is None:
        return None
    assignment = _assignment_open(
        project=project, annotator=annotator, item=item, is_gold=is_gold, now=now
    )
    with writes_batched():  # one round trip for both counters
        if not is_gold:
            rows_update(Item, {"pk": item.pk}, add={"assigned_count": 1})
            item.assigned_count += 1
        rows_update(
            AnnotatorStats,
            {"pk": stats.pk},
            set={"last_active_at": now},
            add={"served": 1, "gold_served": int(is_gold)},
        )
    assignment.item = item
    return assignment


def assignment_skip(
    *, assignment: Assignment, annotator, reason: str = "", now: datetime | None = None
) -> Assignment:
    """Give the slot back so that others get the item; the annotator will not see it again."""
    now = now or _now()
    if assignment.annotator_id != annotator.pk:
        raise NotYourAssignment("This assignment belongs to someone else.")
    with transaction.atomic():
        Item.objects.select_for_update().filter(pk=assignment.item_id).first()
        locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
        if locked.state != Assignment.State.ACTIVE:
            raise QueueError(f"This assignment is {locked.state}, not active.")
        locked.state = Assignment.State.SKIPPED
        locked.skip_reason = reason[:500]
        locked.finished_at = now
        locked.save(update_fields=["state", "skip_reason", "finished_at"])
        item_changes = {"skip_count": F("skip_count") + 1}
        if not locked.is_gold:  # gold assignments hold no slot
            item_changes["assigned_count"] = Greatest(F("assigned_count") - 1, 0)
        Item.objects.filter(pk=locked.item_id).update(**item_changes)
        annotator_stats_add(
            project_id=locked.project_id, annotator_id=annotator.pk, now=now, skipped=1
        )
    return locked
