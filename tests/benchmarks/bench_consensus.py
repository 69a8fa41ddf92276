"""Benchmark: aggregation and every quality number for 200,000 items x 5 annotators.

Builds a throw-away PostgreSQL database `<DATABASE_URL's name>_bench_consensus`, fills it with
COPY (items, 1,000,000 annotations of a 3-label choice from 20 annotators of different
accuracy, one current resolution per item, 1% gold items, some skips), then times:

- aggregation alone: majority vote, then Dawid-Skene, for every item
  (labeling.consensus.project_aggregation, each with its own bulk read),
- aggregation and all metrics in one pass: labeling.quality.report.project_quality (majority and
  Dawid-Skene labels, agreement per control and per label, Cohen, Fleiss, Krippendorff,
  Dawid-Skene confusion matrices, per-annotator numbers, progress) - the figure of issue 6,

and prints the figures and the peak RSS.

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/quorum \
        .venv/bin/python tests/benchmarks/bench_consensus.py --items 200000 --per-item 5
"""

from __future__ import annotations

import argparse
import io
import json
import os
import time

import numpy as np
from bench_support import (
    DEFAULT_URL,
    bench_database_url,
    database_drop,
    database_recreate,
    peak_rss_mb,
    tables_create,
)

LABELS = ("positive", "negative", "neutral")
SCHEMA = {
    "controls": [{"name": "sentiment", "kind": "choice", "source": "text", "labels": list(LABELS)}]
}
ANNOTATORS = 20
NOW = "2026-11-24 09:00:00+00"


def copy_value(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, dict | list):
        return json.dumps(value)
    return str(value)


