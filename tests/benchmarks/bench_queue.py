"""Benchmark: the annotator queue at 10k, 100k and 1M items, and submitting through the API.

Builds a throw-away PostgreSQL database `<DATABASE_URL's name>_bench_queue` and fills three
projects by COPY (10,000, 100,000 and 1,000,000 items). For each project it prints:

- next-item latency, p50/p95/p99, with 32 annotators (32 processes, one connection each) working
  at once: each arrives at a random moment, asks for an item, answers it, and "thinks" a random
  while (exponential, mean --think seconds; real annotators think for seconds). Each process
  first runs two cycles before the clock starts, as a web worker warms up once when it starts
  (its connection, Django's and the queue's caches); the first call's time is printed apart;
- the same 32 all asking at the same instant (a burst, no think time): on 2 cores that is mostly
  waiting for the CPU, so it shows how the queue degrades, beyond the target's scenario;
- EXPLAIN ANALYZE of the next-item queries (the plan's index and its execution time), for every
  ordering: the time must not grow with the project's size. The project is switched to each
  ordering in turn and its items refiled (projects.items.filing), which is timed too;
- then, under the production web server (--workers x --threads, default 2 x 2) on a fresh
  project: one client submitting (p50), 8 clients submitting at once (annotations/s), and 8
  annotators doing next+submit over 200 items with overlap 1 (cycles/s, and how many items went
  to two annotators: must be 0).

The service calls are timed in the annotators' processes, so figures include waiting for the CPU:
the machine has 2 cores, shared with the other processes running on it.

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/quorum \\
        .venv/bin/python tests/benchmarks/bench_queue.py [--sizes 10000,100000,1000000]
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import multiprocessing
import os
import random
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from bench_support import (
    DEFAULT_URL,
    bench_database_url,
    database_drop,
    database_recreate,
    peak_rss_mb,
    tables_create,
)

COPY_CHUNK = 50_000
ANNOTATORS = 32
WARMUP = 2
EXPLAIN_RUNS = 3
SCHEMA = {
    "controls": [
        {
            "name": "sentiment",
            "kind": "choice",
            "source": "text",
            "labels": ["positive", "negative", "neutral"],
        }
    ]
}
ANSWER = {"sentiment": "positive"}
LABEL_STUDIO = (
    "Label Studio 1.23.2 on this machine (from the issue): ~20 annotations/s from one client "
    "(p50 49 ms); 8 annotators at once: 3.9 next+submit/s, p95 3.7 s, "
    "16 of 200 items handed to two annotators with overlap 1"
)


def percentiles(values: list[float]) -> str:
    if not values:
        return "no samples"
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    return (
        f"p50 {at(0.50):6.1f} ms  p95 {at(0.95):6.1f} ms  p99 {at(0.99):6.1f} ms  "
        f"(n={len(ordered)})"
    )


def project_make(name: str, *, overlap: int = 1, ordering: str = "sequential"):
    from django.contrib.auth import get_user_model

    from projects.models import Membership, Project

    lead, _ = get_user_model().objects.get_or_create(username="bench-lead", is_superuser=True)
    project = Project.objects.create(
        name=name, label_schema=SCHEMA, overlap=overlap, ordering=ordering, created_by=lead
    )
    Membership.objects.create(project=project, user=lead, role=Membership.Role.LEAD)
    return project


def annotators_make(project, count: int, prefix: str) -> list:
    from django.contrib.auth import get_user_model

    from projects.models import Membership

    users = [
        get_user_model().objects.get_or_create(username=f"{prefix}-{i}")[0] for i in range(count)
    ]
    Membership.objects.bulk_create(
        [Membership(project=project, user=u, role=Membership.Role.ANNOTATOR) for u in users]
    )
    return users


def items_copy(project_id: int, count: int, done_share: float = 0.0) -> float:
    """COPY `count` items into the project, the first `done_share` of them already resolved
    (a project half way through: the queue must not walk over the finished ones); seconds."""
    from django.db import connection

    from projects.models import Item, Project

    table = Item._meta.db_table
    columns = (
        "project_id, external_id, data, priority, status, annotation_count, assigned_count, "
        "extra_slots, skip_count, prediction_score, queue_ordering, created_at"
    )
    ordering = Project.objects.values_list("ordering", flat=True).get(pk=project_id)
    rng = random.Random(project_id)
    done = int(count * done_share)
    started = time.perf_counter()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        buffer = io.StringIO()
        for n in range(count):
            data = json.dumps({"text": f"Text number {n}: the service was fine."})
            state = "resolved\t1" if n < done else "open\t0"
            buffer.write(
                f"{project_id}\tp{project_id}-{n}\t{data}\t{rng.randint(0, 9)}\t{state}\t0\t0\t0\t"
                f"{rng.random():.6f}\t{ordering}\t2026-01-01 00:00:00+00\n"
            )
            if (n + 1) % COPY_CHUNK == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())
    # Settle the table as a project is settled long after its import: vacuumed (autovacuum would
    # otherwise spend seconds of a core on it in the middle of the measurements) and
    # checkpointed (so the first writes to each page do not each log a full page image).
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {table}")
        cursor.execute("CHECKPOINT")  # needs a superuser or pg_checkpoint, as here
    return time.perf_counter() - started


def execution_ms(plan: list[str]) -> float:
    line = next((p for p in plan if "Execution Time" in p), "Execution Time: nan ms")
    return float(line.split(":")[1].split()[0])


def explain_next(project, annotator) -> list[str]:
    """EXPLAIN ANALYZE each next-item query (in a rolled-back transaction: they lock rows), in
    every ordering: the project is switched to each in turn and its items refiled, timed (what
    a lead changing the ordering waits for, in the background), then switched back."""
    from django.db import connection, transaction

    from labeling.annotate.queue import fresh_candidates, started_candidates
    from projects.items.filing import items_refile
    from projects.models import Item, Project

    def reorder(ordering: str) -> str:
        Project.objects.filter(pk=project.pk).update(ordering=ordering)
        project.ordering = ordering
        started = time.perf_counter()
        moved = items_refile(project_id=project.pk)
        return (
            f"    {ordering:<12} refiled {moved:,} items in {time.perf_counter() - started:.1f} s"
        )

    lines = []
    original = project.ordering
    for ordering in [original] + [o for o in Project.Ordering.values if o != original]:
        if ordering != project.ordering:
            lines.append(reorder(ordering))
        queries = [("started", started_candidates(project, annotator))] + [
            ("fresh", q) for q in fresh_candidates(project, annotator)
        ]
        for label, queryset in queries:
            runs = []
            for _ in range(EXPLAIN_RUNS):  # the machine is shared: keep the quickest run
                with transaction.atomic():
                    plan = (
                        queryset.select_for_update(skip_locked=True, of=("self",))[:1]
                        .explain(analyze=True)
                        .splitlines()
                    )
                    transaction.set_rollback(True)
                runs.append(plan)
            plan = min(runs, key=execution_ms)
            nodes = [
                line.strip().lstrip("-> ").split("  (")[0]
                for line in plan
                if "  (cost=" in line and "Scan" in line
            ]
            scan = next((n for n in nodes if "item_" in n), nodes[0] if nodes else "?")
            lines.append(f"    {ordering:<12} {label:<8} {scan:<62} {execution_ms(plan):6.3f} ms")
            if label == "fresh":
                break  # random's wrap-around half is only read when the first half is empty
    lines.append(reorder(original))
    # Each refile left a dead version of every row: vacuumed now, or autovacuum would work
    # through them during the next measurements.
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {Item._meta.db_table}")
    lines.append(f"    the refiles' dead rows vacuumed in {time.perf_counter() - started:.1f} s")
    return lines


def backend_cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) used so far by a PostgreSQL backend of this machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _annotator_loop(project_id, user_id, seconds, think, seed, start_at, out):
    """One annotator process: next (timed), submit (timed), think; until the time is up.
    Also sums the CPU the calls cost: this process's and its PostgreSQL backend's."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from labeling.annotate.queue import assignment_next
    from labeling.annotate.submit import annotation_submit
    from projects.models import Project

    project = Project.objects.get(pk=project_id)
    user = get_user_model().objects.get(pk=user_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend = cursor.fetchone()[0]
    rng = random.Random(seed)
    # A process's first cycles fill Django's and the queue's caches and open its connection,
    # as a web worker does once when it starts: they run before the clock, timed apart.
    warmup_times = []
    for _ in range(WARMUP):
        started = time.perf_counter()
        found = assignment_next(project=project, annotator=user)
        warmup_times.append(time.perf_counter() - started)
        if found is not None:
            annotation_submit(item=found.item, annotator=user, result=ANSWER)
    next_times, submit_times = [], []
    cpu = {"next": [0.0, 0.0, 0], "submit": [0.0, 0.0, 0]}  # [python, postgres, calls]
    # Annotators arrive at random moments, as they do (the burst below is the other extreme).
    time.sleep(max(0.0, start_at - time.time()) + (rng.uniform(0, think) if think else 0))
    stop = start_at + seconds
    while time.time() < stop:
        started, python = time.perf_counter(), time.process_time()
        postgres = backend_cpu_seconds(backend)
        found = assignment_next(project=project, annotator=user)
        next_times.append(time.perf_counter() - started)
        cpu["next"][0] += time.process_time() - python
        cpu["next"][1] += backend_cpu_seconds(backend) - postgres
        cpu["next"][2] += 1
        if found is None:
            break
        started, python = time.perf_counter(), time.process_time()
        postgres = backend_cpu_seconds(backend)
        annotation_submit(item=found.item, annotator=user, result=ANSWER)
        submit_times.append(time.perf_counter() - started)
        cpu["submit"][0] += time.process_time() - python
        cpu["submit"][1] += backend_cpu_seconds(backend) - postgres
        cpu["submit"][2] += 1
        if think:
            time.sleep(rng.expovariate(1 / think))
    connection.close()
    out.put((next_times, submit_times, cpu, warmup_times[:1]))


def _burst_loop(project_id, user_id, rounds, barrier, out):
    """One annotator process: `rounds` times, ask at the same instant as the others."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from labeling.annotate.queue import assignment_next
    from labeling.annotate.submit import annotation_submit
    from projects.models import Project

    project = Project.objects.get(pk=project_id)
    user = get_user_model().objects.get(pk=user_id)
    times = []
    for _ in range(rounds):
        barrier.wait()
        started = time.perf_counter()
        found = assignment_next(project=project, annotator=user)
        times.append(time.perf_counter() - started)
        if found is not None:
            annotation_submit(item=found.item, annotator=user, result=ANSWER)
    connection.close()
    out.put(times)


def _collect(processes, out, count) -> list:
    from django.db import connections

    results = [out.get() for _ in range(count)]
    for process in processes:
        process.join()
    connections.close_all()
    return results


def queue_concurrent(project, users, *, seconds: float, think: float) -> tuple:
    from django.db import connections

    connections.close_all()  # forked children must not share the parent's connection
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    start_at = time.time() + 3.0  # after every process has warmed up
    processes = [
        context.Process(
            target=_annotator_loop, args=(project.pk, u.pk, seconds, think, i, start_at, out)
        )
        for i, u in enumerate(users)
    ]
    for process in processes:
        process.start()
    results = _collect(processes, out, len(processes))
    cpu = {
        kind: [sum(r[2][kind][i] for r in results) for i in (0, 1, 2)]
        for kind in ("next", "submit")
    }
    firsts = [t for r in results for t in r[3]]
    return [t for r in results for t in r[0]], [t for r in results for t in r[1]], cpu, firsts


def queue_burst(project, users, *, rounds: int) -> list:
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    barrier = context.Barrier(len(users))
    processes = [
        context.Process(target=_burst_loop, args=(project.pk, u.pk, rounds, barrier, out))
        for u in users
    ]
    for process in processes:
        process.start()
    return [t for r in _collect(processes, out, len(processes)) for t in r]


def queue_size_run(size: int, args) -> None:
    from projects.models import Item

    project = project_make(f"queue bench {size:,}")
    seconds = items_copy(project.pk, size, done_share=0.5)
    users = annotators_make(project, ANNOTATORS, prefix=f"q{project.pk}")
    print(f"\n== {size:,} items, the first half already resolved (COPY {seconds:.1f}s)")
    alone_next, alone_submit, _, _ = queue_concurrent(project, users[:1], seconds=4, think=0)
    print("  1 annotator alone, back to back:")
    print(f"    next    {percentiles(alone_next)}")
    print(f"    submit  {percentiles(alone_submit)}")
    next_times, submit_times, cpu, firsts = queue_concurrent(
        project, users, seconds=args.seconds, think=args.think
    )
    rate = len(next_times) / args.seconds
    print(
        f"  {ANNOTATORS} annotators working (think ~{args.think}s): {rate:.0f} next+submit/s in all"
    )
    print(f"    next    {percentiles(next_times)}")
    print(f"    submit  {percentiles(submit_times)}")
    print(f"    (each process's very first next, before the clock: {percentiles(firsts)})")
    per_next = [1000 * c / max(cpu["next"][2], 1) for c in cpu["next"][:2]]
    per_submit = [1000 * c / max(cpu["submit"][2], 1) for c in cpu["submit"][:2]]
    cycle = sum(per_next) + sum(per_submit)
    print(
        f"    CPU per call (process + its PostgreSQL backend; inflated by the CPU contention): "
        f"next {per_next[0]:.1f} + {per_next[1]:.1f} ms, submit {per_submit[0]:.1f} + "
        f"{per_submit[1]:.1f} ms -> at most ~{2000 / cycle:.0f} next+submit/s on 2 free cores"
    )
    burst = queue_burst(project, users, rounds=args.burst_rounds)
    print(f"  {ANNOTATORS} annotators asking at the same instant ({args.burst_rounds} rounds):")
    print(f"    next    {percentiles(burst)}")
    over = Item.objects.filter(project=project, annotation_count__gt=project.overlap).count()
    print(f"  items with more annotations than the overlap: {over}")
    # Last: refiling the items for each ordering leaves dead rows the runs above should not meet.
    print("  EXPLAIN ANALYZE of the next-item queries (the items scan, database time, best of 3):")
    for line in explain_next(project, users[0]):
        print(line)


# ---- the API under the web server ---------------------------------------------------------------


def web_server_start(bench_url: str, port: int, workers: int, threads: int) -> subprocess.Popen:
    """The production web server (tests/loopback.py) on the bench database, ready."""
    from tests.loopback import web_server_start as start
    from tests.loopback import web_server_wait_ready

    log = Path(tempfile.mkdtemp(prefix="bench-queue-web-")) / "web-server.log"
    environment = {
        "DATABASE_URL": bench_url,
        "DEBUG": "0",
        "SECRET_KEY": "bench-queue-secret-key-not-for-production",
        "CONN_MAX_AGE": "600",
    }
    process = start(port, log, environment, workers=workers, threads=threads)
    web_server_wait_ready(f"http://127.0.0.1:{port}/health/", process, log)
    return process


class Client:
    """A tiny HTTP client (http.client, reconnecting) so the load generator stays light."""

    def __init__(self, port: int, token: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Token {token}", "Content-Type": "application/json"}

    def call(self, method: str, path: str, body=None) -> tuple[int, bytes]:
        payload = None if body is None else json.dumps(body)
        self.connection.request(method, path, body=payload, headers=self.headers)
        response = self.connection.getresponse()
        return response.status, response.read()


def tokens_for(users) -> list[str]:
    from projects.api_tokens import api_token_create

    return [api_token_create(user=u, name="bench", expires_in_days=1)[1] for u in users]


def api_run(port: int) -> None:
    from projects.models import Item

    project = project_make("api bench")
    items_copy(project.pk, 60_000)
    users = annotators_make(project, 8, prefix="api")
    tokens = tokens_for(users)
    item_ids = list(
        Item.objects.filter(project=project).order_by("id").values_list("id", flat=True)
    )

    # One client, one answer at a time.
    client = Client(port, tokens[0])
    times = []
    for item_id in item_ids[:300]:
        started = time.perf_counter()
        status, body = client.call("POST", f"/api/items/{item_id}/annotations/", {"result": ANSWER})
        times.append(time.perf_counter() - started)
        assert status == 201, (status, body[:200])
    print(f"  1 client submitting:      {percentiles(times)}  ({len(times) / sum(times):.0f}/s)")

    # 8 clients at once, each on its own items, for 20 seconds.
    remaining = item_ids[300:]
    per_client = [remaining[i::8] for i in range(8)]
    results: list[list[float]] = [[] for _ in range(8)]
    failures = []
    stop_at = time.time() + 20

    def submitter(index: int) -> None:
        client = Client(port, tokens[index])
        for item_id in per_client[index]:
            if time.time() >= stop_at:
                return
            started = time.perf_counter()
            status, body = client.call(
                "POST", f"/api/items/{item_id}/annotations/", {"result": ANSWER}
            )
            results[index].append(time.perf_counter() - started)
            if status != 201:
                failures.append((status, body[:200]))

    started = time.perf_counter()
    threads = [threading.Thread(target=submitter, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    flat = [t for r in results for t in r]
    print(
        f"  8 clients submitting:     {percentiles(flat)}  ({len(flat) / elapsed:.0f} annotations/s"
        f", {len(failures)} failed)"
    )

    # 8 annotators: next + submit over 200 items with overlap 1 (Label Studio's scenario).
    small = project_make("api bench next+submit")
    items_copy(small.pk, 200)
    crew = annotators_make(small, 8, prefix="crew")
    crew_tokens = tokens_for(crew)
    cycles: list[list[float]] = [[] for _ in range(8)]

    def worker(index: int) -> None:
        client = Client(port, crew_tokens[index])
        while True:
            started = time.perf_counter()
            status, body = client.call("GET", f"/api/projects/{small.pk}/next/")
            if status == 204:
                return
            item_id = json.loads(body)["item"]["id"]
            status, body = client.call(
                "POST", f"/api/items/{item_id}/annotations/", {"result": ANSWER}
            )
            cycles[index].append(time.perf_counter() - started)
            if status != 201:
                failures.append((status, body[:200]))

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    flat = [t for r in cycles for t in r]
    doubled = Item.objects.filter(project=small, annotation_count__gt=1).count()
    print(
        f"  8 annotators next+submit: {percentiles(flat)}  ({len(flat) / elapsed:.0f} cycles/s; "
        f"{len(flat)} answers for 200 items, {doubled} items handed to two annotators)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--seconds", type=float, default=20.0, help="per size, 32 annotators")
    parser.add_argument("--think", type=float, default=1.0, help="mean think time, seconds")
    parser.add_argument("--burst-rounds", type=int, default=5)
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--workers", type=int, default=2, help="web server processes")
    parser.add_argument("--threads", type=int, default=2, help="web server threads per worker")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()

    admin_url, bench_url, bench_name = bench_database_url(
        os.environ.get("DATABASE_URL") or DEFAULT_URL, "bench_queue"
    )
    database_recreate(admin_url, bench_name)
    os.environ["DATABASE_URL"] = bench_url
    os.environ["CELERY_BROKER_URL"] = ""
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-queue-secret-key-not-for-production")

    import django

    django.setup()
    print(
        f"bench_queue on {os.cpu_count()} cores, shared with other processes (load average "
        f"{os.getloadavg()[0]:.1f} at start): figures are under that load."
    )
    server = None
    try:
        tables_create()
        for size in [int(s) for s in args.sizes.split(",") if s]:
            queue_size_run(size, args)
        if not args.skip_api:
            from tests.loopback import free_port

            port = free_port()
            server = web_server_start(bench_url, port, args.workers, args.threads)
            print(
                f"\n== the API under the web server ({args.workers} workers x {args.threads} "
                "threads, CONN_MAX_AGE=600)"
            )
            api_run(port)
        print(f"\nFor comparison: {LABEL_STUDIO}.")
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
        print(f"peak RSS of the benchmark process: {peak_rss_mb():.0f} MB")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        if not args.keep:
            from django.db import connections

            connections.close_all()
            database_drop(admin_url, bench_name)


if __name__ == "__main__":
    main()
