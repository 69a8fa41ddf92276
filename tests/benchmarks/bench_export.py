"""Benchmark: export N items (default 1,000,000) with annotations to every fast format.

Builds a throw-away PostgreSQL database `<DATABASE_URL's name>_bench_export`, fills it with
PostgreSQL COPY (items with a text, an image reference and a size; one annotation and one current
resolution per item), then runs each export as the worker runs it (exports.jobs.export_job_run)
and prints items/s and the peak RSS of this process (the worker's memory).

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/quorum \
        .venv/bin/python tests/benchmarks/bench_export.py --items 1000000 --formats jsonl,parquet
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labeling.site.settings")

DEFAULT_URL = "postgres://postgres:postgres@127.0.0.1:5432/quorum"
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


def bench_database_url(base_url: str) -> tuple[str, str, str]:
    """(admin url, bench url, bench name) derived from the configured database URL."""
    parts = urlsplit(base_url)
    name = parts.path.lstrip("/") or "quorum"
    bench_name = f"{name}_bench_export"
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    bench = urlunsplit(parts._replace(path=f"/{bench_name}"))
    return admin, bench, bench_name


def database_recreate(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def database_drop(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


def tables_create() -> None:
    from django.apps import apps
    from django.db import connection

    with connection.schema_editor() as editor:
        for model in apps.get_models():
            if model._meta.managed and not model._meta.proxy:
                editor.create_model(model)


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux: the high-water mark of this process.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--formats", default="jsonl,parquet,csv,coco,conll")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()

    admin_url, bench_url, bench_name = bench_database_url(
        os.environ.get("DATABASE_URL") or DEFAULT_URL
    )
    database_recreate(admin_url, bench_name)
    os.environ["DATABASE_URL"] = bench_url
    os.environ["CELERY_BROKER_URL"] = ""
    media = tempfile.TemporaryDirectory(prefix="bench-export-")
    os.environ["MEDIA_ROOT"] = media.name

    import django

    django.setup()
    from exports.jobs import export_job_create, export_job_run
    from projects.models import Project

    try:
        tables_create()
        started = time.perf_counter()
        project_id = data_fill(items=args.items)
        filled = time.perf_counter() - started
        print(f"filled {args.items:,} items + annotations + resolutions by COPY in {filled:.1f}s")
        print(f"peak RSS after the fill: {peak_rss_mb():.0f} MB")
        project = Project.objects.get(pk=project_id)
        lead = project.created_by
        for format in args.formats.split(","):
            job = export_job_create(project=project, user=lead, format=format, raw_options={})
            started = time.perf_counter()
            job = export_job_run(job_id=job.pk)
            elapsed = time.perf_counter() - started
            rate = job.items_written / elapsed if elapsed else 0.0
            print(
                f"{format:8s} {job.status:6s} {job.items_written:>9,} items in {elapsed:6.1f}s"
                f" = {rate:>9,.0f} items/s, {job.manifest.get('bytes', 0) / 1e6:8.1f} MB,"
                f" peak RSS so far {peak_rss_mb():.0f} MB"
            )
        print(f"peak RSS (whole run, the worker's process): {peak_rss_mb():.0f} MB")
        print(f"current RSS: {psutil.Process().memory_info().rss / 2**20:.0f} MB")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop(admin_url, bench_name)
        media.cleanup()


if __name__ == "__main__":
    main()