def table_copy(cursor, model, columns: list[str], lines) -> None:
    """COPY the given columns; every other column gets its model default."""
    given = set(columns)
    others = [f for f in model._meta.concrete_fields if f.column not in given and not f.primary_key]
    tail = "".join("\t" + copy_value(f.get_default()) for f in others)
    names = ", ".join([*columns, *(f.column for f in others)])
    with cursor.copy(f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy:
        buffer = io.StringIO()
        for count, line in enumerate(lines, 1):
            buffer.write(line + tail + "\n")
            if count % 50_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def data_fill(*, items: int, per_item: int, seed: int = 7) -> int:
    from django.contrib.auth import get_user_model
    from django.db import connection

    from labeling.models import Annotation, Assignment, Resolution
    from projects.models import Item, Membership, Project

    rng = np.random.default_rng(seed)
    users = get_user_model()
    lead = users.objects.create_user("lead", password="x", is_staff=True)
    annotators = [users.objects.create_user(f"ann{n:02d}", password="x") for n in range(ANNOTATORS)]
    project = Project.objects.create(
        name="bench", label_schema=SCHEMA, overlap=per_item, created_by=lead
    )
    Membership.objects.create(project=project, user=lead, role=Membership.Role.LEAD)
    for user in annotators:
        Membership.objects.create(project=project, user=user, role=Membership.Role.ANNOTATOR)
    user_ids = np.array([u.pk for u in annotators])
    accuracy = np.linspace(0.55, 0.95, ANNOTATORS)

    truth = rng.integers(0, 3, items)
    # per_item distinct annotators per item: a random offset walk over the 20 annotators
    start = rng.integers(0, ANNOTATORS, items)
    step = rng.integers(1, 4, items)
    who = (start[:, None] + step[:, None] * np.arange(per_item)[None, :]) % ANNOTATORS
    correct = rng.random((items, per_item)) < accuracy[who]
    noise = (truth[:, None] + rng.integers(1, 3, (items, per_item))) % 3
    answers = np.where(correct, truth[:, None], noise)
    lead_times = rng.gamma(2.0, 8.0, (items, per_item)).round(2)
    votes = np.stack([(answers == k).sum(axis=1) for k in range(3)], axis=1)
    majority = votes.argmax(axis=1)
    gold = rng.random(items) < 0.01

    pid = project.pk
    with connection.cursor() as cursor:
        raw = cursor.cursor
        table_copy(
            raw,
            Item,
            ["id", "project_id", "external_id", "data", "status", "gold", "annotation_count"]
            + ["created_at"],
            (
                f'{n + 1}\t{pid}\titem-{n:07d}\t{{"text": "text {n}"}}\tresolved\t'
                + (f'{{"sentiment": "{LABELS[truth[n]]}"}}' if gold[n] else "\\N")
                + f"\t{per_item}\t{NOW}"
                for n in range(items)
            ),
        )
        table_copy(
            raw,
            Annotation,
            ["id", "project_id", "item_id", "annotator_id", "result", "lead_time"]
            + ["created_at", "updated_at"],
            (
                f"{n * per_item + k + 1}\t{pid}\t{n + 1}\t{user_ids[who[n, k]]}\t"
                f'{{"sentiment": "{LABELS[answers[n, k]]}"}}\t{lead_times[n, k]}\t{NOW}\t{NOW}'
                for n in range(items)
                for k in range(per_item)
            ),
        )
        table_copy(
            raw,
            Resolution,
            ["id", "item_id", "result", "method", "agreement", "is_current", "created_at"],
            (
                f'{n + 1}\t{n + 1}\t{{"sentiment": "{LABELS[majority[n]]}"}}\tmajority\t'
                f"{votes[n].max() / per_item}\tt\t{NOW}"
                for n in range(items)
            ),
        )
        skipped = rng.choice(items, items // 50, replace=False)
        table_copy(
            raw,
            Assignment,
            ["project_id", "item_id", "annotator_id", "state", "expires_at", "created_at"],
            (
                f"{pid}\t{n + 1}\t{user_ids[(who[n, -1] + 1) % ANNOTATORS]}\tskipped\t{NOW}\t{NOW}"
                for n in skipped
            ),
        )
        for model in (Item, Annotation, Resolution):
            table = model._meta.db_table
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        for model in (Item, Annotation, Resolution, Assignment):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    return pid


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=200_000)
    parser.add_argument("--per-item", type=int, default=5)
    parser.add_argument("--repeat", type=int, default=2, help="timed runs (the best is kept)")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()

    admin_url, bench_url, bench_name = bench_database_url(
        os.environ.get("DATABASE_URL") or DEFAULT_URL, "bench_consensus"
    )
    database_recreate(admin_url, bench_name)
    os.environ["DATABASE_URL"] = bench_url
    os.environ["CELERY_BROKER_URL"] = ""

    import django

    django.setup()
    from labeling.consensus.project_aggregation import project_choice_aggregate
    from labeling.quality.report import project_quality
    from projects.models import Project

    try:
        tables_create()
        started = time.perf_counter()
        project_id = data_fill(items=args.items, per_item=args.per_item)
        total = args.items * args.per_item
        print(
            f"filled {args.items:,} items, {total:,} annotations by COPY"
            f" in {time.perf_counter() - started:.1f}s"
        )
        rss_after_fill = peak_rss_mb()
        results = []
        for run in range(args.repeat):
            project = Project.objects.get(pk=project_id)
            for aggregation in ("majority", "dawid_skene"):
                project.aggregation = aggregation
                started = time.perf_counter()
                aggregates = project_choice_aggregate(project=project)
                elapsed = time.perf_counter() - started
                decided = int(aggregates["sentiment"].decided.sum())
                print(
                    f"run {run + 1}: aggregation only, {aggregation:11s} {elapsed:6.2f}s"
                    f" ({decided:,} items decided; includes its own read)"
                )
            started, cpu_started = time.perf_counter(), time.process_time()
            quality = project_quality(project=project)
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
            control = quality["controls"][0]
            print(
                f"run {run + 1}: aggregation (majority + Dawid-Skene) and all metrics"
                f" {elapsed:6.2f}s wall, {cpu:5.2f}s CPU in this process:"
                f" alpha {control['krippendorff_alpha']:.4f},"
                f" Fleiss {control['fleiss_kappa']:.4f}, Cohen {control['cohen_kappa']:.4f},"
                f" DS iterations {control['dawid_skene']['iterations']},"
                f" items where the methods differ {control['aggregation']['methods_differ']:,}"
            )
            results.append(elapsed)
        print(
            f"best: aggregation and all metrics for {total:,} annotations in {min(results):.2f}s"
            f" (machine shared with other jobs: load average {os.getloadavg()[0]:.1f})"
        )
        print(f"peak RSS after the fill {rss_after_fill:.0f} MB; whole run {peak_rss_mb():.0f} MB")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop(admin_url, bench_name)


if __name__ == "__main__":
    main()
