"""Benchmark: the data manager on a project of N items (default 1,000,000) on PostgreSQL.

Builds a throw-away database `<DATABASE_URL's name>_bench_data_manager`, fills it with COPY
(items with a text of random words, metadata, priorities; 40% answered twice with a current
resolution, half predicted by one of two model versions, 1% gold), builds the full-text index
as projects migration 0005 does, then times:

- filter + sort pages (the service behind `GET /api/projects/{id}/items/`: the keyset page and
  its columns), first pages and pages deep in the list (from a cursor 80% of the way in);
- full-text search pages;
- bulk actions over 100,000 selected items (or N if smaller), run as the worker runs them.

Targets (issue 14): filter + sort page p95 < 300 ms; search p95 < 500 ms; a bulk action on 100k
items < 30 s.

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/quorum \
        .venv/bin/python tests/benchmarks/bench_data_manager.py --items 1000000
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import time

from bench_support import (
    DEFAULT_URL,
    bench_database_url,
    database_drop,
    database_recreate,
    search_index_migration,
    tables_create,
)

COPY_CHUNK = 20_000
SENTIMENTS = ("positive", "negative", "neutral")
SCHEMA = {
    "controls": [
        {"name": "sentiment", "kind": "choice", "source": "text", "labels": list(SENTIMENTS)}
    ]
}
VOCABULARY_SIZE = 5000
WORDS_PER_TEXT = 14
NOW = "2026-12-01 09:00:00+00"


def vocabulary() -> list[str]:
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = set()
    while len(words) < VOCABULARY_SIZE:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(3, 9))))
    return sorted(words)


def _copy(cursor, sql: str, lines) -> None:
    with cursor.copy(sql) as copy:
        buffer = io.StringIO()
        for count, line in enumerate(lines, 1):
            buffer.write(line)
            if count % COPY_CHUNK == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _table_copy(raw, model, columns: list[str], rows) -> None:
    """COPY rows of `columns`; every other column gets its model default."""
    given = set(columns)
    others = [f for f in model._meta.concrete_fields if f.column not in given and not f.primary_key]
    tail = "".join("\t" + _copy_text(f.get_default()) for f in others)
    names = ", ".join([*columns, *(f.column for f in others)])
    _copy(
        raw,
        f"COPY {model._meta.db_table} ({names}) FROM STDIN",
        (line + tail + "\n" for line in rows),
    )


def item_state(n: int) -> str:
    """60% open, 30% resolved, 10% in review; the answered ones have two answers."""
    return "open" if n % 10 < 6 else "resolved" if n % 10 < 9 else "in_review"


def item_priority(n: int, *, correlated: bool) -> int:
    """0-9. Correlated: the item's status and metadata source decide it too (all n % 10), the
    worst case for a sort index walked under a filter (every open item sorts before the first
    answered one); else a hash of n, independent of the rest."""
    return n % 10 if correlated else (n * 2654435761 % 2**32 >> 16) % 10


def data_fill(*, items: int, correlated: bool = False) -> tuple[int, list[str]]:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from labeling.models import Annotation, Resolution
    from projects.items.search_index import INSERT_WINDOW
    from projects.models import Item, ItemSearch, Membership, Prediction, Project

    users = get_user_model().objects
    lead = users.create_user("lead", password="x", is_staff=True)
    ann1, ann2 = users.create_user("ann1"), users.create_user("ann2")
    project = Project.objects.create(name="bench", label_schema=SCHEMA, created_by=lead, overlap=2)
    for user, role in ((lead, "lead"), (ann1, "annotator"), (ann2, "annotator")):
        Membership.objects.create(project=project, user=user, role=role)
    words = vocabulary()
    rng = random.Random(11)
    # Zipf-like: a few words are common, most are rare.
    weights = [1 / (rank + 1) for rank in range(len(words))]
    pid = project.pk

    def item_rows():
        for n in range(1, items + 1):
            text = " ".join(rng.choices(words, weights, k=WORDS_PER_TEXT))
            state = item_state(n)
            answers = 0 if state == "open" else 2
            gold = '{"sentiment": "neutral"}' if n % 100 == 0 else "\\N"
            score = f"{(n * 7919 % 1000) / 1000:.3f}" if n % 2 == 0 else "\\N"
            version = f"v{1 + n % 4 // 2}" if n % 2 == 0 else "\\N"
            data = json.dumps({"text": text, "meta": {"source": f"src{n % 10}"}, "n": n % 1000})
            yield (
                f"{n}\t{pid}\titem-{n:07d}\t{data}\t{state}\t{answers}"
                f"\t{item_priority(n, correlated=correlated)}\t{gold}"
                f"\t{score}\t{version}\t{NOW}"
            )

    def answer_rows():
        pk = 0
        for n in range(1, items + 1):
            if item_state(n) == "open":
                continue
            first = SENTIMENTS[n % 3]
            second = first if item_state(n) == "resolved" else SENTIMENTS[(n + 1) % 3]
            for who, label in ((ann1.pk, first), (ann2.pk, second)):
                pk += 1
                result = json.dumps({"sentiment": label})
                yield f"{pk}\t{pid}\t{n}\t{who}\t{result}\t4.5\t{NOW}\t{NOW}"

    def resolution_rows():
        for n in range(1, items + 1):
            state = item_state(n)
            if state == "open":
                continue
            result = json.dumps({"sentiment": SENTIMENTS[n % 3]})
            agreement, rstate = ("1.0", "accepted") if state == "resolved" else ("0.5", "pending")
            yield f"{n}\t{n}\t{result}\tmajority\t{agreement}\t{rstate}\tt\t{NOW}"

    def prediction_rows():
        for n in range(2, items + 1, 2):
            result = json.dumps({"sentiment": SENTIMENTS[n % 3]})
            score = f"{(n * 7919 % 1000) / 1000:.3f}"
            yield f"{n // 2}\t{n}\tv{1 + n % 4 // 2}\t{result}\t{score}\t{NOW}"

    with connection.cursor() as cursor:
        raw = cursor.cursor
        _table_copy(
            raw,
            Item,
            [
                "id",
                "project_id",
                "external_id",
                "data",
                "status",
                "annotation_count",
                "priority",
                "gold",
                "prediction_score",
                "prediction_model_version",
                "created_at",
            ],
            item_rows(),
        )
        _table_copy(
            raw,
            Annotation,
            [
                "id",
                "project_id",
                "item_id",
                "annotator_id",
                "result",
                "lead_time",
                "created_at",
                "updated_at",
            ],
            answer_rows(),
        )
        _table_copy(
            raw,
            Resolution,
            ["id", "item_id", "result", "method", "agreement", "state", "is_current", "created_at"],
            resolution_rows(),
        )
        _table_copy(
            raw,
            Prediction,
            ["id", "item_id", "model_version", "result", "score", "created_at"],
            prediction_rows(),
        )
        # The rows the indexer writes (words and text key), in one window over every id, then
        # the GIN index, as the migration builds it over a filled table.
        started = time.perf_counter()
        cursor.execute(INSERT_WINDOW, [pid, 0, 2**31])
        filled = time.perf_counter() - started
        cursor.execute(search_index_migration().CREATE)
        print(
            f"search table filled in {filled:.1f}s, its GIN index built in "
            f"{time.perf_counter() - started - filled:.1f}s"
        )
        for model in (Item, Annotation, Resolution, Prediction, ItemSearch):
            table = model._meta.db_table
            if model is not ItemSearch:  # its key is the item's
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT coalesce(max(id), 0) + 1 FROM {table}))"
                )
            cursor.execute(f"VACUUM ANALYZE {table}")
    return pid, words


FILTER_SORTS = [
    {"ordering": "id"},
    {"ordering": "-created"},
    {"status": "open", "ordering": "-priority"},
    {"status": "resolved", "agreement_min": "0.9", "ordering": "-id"},
    {"agreement_max": "0.6", "ordering": "-agreement"},
    {"label": "positive", "ordering": "-id"},
    {"label": "negative", "label_in": "resolution", "ordering": "priority"},
    {"score_min": "0.2", "score_max": "0.4", "ordering": "score"},
    {"model_version": "v2", "ordering": "-id"},
    {"annotator": "ann1", "ordering": "priority"},
    {"not_annotator": "ann1", "ordering": "-priority"},
    {"gold": "true", "ordering": "id"},
    {"gold": "false", "disagreement": "true", "ordering": "id"},
    {"field": "meta.source", "field_equals": "src3", "ordering": "-priority"},
    {"field": "n", "field_min": "100", "field_max": "120", "ordering": "id"},
    {"status": ["resolved", "in_review"], "ordering": "-answers"},
    {"ordering": "external_id"},
    {"ordering": "-score"},
    {"ordering": "status"},
    {"ordering": "agreement"},
    {"ordering": "gold"},
    {"ordering": "resolution"},
    {"ordering": "model_version"},
    {"ordering": "text"},
]


def searches(words: list[str]) -> list[dict]:
    common, middle, rare = words[0], words[50], words[3000]
    return [
        {"search": common},
        {"search": middle},
        {"search": rare},
        {"search": f"{middle} {words[60]}"},
        {"search": f'"{common} {words[1]}"'},
        {"search": middle, "status": "resolved", "ordering": "-priority"},
        {"search": rare, "ordering": "-id"},
        {"search": common, "ordering": "priority"},
    ]


def page_time(project, params) -> tuple[float, str | None]:
    from labeling.datamanager.query import item_rows_describe, items_table_page

    started = time.perf_counter()
    page = items_table_page(project=project, params=params, size=50)
    item_rows_describe(project=project, items=page.items)
    return (time.perf_counter() - started) * 1000, page.next_cursor


def deep_cursor(project, params) -> str | None:
    """A cursor 80% of the way into the list (found once, not timed)."""
    from labeling.datamanager.query import cursor_encode, items_table_query

    queryset, ordering = items_table_query(project=project, params=params)
    total = queryset.count()
    if total < 100:
        return None
    row = queryset[int(total * 0.8)]
    return cursor_encode(ordering=ordering, value=row._sort, item_id=row.pk)


def measure(project, cases: list[dict], repeats: int, label: str) -> list[float]:
    """Page times (ms) of every case: first pages, next pages and deep pages."""
    times: list[float] = []
    for params in cases:
        deep = deep_cursor(project, params) if "search" not in params else None
        first, later = [], []
        for _ in range(repeats):
            ms, next_cursor = page_time(project, params)
            first.append(ms)
            if next_cursor:
                later.append(page_time(project, {**params, "cursor": next_cursor})[0])
            if deep:
                later.append(page_time(project, {**params, "cursor": deep})[0])
        times += first + later
        query = "&".join(f"{k}={v}" for k, v in params.items())
        deep_text = f", next/deep pages p50 {statistics.median(later):6.1f} ms" if later else ""
        print(
            f"  {label} {query:70s} first page p50 {statistics.median(first):6.1f} ms{deep_text}",
            flush=True,
        )
    return times


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1] if len(times) > 1 else times[0]


def bulk_runs(project, items: int, wanted: int) -> None:
    """Each action over one selection of about `wanted` items, run as a worker runs it."""
    from labeling.datamanager.bulk import item_bulk_job_create, item_bulk_job_run

    # "All that match the filter": a tenth of the project by its metadata, or all of it.
    query = "field=n&field_max=99" if items >= 10 * wanted else ""
    runs = [
        ("set_priority", {"priority": 17}),
        ("send_to_review", {}),
        ("release_assignments", {}),
        ("requeue", {"answers": 1}),
        ("delete", {}),
    ]
    print(f"bulk actions over the items matching '{query}':")
    for action, params in runs:
        job = item_bulk_job_create(
            project=project, user=None, action=action, params=params, selection={"query": query}
        )
        started = time.perf_counter()
        job = item_bulk_job_run(job_id=job.pk)
        elapsed = time.perf_counter() - started
        print(
            f"  {action:20s} {job.status:6s} {job.processed_count:>9,} items"
            f" ({job.changed_count:,} changed) in {elapsed:6.1f}s = "
            f"{job.processed_count / max(elapsed, 1e-9):,.0f} items/s (target 100k < 30 s)",
            flush=True,
        )


def pages_run(project, words: list[str], repeats: int) -> None:
    filter_times = measure(project, FILTER_SORTS, repeats, "filter+sort")
    search_times = measure(project, searches(words), repeats, "search")
    print(
        f"filter + sort pages: p50 {statistics.median(filter_times):.1f} ms,"
        f" p95 {p95(filter_times):.1f} ms over {len(filter_times)} pages (target p95 < 300)"
    )
    print(
        f"full-text search pages: p50 {statistics.median(search_times):.1f} ms,"
        f" p95 {p95(search_times):.1f} ms over {len(search_times)} pages (target p95 < 500)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--bulk", type=int, default=100_000, help="items selected for bulk runs")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept bench database")
    parser.add_argument("--only", choices=["pages", "bulk"], help="run only these figures")
    parser.add_argument(
        "--correlated",
        action="store_true",
        help="priority follows status and metadata (see item_priority): the worst case",
    )
    args = parser.parse_args()

    admin_url, bench_url, bench_name = bench_database_url(
        os.environ.get("DATABASE_URL") or DEFAULT_URL, "bench_data_manager"
    )
    if not args.reuse:
        database_recreate(admin_url, bench_name)
    os.environ.update(
        DATABASE_URL=bench_url,
        CELERY_BROKER_URL="",
        DEBUG="false",
        SECRET_KEY=os.environ.get("SECRET_KEY") or "bench-dm-not-secret",
    )
    import django

    django.setup()
    from django.db import connections

    from projects.models import Project

    try:
        if args.reuse:
            project, words = Project.objects.get(name="bench"), vocabulary()
        else:
            tables_create(search_index=False)  # built after the fill, as a bulk load would
            started = time.perf_counter()
            pid, words = data_fill(items=args.items, correlated=args.correlated)
            print(
                f"filled {args.items:,} items with answers, resolutions and predictions"
                f" in {time.perf_counter() - started:.1f}s"
            )
            project = Project.objects.get(pk=pid)
        print(f"machine load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        if args.only != "bulk":
            pages_run(project, words, args.repeats)
        if args.only != "pages":
            bulk_runs(project, args.items, args.bulk)
    finally:
        connections.close_all()
        if not args.keep:
            database_drop(admin_url, bench_name)


if __name__ == "__main__":
    main()
