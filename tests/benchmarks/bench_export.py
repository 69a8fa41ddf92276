"""Benchmark: export N items (default 1,000,000) with annotations to every fast format.

Builds a throw-away PostgreSQL database `<DATABASE_URL's name>_bench_export`, fills it with
PostgreSQL COPY (items with a text, an image reference and a size; one annotation and one current
resolution per item), then runs each export as the worker runs it (exports.jobs.export_job_run)
in a fresh process each and prints items/s, CPU time and that process's peak RSS (a worker's
memory). The machine's load average is printed too: on a shared machine the wall-clock figures
move with it, the CPU-second figures much less.

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/quorum \
        .venv/bin/python tests/benchmarks/bench_export.py --items 1000000 --formats jsonl,parquet
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time

from bench_support import (
    DEFAULT_URL,
    bench_database_url,
    database_drop,
    database_recreate,
    peak_rss_mb,
    tables_create,
)

COPY_CHUNK = 20_000
SENTIMENTS = ("positive", "negative", "neutral")
TEXTS = (
    "Maria Lopez joined Brightwave Labs in Lisbon last spring.",
    "The Harbor Council in Port Elgin rejected the bridge plan.",
    "Customers in Valdora praised Greenleaf Foods for the quick refund.",
)
SCHEMA = {
    "controls": [
        {"name": "sentiment", "kind": "choice", "source": "text", "labels": list(SENTIMENTS)},
        {"name": "entities", "kind": "spans", "source": "text", "labels": ["PER", "ORG", "LOC"]},
        {"name": "objects", "kind": "boxes", "source": "image", "labels": ["car", "person"]},
    ]
}


def _copy(cursor, sql: str, lines) -> None:
    """COPY text-format lines in chunks (no per-row Python call into psycopg)."""
    with cursor.copy(sql) as copy:
        buffer = io.StringIO()
        for count, line in enumerate(lines, 1):
            buffer.write(line)
            if count % COPY_CHUNK == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def _result_text(n: int) -> str:
    # COPY text format: backslashes would need escaping; these JSON strings have none.
    sentiment = SENTIMENTS[n % 3]
    return (
        f'{{"sentiment": "{sentiment}", "entities": [{{"start": 0, "end": 5, "label": "PER"}}], '
        f'"objects": [{{"x": 10.0, "y": 20.0, "width": {30 + n % 50}.0, "height": 40.0, '
        f'"label": "{"car" if n % 2 else "person"}"}}]}}'
    )


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def _table_copy(raw_cursor, model, columns: list[str], rows) -> None:
    """COPY rows of `columns` into the model's table; every other column gets its model default
    (the models change while this benchmark stays the same)."""
    given = set(columns)
    others = [f for f in model._meta.concrete_fields if f.column not in given and not f.primary_key]
    tail = "".join("\t" + _copy_text(f.get_default()) for f in others)
    names = ", ".join([*columns, *(f.column for f in others)])
    _copy(
        raw_cursor,
        f"COPY {model._meta.db_table} ({names}) FROM STDIN",
        (line + tail + "\n" for line in rows),
    )


def data_fill(*, items: int) -> int:
    """Create the users, the project and `items` items with annotations; return the project id."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from labeling.models import Annotation, Resolution
    from projects.models import Item, Membership, Project

    user_model = get_user_model()
    lead = user_model.objects.create_user("lead", password="x", is_staff=True)
    project = Project.objects.create(name="bench", label_schema=SCHEMA, created_by=lead)
    Membership.objects.create(project=project, user=lead, role=Membership.Role.LEAD)
    now = "2026-11-24 09:00:00+00"
    pid, uid = project.pk, lead.pk
    with connection.cursor() as cursor:
        raw = cursor.cursor
        _table_copy(
            raw,
            Item,
            ["id", "project_id", "external_id", "data", "status", "width", "height"]
            + ["annotation_count", "created_at"],
            (
                f'{n}\t{pid}\titem-{n:07d}\t{{"text": "{TEXTS[n % 3]}", '
                f'"image": "/media/images/{n:07d}.png"}}\tresolved\t320\t240\t1\t{now}'
                for n in range(1, items + 1)
            ),
        )
        _table_copy(
            raw,
            Annotation,
            ["id", "project_id", "item_id", "annotator_id", "result", "lead_time"]
            + ["created_at", "updated_at"],
            (
                f"{n}\t{pid}\t{n}\t{uid}\t{_result_text(n)}\t{n % 60}.5\t{now}\t{now}"
                for n in range(1, items + 1)
            ),
        )
        _table_copy(
            raw,
            Resolution,
            ["id", "item_id", "result", "method", "is_current", "created_at"],
            (f"{n}\t{n}\t{_result_text(n)}\tsingle\tt\t{now}" for n in range(1, items + 1)),
        )
        for model in (Item, Annotation, Resolution):
            table = model._meta.db_table
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {items + 1})")
            cursor.execute(f"ANALYZE {table}")
    return pid


