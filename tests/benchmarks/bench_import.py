"""Benchmark: dataset imports, end to end, from the stored upload to the job marked done.

PostgreSQL (default 1,000,000 rows of ~200-character texts, as JSONL and as CSV): a throw-away
database `<DATABASE_URL's name>_bench_import` gets its tables from the migrations, one real
Celery worker (`celery -A labeling.site worker`) imports the file, and the script prints rows/s
and the worker's peak RSS (of a pool process, which runs the imports, of the main process, and
of the worker as a whole). Then it waits for the search indexer the finished import starts in
the worker (projects.items.search_index) and prints how long the items took to become
searchable after the job was done. The worker runs with Celery's default concurrency, one pool
process per CPU, unless --concurrency: the file's chunks are imported in parallel by the pool
processes of that one worker. SQLite (default 100,000 rows of JSONL): the embedded default, the
job running in-process as `make run` does; prints rows/s and the process's peak RSS.

The timer starts before the file is stored as the job's upload and stops when the job row says
done. The machine's load average is printed: on a shared machine wall-clock figures move with it.

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/quorum \
    QUORUM_TEST_BROKER_URL=redis://127.0.0.1:6379/15 \
        .venv/bin/python tests/benchmarks/bench_import.py --rows 1000000 --sqlite-rows 100000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench_support import (
    DEFAULT_URL,
    RssWatcher,
    bench_database_url,
    checkpoint,
    database_drop,
    database_recreate,
    peak_rss_mb,
    tables_create,
)

DEFAULT_BROKER = "redis://127.0.0.1:6379/15"
FILLER = "The delivery arrived two days late and the box was damaged, but support answered fast "


def text_for(n: int) -> str:
    return (f"Review {n}: " + FILLER * 3)[:200]


def write_jsonl(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        for n in range(rows):
            f.write(json.dumps({"external_id": f"r{n}", "text": text_for(n)}) + "\n")


def write_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write("external_id,text\n")
        for n in range(rows):
            f.write(f'r{n},"{text_for(n)}"\n')


def django_setup_with_tables() -> None:
    import django

    django.setup()
    tables_create()


def project_make(name: str):
    from projects.models import Membership, Project
    from tests.factories import TEXT_CLASSIFICATION_SCHEMA, UserFactory

    lead = UserFactory(username=f"lead-{name}")
    project = Project.objects.create(name=name, label_schema=TEXT_CLASSIFICATION_SCHEMA)
    Membership.objects.create(project=project, user=lead, role=Membership.Role.LEAD)
    return project, lead


def job_start(project, lead, path: Path):
    from django.core.files import File
    from django.db import transaction

    from projects.imports.jobs import import_job_create
    from projects.tasks import import_job_enqueue

    with path.open("rb") as f, transaction.atomic():
        job = import_job_create(project=project, user=lead, upload=File(f, name=path.name))
        import_job_enqueue(job.pk)
    return job


def job_wait(job_id: int, timeout: float = 1800):
    from projects.models import ImportJob

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ImportJob.objects.get(pk=job_id)
        if job.is_finished:
            return job
        time.sleep(0.05)
    raise SystemExit(f"import job {job_id} did not finish in {timeout} s")


def search_wait(project, timeout: float = 1800) -> float:
    """Seconds until every item of the project is searchable (the indexer is done)."""
    from projects.items.search_index import items_not_searchable_count

    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    while items_not_searchable_count(project.pk):
        if time.monotonic() > deadline:
            raise SystemExit(f"project {project.pk} was not searchable in {timeout} s")
        time.sleep(0.5)  # each look counts the project's items: rarely, not to slow the worker
    return time.perf_counter() - started


def job_phases(job) -> str:
    """Where the wall time went: storing the upload, planning the chunks, importing them."""
    stored = (job.created_at - job.bench_started_at).total_seconds()
    planned = (job.started_at - job.created_at).total_seconds()
    imported = (job.finished_at - job.started_at).total_seconds()
    return (
        f"upload stored {stored:.1f} s, then planned {planned:.1f} s, "
        f"then imported {imported:.1f} s"
    )


def postgres_bench(args, work: Path) -> None:
    admin_url, bench_url, bench_name = bench_database_url(
        os.environ.get("DATABASE_URL", DEFAULT_URL), "bench_import"
    )
    broker = os.environ.get("QUORUM_TEST_BROKER_URL", DEFAULT_BROKER)
    media = work / "media"
    os.environ.update(
        DATABASE_URL=bench_url, CELERY_BROKER_URL=broker, MEDIA_ROOT=str(media), DEBUG="false"
    )
    os.environ.setdefault("SECRET_KEY", "bench-import")
    database_recreate(admin_url, bench_name)
    try:
        django_setup_with_tables()
        from tests.celery_worker import CeleryWorkers

        workers = CeleryWorkers(
            broker_url=broker, database_url=bench_url, media_root=media, log_dir=work
        )
        workers.purge()
        worker = workers.start(concurrency=args.concurrency)
        try:
            for fmt in args.formats:
                path = work / f"rows.{fmt}"
                (write_jsonl if fmt == "jsonl" else write_csv)(path, args.rows)
                size_mb = path.stat().st_size / 1e6
                project, lead = project_make(f"bench-{fmt}")
                checkpoint()
                watcher = RssWatcher(worker.pid)
                watcher.start()
                started = time.perf_counter()
                started_at = datetime.now(UTC)
                job = job_wait(job_start(project, lead, path).pk)
                elapsed = time.perf_counter() - started
                job.bench_started_at = started_at
                watcher.stop()
                ok = job.status == "done" and job.created_count == args.rows
                print(
                    f"postgresql {fmt:5s} {args.rows:>9,} rows ({size_mb:.0f} MB, "
                    f"{job.chunk_count} chunks, worker concurrency {args.concurrency}): "
                    f"{elapsed:6.1f} s, {args.rows / elapsed:>9,.0f} rows/s; "
                    f"peak RSS pool process {watcher.peak_pool / 2**20:.0f} MB, "
                    f"main process {watcher.peak_main / 2**20:.0f} MB, "
                    f"worker total {watcher.peak_tree / 2**20:.0f} MB"
                    + ("" if ok else f"  !! job {job.status}: {job.message}"),
                    flush=True,
                )
                print(f"  {job_phases(job)}", flush=True)
                searchable = search_wait(project)
                print(
                    f"  searchable {searchable:.1f} s after the job was done (the indexer in the"
                    f" worker: {searchable / args.rows * 100_000:.1f} s per 100k items); "
                    f"load average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
                path.unlink()
        finally:
            workers.stop_all()
    finally:
        from django.db import connections

        connections.close_all()
        database_drop(admin_url, bench_name)


def sqlite_bench(args, work: Path) -> None:
    """Runs in its own process: the embedded default, SQLite and in-process jobs."""
    os.environ.pop("DATABASE_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.update(QUORUM_DATA_DIR=str(work), MEDIA_ROOT=str(work / "media"))
    django_setup_with_tables()
    path = work / "rows.jsonl"
    write_jsonl(path, args.sqlite_rows)
    project, lead = project_make("bench-sqlite")
    started = time.perf_counter()
    job = job_wait(job_start(project, lead, path).pk)
    elapsed = time.perf_counter() - started
    peak = peak_rss_mb()
    ok = job.status == "done" and job.created_count == args.sqlite_rows
    print(
        f"sqlite     jsonl {args.sqlite_rows:>9,} rows (in-process job): {elapsed:6.1f} s, "
        f"{args.sqlite_rows / elapsed:>9,.0f} rows/s; peak RSS {peak:.0f} MB"
        + ("" if ok else f"  !! job {job.status}: {job.message}"),
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sqlite-rows", type=int, default=100_000)
    parser.add_argument("--formats", default="jsonl,csv")
    # Celery's own default: one pool process per CPU.
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--sqlite-child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.formats = [f for f in args.formats.split(",") if f]
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        work = Path(tmp)
        if args.sqlite_child:
            sqlite_bench(args, work)
            return
        print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
        if not args.skip_sqlite:
            subprocess.run(
                [sys.executable, __file__, "--sqlite-child", f"--sqlite-rows={args.sqlite_rows}"],
                check=True,
            )
        if not args.skip_postgres:
            postgres_bench(args, work)


if __name__ == "__main__":
    main()
