"""Benchmark: changing a used label schema (issue 14): counting the answers a removed label would
orphan, then renaming a label with a rename map, which rewrites every stored result in one
transaction (projects.schema_change).

Builds a throw-away PostgreSQL database `<DATABASE_URL's name>_bench_schema`, fills it with the
consensus benchmark's data (items x annotators of a 3-label choice, a resolution per item), then
times the refused removal (the count) and the rename, and prints them with the peak RSS.

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/quorum \\
        .venv/bin/python tests/benchmarks/bench_schema_change.py --items 200000 --per-item 5
"""

from __future__ import annotations

import argparse
import os
import time

from bench_consensus import LABELS, data_fill
from bench_support import (
    DEFAULT_URL,
    bench_database_url,
    database_drop,
    database_recreate,
    peak_rss_mb,
    tables_create,
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--per-item", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()

    admin_url, bench_url, bench_name = bench_database_url(
        os.environ.get("DATABASE_URL") or DEFAULT_URL, "bench_schema"
    )
    database_recreate(admin_url, bench_name)
    os.environ["DATABASE_URL"] = bench_url
    os.environ["CELERY_BROKER_URL"] = ""

    import django

    django.setup()
    from labeling.models import Annotation
    from projects.models import Project
    from projects.schema_change import SchemaChangeRefused, project_schema_change

    try:
        tables_create()
        project_id = data_fill(items=args.items, per_item=args.per_item)
        total = Annotation.objects.filter(project_id=project_id).count()
        print(f"filled {args.items:,} items, {total:,} annotations")
        project = Project.objects.get(pk=project_id)
        kept = [label for label in LABELS if label != "positive"]

        def schema(labels):
            return {"controls": [{**project.label_schema["controls"][0], "labels": labels}]}

        started = time.perf_counter()
        try:
            project_schema_change(project=project, label_schema=schema(kept))
        except SchemaChangeRefused as refusal:
            counted = time.perf_counter() - started
            print(f"removal refused in {counted:.2f}s: {refusal.errors['label_schema']}")
        started = time.perf_counter()
        change = project_schema_change(
            project=project,
            label_schema=schema(["pos", *kept]),
            renames={"sentiment": {"positive": "pos"}},
        )
        renamed = time.perf_counter() - started
        moved = sum(change.migrated.values())
        print(
            f"rename moved {moved:,} results ({change.migrated}) in {renamed:.2f}s"
            f" ({moved / renamed:,.0f} results/s); peak RSS {peak_rss_mb():.0f} MB"
        )
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            database_drop(admin_url, bench_name)


if __name__ == "__main__":
    main()