def export_one(format: str, options: dict) -> None:
    """Child process: one export as a worker runs it; prints one line of figures."""
    import django

    django.setup()
    from exports.jobs import export_job_create, export_job_run
    from projects.models import Project

    project = Project.objects.get(name="bench")
    baseline = peak_rss_mb()
    job = export_job_create(
        project=project, user=project.created_by, format=format, raw_options=options
    )
    started, cpu = time.perf_counter(), time.process_time()
    job = export_job_run(job_id=job.pk)
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    rate = job.items_written / elapsed if elapsed else 0.0
    label = format + ("+" + ",".join(sorted(options)) if options else "")
    print(
        f"{label:28s} {job.status:6s} {job.items_written:>9,} items in {elapsed:6.1f}s"
        f" = {rate:>9,.0f} items/s (CPU {cpu:5.1f}s = {job.items_written / max(cpu, 1e-9):>9,.0f}"
        f" items per CPU-second), {job.manifest.get('bytes', 0) / 1e6:7.1f} MB file,"
        f" peak RSS {peak_rss_mb():.0f} MB (after setup {baseline:.0f} MB)",
        flush=True,
    )
    if job.status != "done":
        print(f"    {job.message}", flush=True)


RUNS = {
    "jsonl": {},
    "parquet": {},
    "csv": {},
    "coco": {},
    "conll": {},
    "jsonl+annotations": {"include_annotations": True},
    "parquet+split": {"split": [0.8, 0.1, 0.1], "split_seed": 1},
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--formats", default="jsonl,parquet,csv,coco,conll", help=", ".join(RUNS))
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    parser.add_argument("--export-one", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.export_one:
        export_one(args.export_one.partition("+")[0], RUNS.get(args.export_one, {}))
        return

    admin_url, bench_url, bench_name = bench_database_url(
        os.environ.get("DATABASE_URL") or DEFAULT_URL, "bench_export"
    )
    database_recreate(admin_url, bench_name)
    media = tempfile.TemporaryDirectory(prefix="bench-export-")
    # A worker's environment: the bench database, no broker, DEBUG off (no query log).
    os.environ.update(
        DATABASE_URL=bench_url,
        CELERY_BROKER_URL="",
        MEDIA_ROOT=media.name,
        DEBUG="false",
        SECRET_KEY=os.environ.get("SECRET_KEY") or "bench-export-not-secret",
    )

    import django

    django.setup()
    try:
        tables_create()
        started = time.perf_counter()
        data_fill(items=args.items)
        filled = time.perf_counter() - started
        print(f"filled {args.items:,} items + annotations + resolutions by COPY in {filled:.1f}s")
        from django.db import connections

        connections.close_all()
        print(f"machine load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        # Each export in a fresh process, as a worker would run it: its own peak RSS.
        for run in args.formats.split(","):
            subprocess.run(
                [sys.executable, __file__, "--export-one", run], check=False, env=os.environ
            )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop(admin_url, bench_name)
        media.cleanup()


if __name__ == "__main__":
    main()
