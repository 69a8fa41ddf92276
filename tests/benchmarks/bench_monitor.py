"""Benchmark: model monitoring (labeling/monitor) on PostgreSQL.

Builds a throw-away database `<DATABASE_URL's name>_bench_monitor`; Redis (QUORUM_TEST_BROKER_URL,
default db 15) is the broker and the cache, as in production. Prints:

- routing: the in-process routing decision with a rule set of 10 rules (conditions on score,
  label, model version and metadata, sampling, one capped), microseconds per event (target < 50);
- bulk ingest of a JSONL upload of --events events (issue: 1,000,000) as an import job: `bulk`, a
  real Celery worker (`--concurrency` pool processes, Celery's default one per CPU) imports its
  chunks in parallel, timed from the enqueue to the job marked done, with the pool process's peak
  RSS; `bulk-inprocess`, the same job's chunks one after another in this process (what one pool
  process does) (targets >= 50,000 events/s, < 300 MB);
- single-call ingest: one event per POST, 8 client processes at once against the production web
  server (Granian; --web: workers x threads, default 2x2), each sending its next event as soon
  as the last is answered (the target's reading), then at a fixed rate of all of them together
  (--rates, calls/s; default 0,200): p50/p95/p99 (target p99 < 25 ms), and the CPU each call
  cost the web processes, PostgreSQL and the clients; then the same of the calls whose event
  was routed (each makes an item: the tail). The clients build their requests before
  the clock starts and read the answers off the socket, as load generators (wrk, hey) do, so
  the 2 cores go to the server, not to encoding JSON in the clients;
- the model health page and the metrics API on a project of --volume events (COPY; issue: 10M)
  with --labeled labeled events (issue: 100k): the worker's full rollup refresh time, then p95 of
  the page and the API (target < 500 ms).

The machine has 2 cores shared with other work: each figure comes with the load average.

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/quorum \\
    QUORUM_TEST_BROKER_URL=redis://127.0.0.1:6379/15 \\
        python tests/benchmarks/bench_monitor.py [--events 1000000] [--volume 10000000] \\
        [--labeled 100000] [--calls 2000] [--rates 0,200] [--web 2x2] \\
        [--only routing,bulk,bulk-inprocess,single,volume]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
from bench_support import (
    DEFAULT_URL,
    RssWatcher,
    bench_database_url,
    checkpoint,
    database_drop,
    database_recreate,
    peak_rss_of,
    peak_rss_reset,
    tables_create,
)

DEFAULT_BROKER = "redis://127.0.0.1:6379/15"

SCHEMA = {
    "controls": [
        {"name": "label", "kind": "choice", "source": "text", "labels": [str(d) for d in range(10)]}
    ]
}
START = datetime(2026, 1, 1, tzinfo=UTC)
RULES = [
    {"field": "score", "op": "<", "value": 0.3},
    {
        "all": [
            {"field": "score", "op": "<", "value": 0.6},
            {"field": "label", "op": "in", "value": ["3", "5", "8"]},
        ]
    },
    {"field": "metadata.region", "op": "=", "value": "apac"},
    {
        "any": [
            {"field": "metadata.amount", "op": ">", "value": 900},
            {"field": "metadata.tier", "op": "in", "value": ["gold", "platinum"]},
        ]
    },
    {"not": {"field": "model_version", "op": "in", "value": ["v1", "v2"]}},
    {"field": "label", "op": "=", "value": "7"},
    {
        "all": [
            {"field": "score", "op": ">", "value": 0.95},
            {"field": "metadata.region", "op": "=", "value": "eu"},
        ]
    },
    {"field": "metadata.amount", "op": "<", "value": 5},
    {
        "any": [
            {"field": "label", "op": "=", "value": "1"},
            {"field": "score", "op": "<", "value": 0.1},
        ]
    },
    {},
]


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))] * 1000

    return (
        f"p50 {at(0.50):6.1f} ms  p95 {at(0.95):6.1f} ms  p99 {at(0.99):6.1f} ms  "
        f"(n={len(ordered)})"
    )


def event(n: int, rng: random.Random, *, start: datetime = START, per_second: float = 100.0):
    return {
        "event_id": f"ev-{n}",
        "timestamp": (start + timedelta(seconds=n / per_second)).isoformat(),
        "model_version": rng.choice(["v1", "v2", "v3"]),
        "data": {"text": f"input number {n}"},
        "result": {"label": str(rng.randrange(10))},
        "score": round(rng.random(), 4),
        "metadata": {
            "region": rng.choice(["eu", "us", "apac"]),
            "tier": rng.choice(["free", "gold", "platinum"]),
            "amount": rng.randrange(1000),
        },
    }


def project_make(name: str, *, baseline: float = 0.01, rules: bool = True):
    from django.contrib.auth import get_user_model

    from labeling.monitor.models import RoutingRule
    from projects.models import Membership, Project

    lead, _ = get_user_model().objects.get_or_create(username="bench-lead", is_superuser=True)
    project = Project.objects.create(
        name=name, label_schema=SCHEMA, created_by=lead, monitor_baseline_rate=baseline
    )
    Membership.objects.create(project=project, user=lead, role=Membership.Role.LEAD)
    if rules:
        RoutingRule.objects.create(
            project=project,
            name="low",
            condition=RULES[0],
            sample_rate=0.05,
            cap_per_day=2000,
            priority=3,
        )
        RoutingRule.objects.create(
            project=project, name="apac", condition=RULES[2], sample_rate=0.001, priority=1
        )
    return project, lead


def routing_run(count: int) -> None:
    from labeling.monitor.routing import CapCounter, RuleSet

    class Rule:
        def __init__(self, n, condition):
            self.id, self.condition, self.priority = n, condition, 10 - n
            self.sample_rate = 0.05 if n % 2 else 1.0
            self.cap_per_day = 500 if n == 0 else None
            self.cap_per_hour = None

    rules = RuleSet([Rule(n, c) for n, c in enumerate(RULES)], baseline_rate=0.01)
    rng = random.Random(1)
    rows = []
    for n in range(count):
        e = event(n, rng)
        rows.append(
            (e["event_id"], e["score"], e["result"]["label"], e["model_version"], e["metadata"])
        )
    hour = START
    caps = CapCounter()
    begin = time.perf_counter()
    for event_id, score, label, version, metadata in rows:
        rules.route(
            event_id=event_id,
            score=score,
            label=label,
            model_version=version,
            metadata=metadata,
            hour=hour,
            caps=caps,
        )
    elapsed = time.perf_counter() - begin
    print(f"routing, 10 rules: {elapsed / count * 1e6:.1f} µs per event over {count:,} events")


def events_file_write(path: Path, count: int) -> None:
    rng = random.Random(2)
    with path.open("w", encoding="utf-8") as f:
        for n in range(count):
            f.write(json.dumps(event(n, rng)) + "\n")


def upload_job_create(project, lead, path: Path):
    from django.core.files import File

    from labeling.monitor.uploads import event_upload_create

    with path.open("rb") as f:
        return event_upload_create(project=project, user=lead, upload=File(f, name=path.name))


def bulk_line(what: str, count: int, elapsed: float, job, memory: str, planned_from) -> str:
    ok = job.status == "done" and job.created_count == count
    return (
        f"bulk ingest ({what}): {count:,} events in {elapsed:.1f} s = {count / elapsed:,.0f} "
        f"events/s; {job.chunk_count} chunks; created {job.created_count:,}, routed "
        f"{job.options.get('routed', 0):,}, failed {job.failed_count}; planned in "
        f"{(job.started_at - planned_from).total_seconds():.1f} s, chunks imported in "
        f"{(job.finished_at - job.started_at).total_seconds():.1f} s; {memory}"
        + ("" if ok else f"  !! job {job.status}: {job.message}")
    )


def job_wait(job_id: int, timeout: float = 1800):
    from projects.models import ImportJob

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = ImportJob.objects.get(pk=job_id)
        if job.is_finished:
            return job
        time.sleep(0.05)
    raise SystemExit(f"upload job {job_id} did not finish in {timeout} s")


def bulk_worker_run(path: Path, count: int, workers, concurrency: int) -> None:
    """The upload as production runs it: a real Celery worker imports the file's chunks, one
    per pool process at a time; timed from the enqueue to the job marked done."""
    from django.db import transaction

    from projects.tasks import import_job_enqueue

    project, lead = project_make("bench bulk worker")
    job = upload_job_create(project, lead, path)
    worker = workers.start(concurrency=concurrency)
    checkpoint()
    try:
        watcher = RssWatcher(worker.pid)
        watcher.start()
        load = os.getloadavg()[0]
        begin, enqueued = time.perf_counter(), datetime.now(UTC)
        with transaction.atomic():
            import_job_enqueue(job.pk)
        job = job_wait(job.pk)
        elapsed = time.perf_counter() - begin
        watcher.stop()
    finally:
        workers.stop(worker)
    memory = (
        f"peak RSS pool process {watcher.peak_pool / 2**20:.0f} MB, main process "
        f"{watcher.peak_main / 2**20:.0f} MB; load average before {load:.1f}"
    )
    what = f"Celery worker, concurrency {concurrency}"
    print(bulk_line(what, count, elapsed, job, memory, enqueued))


def bulk_inprocess_run(path: Path, count: int) -> None:
    """The same job's chunks one after another in this process (what one pool process does),
    with this process's peak RSS over the run."""
    from projects.imports.jobs import import_chunk_run, import_job_plan
    from projects.models import ImportJob

    project, lead = project_make("bench bulk in-process")
    job = upload_job_create(project, lead, path)
    checkpoint()
    peak_rss_reset()
    load = os.getloadavg()[0]
    begin, started = time.perf_counter(), datetime.now(UTC)
    for chunk_id in import_job_plan(job_id=job.pk):
        import_chunk_run(chunk_id=chunk_id)
    elapsed = time.perf_counter() - begin
    job = ImportJob.objects.get(pk=job.pk)
    peak = peak_rss_of(psutil.Process()) / 2**20
    memory = f"peak RSS {peak:.0f} MB; load average before {load:.1f}"
    print(bulk_line("one process, chunks in turn", count, elapsed, job, memory, started))


def cpu_seconds(processes) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def database_backends() -> list:
    """The PostgreSQL backends serving the bench database, this process's own left out."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [psutil.Process(pid) for (pid,) in cursor.fetchall()]


def single_client(
    port: int, path: str, token: str, index: int, calls: int, start, interval: float, out
) -> None:
    """One client process: SINGLE_WARM_UP untimed calls (the server's threads open their
    connections and fill their caches), then `calls` POSTs of one event each on one kept-alive
    connection, as fast as the answers come, or (`interval` > 0) one every `interval` seconds
    on a fixed schedule, each timed from its scheduled moment (a late answer delays the next
    call, and the delay counts); its latencies go to `out`."""
    import socket

    def connect() -> socket.socket:
        connection = socket.create_connection(("127.0.0.1", port), timeout=30)
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return connection

    rng = random.Random(index)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Token {token}\r\n"
        "Content-Type: application/json\r\nContent-Length: "
    )
    requests = []
    for k in range(calls + SINGLE_WARM_UP):
        body = json.dumps([event(index * 10**7 + k, rng, start=start, per_second=1e6)]).encode()
        requests.append(f"{head}{len(body)}\r\n\r\n".encode() + body)
    connection, pending = connect(), b""
    mine = []
    scheduled = None
    for k, request in enumerate(requests):
        if interval and k >= SINGLE_WARM_UP:
            if scheduled is None:  # clients start their schedules apart, as servers would
                scheduled = time.perf_counter() + interval * index / 8
            scheduled += interval
            time.sleep(max(0.0, scheduled - time.perf_counter()))
            begin = scheduled
        else:
            begin = time.perf_counter()
        connection.sendall(request)
        while b"\r\n\r\n" not in pending:
            pending += connection.recv(65536)
        head_bytes, _, pending = pending.partition(b"\r\n\r\n")
        headers = head_bytes.lower()
        length = int(headers.split(b"content-length:")[1].split(b"\r\n")[0])
        while len(pending) < length:
            pending += connection.recv(65536)
        answer, pending = pending[:length], pending[length:]
        assert head_bytes[9:12] == b"201", head_bytes
        if b"connection: close" in headers:
            connection.close()
            connection, pending = connect(), b""
        if k >= SINGLE_WARM_UP:
            mine.append((time.perf_counter() - begin, b'"routed":0' not in answer))
    out.put(mine)


SINGLE_WARM_UP = 50


def single_call_run(
    bench_url: str, calls: int, *, shape: tuple[int, int], clients: int = 8, rate: float = 0.0
) -> None:
    """Each client is a process of its own, as model servers are: client threads of one process
    would queue behind that process's GIL, and count the wait as the server's. `rate`: calls
    per second of all clients together on a fixed schedule; 0: each as fast as it is answered."""
    import multiprocessing
    import resource

    from projects.api_tokens import api_token_create
    from tests.loopback import free_port, web_server_start, web_server_wait_ready

    project, lead = project_make("bench single")
    token = api_token_create(user=lead, name="bench", expires_in_days=1)[1]
    port = free_port()
    scratch = Path(tempfile.mkdtemp(prefix="bench-monitor-web-"))
    log = scratch / "web-server.log"
    server = web_server_start(
        port,
        log,
        {"DATABASE_URL": bench_url, "DEBUG": "0", "CONN_MAX_AGE": "600"},
        workers=shape[0],
        threads=shape[1],
    )
    web_server_wait_ready(f"http://127.0.0.1:{port}/health/", server, log)
    now = datetime.now(UTC) - timedelta(hours=1)
    path = f"/api/projects/{project.pk}/monitor/events/"
    context = multiprocessing.get_context("fork")  # the clients touch no database
    out = context.Queue()
    per_client = calls // clients
    processes = [
        context.Process(
            target=single_client,
            args=(port, path, token, i, per_client, now, clients / rate if rate else 0.0, out),
        )
        for i in range(clients)
    ]
    try:
        load = os.getloadavg()[0]
        web, database = psutil.Process(server.pid), database_backends()
        before = (cpu_seconds([web, *web.children()]), cpu_seconds(database))
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        begin = time.perf_counter()
        for p in processes:
            p.start()
        timed = [call for _ in processes for call in out.get(timeout=600)]
        latencies = [latency for latency, _ in timed]
        routed = [latency for latency, routed in timed if routed]
        elapsed = time.perf_counter() - begin
        for p in processes:
            p.join()
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        # Connections the workers opened during the run count from zero.
        database = database_backends()
        after = (cpu_seconds([web, *web.children()]), cpu_seconds(database))
        done = (per_client + SINGLE_WARM_UP) * clients
        web_ms, db_ms = ((a - b) / done * 1000 for a, b in zip(after, before, strict=True))
        clients_ms = (
            (
                (children.ru_utime + children.ru_stime)
                - (children_before.ru_utime + children_before.ru_stime)
            )
            / done
            * 1000
        )
        print(
            f"single-call ingest, {clients} client processes "
            f"({f'{rate:,.0f} calls/s in all' if rate else 'each as fast as answered'}), "
            f"web server {shape[0]} workers x {shape[1]} threads: "
            f"{percentiles(latencies)}; {len(latencies) / elapsed:,.0f} calls/s; CPU per call: "
            f"web {web_ms:.1f} ms, PostgreSQL {db_ms:.1f} ms, the clients {clients_ms:.1f} ms; "
            f"load average before {load:.1f}"
        )
        if routed:  # a routed event's call also makes its item: the slowest calls
            print(f"  the {len(routed)} calls whose event was routed: {percentiles(routed)}")
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(scratch, ignore_errors=True)


def volume_fill(project, volume: int, labeled: int) -> None:
    """COPY `volume` events over 30 days (3 versions), their hourly counts, and `labeled`
    labeled events (a third baseline, the rest rule-routed), as ingest would have left them."""
    from django.db import connection

    from labeling.monitor.models import ModelVersion, MonitoredModel
    from labeling.monitor.stats import score_bin

    model = MonitoredModel.objects.create(project=project, name="default")
    versions = [
        ModelVersion.objects.create(project=project, model=model, version=v, first_seen_at=START)
        for v in ("v1", "v2", "v3")
    ]
    rng = random.Random(3)
    span = 30 * 86400
    counts: dict[tuple, int] = {}
    labeled_every = max(volume // labeled, 1)
    now = datetime.now(UTC).isoformat()
    with connection.cursor() as cursor:
        raw = cursor.connection
        columns = (
            "project_id, event_id, timestamp, version_id, data, result, label, score, metadata,"
            " baseline, inclusion_probability, actual_label"
        )
        labeled_rows = []
        for start in range(0, volume, 200_000):
            out = io.StringIO()
            for n in range(start, min(start + 200_000, volume)):
                at = START + timedelta(seconds=n * span / volume)
                version = versions[n * 3 // volume]
                label = str(rng.randrange(10))
                score = rng.random()
                region = rng.choice(("eu", "us", "apac"))
                is_labeled = n % labeled_every == 0
                baseline = is_labeled and n % 3 == 0
                probability = 0.01 if baseline else (0.5 if is_labeled else 0.0)
                out.write(
                    f"{project.pk}\tev-{n}\t{at.isoformat()}\t{version.pk}\t"
                    f'{{"text": "input {n}"}}\t{{"label": "{label}"}}\t{label}\t{score:.4f}\t'
                    f'{{"region": "{region}"}}\t{"t" if baseline else "f"}\t{probability}\t\n'
                )
                hour = at.replace(minute=0, second=0, microsecond=0)
                for kind, key in (("label", label), ("score", str(score_bin(score)))):
                    k = (version.pk, hour, kind, key)
                    counts[k] = counts.get(k, 0) + 1
                if is_labeled and len(labeled_rows) < labeled:
                    truth = label if rng.random() < 0.8 else str(rng.randrange(10))
                    labeled_rows.append(
                        (n, version.pk, at, label, truth, score, probability, baseline, region)
                    )
            with raw.cursor().copy(f"COPY monitor_predictionevent ({columns}) FROM STDIN") as copy:
                copy.write(out.getvalue())
        cursor.execute(
            "SELECT event_id, id FROM monitor_predictionevent WHERE project_id = %s AND "
            "event_id = ANY(%s)",
            [project.pk, [f"ev-{row[0]}" for row in labeled_rows]],
        )
        ids = dict(cursor.fetchall())
        out = io.StringIO()
        for n, version_id, at, label, truth, score, probability, baseline, region in labeled_rows:
            out.write(
                f"{project.pk}\t{ids[f'ev-{n}']}\t{version_id}\t{at.isoformat()}\t{label}\t"
                f"{truth}\t\t{score:.4f}\t{1 / probability}\t{'f' if baseline else 't'}\t"
                f'{"t" if baseline else "f"}\t{{"region": "{region}"}}\t{now}\n'
            )
        with raw.cursor().copy(
            "COPY monitor_labeledevent (project_id, event_id, version_id, timestamp, predicted,"
            " human, actual, score, weight, routed_by_rule, baseline, metadata, changed_at)"
            " FROM STDIN"
        ) as copy:
            copy.write(out.getvalue())
        out = io.StringIO()
        for (version_id, hour, kind, key), count in counts.items():
            out.write(
                f"{project.pk}\t{version_id}\t{hour.isoformat()}\t{kind}\t{key}\t{count}"
                f"\t0\t{now}\n"
            )
        with raw.cursor().copy(
            "COPY monitor_eventcount (project_id, version_id, hour, kind, key, count, routed,"
            " changed_at) FROM STDIN"
        ) as copy:
            copy.write(out.getvalue())
        # As autovacuum leaves the BRIN index during steady ingest (autosummarize): COPY
        # fills all its ranges before a summarization request could run.
        cursor.execute("SELECT brin_summarize_new_values('monitor_predictionevent_time_brin')")
        cursor.execute("ANALYZE")


def volume_run(volume: int, labeled: int, requests: int = 40) -> None:
    from django.test import Client

    from labeling.monitor.rollups import monitor_rollups_refresh

    project, lead = project_make("bench volume", rules=False)
    begin = time.perf_counter()
    volume_fill(project, volume, labeled)
    print(
        f"volume: {volume:,} events and {labeled:,} labeled events loaded by COPY in "
        f"{time.perf_counter() - begin:.0f} s"
    )
    begin = time.perf_counter()
    buckets = monitor_rollups_refresh(project_id=project.pk, full=True)
    print(
        f"rollups, full refresh by the worker: {buckets} buckets in "
        f"{time.perf_counter() - begin:.1f} s"
    )
    client = Client()
    client.force_login(lead)
    from django.conf import settings
    from django.test import override_settings

    # Pages render {% static %}; without collectstatic's manifest, plain static storage.
    plain = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    with override_settings(STORAGES=plain):
        pages_time(client, project, requests)


def pages_time(client, project, requests: int) -> None:
    for name, path in (
        ("model health page, day", f"/projects/{project.pk}/monitor/"),
        ("model health page, hour", f"/projects/{project.pk}/monitor/?bucket=hour"),
        ("metrics API, day", f"/api/projects/{project.pk}/monitor/metrics/?bucket=day"),
        (
            "metrics API, hour, one version",
            f"/api/projects/{project.pk}/monitor/metrics/?bucket=hour&model_version=v2",
        ),
        (
            "events API, one version, a day",
            f"/api/projects/{project.pk}/monitor/events/?model_version=v2"
            f"&since=2026-01-15T00:00:00Z&until=2026-01-16T00:00:00Z",
        ),
        ("events API, the newest", f"/api/projects/{project.pk}/monitor/events/"),
        ("events API, routed", f"/api/projects/{project.pk}/monitor/events/?routed=true"),
        ("alerts API", f"/api/projects/{project.pk}/monitor/alerts/"),
    ):
        times = []
        for k in range(requests + 2):
            begin = time.perf_counter()
            response = client.get(path, HTTP_HOST="127.0.0.1")
            assert response.status_code == 200, (path, response.status_code)
            if k >= 2:
                times.append(time.perf_counter() - begin)
        print(f"{name}: {percentiles(times)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--routing-events", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=1_000_000, help="bulk ingest file size")
    parser.add_argument("--calls", type=int, default=2000, help="single-call ingest requests")
    parser.add_argument(
        "--rates",
        default="0,200",
        help="single-call ingest: the clients' calls per second in all, a run each (0: as fast "
        "as answered)",
    )
    parser.add_argument(
        "--web",
        default="2x2",
        help="single-call ingest: the web server's workers x threads per worker",
    )
    parser.add_argument("--volume", type=int, default=10_000_000, help="events for page figures")
    parser.add_argument("--labeled", type=int, default=100_000)
    # Celery's own default: one pool process per CPU.
    parser.add_argument("--concurrency", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--only",
        default="routing,bulk,bulk-inprocess,single,volume",
        help="bulk: a Celery worker imports the upload; bulk-inprocess: its chunks in turn here",
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()
    shape = tuple(int(n) for n in args.web.split("x"))
    parts = set(args.only.split(","))

    admin_url, bench_url, bench_name = bench_database_url(
        os.environ.get("DATABASE_URL") or DEFAULT_URL, "bench_monitor"
    )
    database_recreate(admin_url, bench_name)
    work = Path(tempfile.mkdtemp(prefix="bench-monitor-"))
    broker = os.environ.get("QUORUM_TEST_BROKER_URL", DEFAULT_BROKER)
    media = work / "media"
    # The production shape: Redis as broker and cache (the cache follows the broker).
    os.environ.update(
        DATABASE_URL=bench_url, CELERY_BROKER_URL=broker, MEDIA_ROOT=str(media), DEBUG="0"
    )
    os.environ.setdefault("SECRET_KEY", "bench-monitor-secret-key-not-for-production")

    import django

    django.setup()
    print(f"bench_monitor on {os.cpu_count()} cores (load average {os.getloadavg()[0]:.1f})")
    try:
        tables_create()  # the migrations make the events' BRIN index
        if "routing" in parts:
            routing_run(args.routing_events)
        if parts & {"bulk", "bulk-inprocess"}:
            path = work / "events.jsonl"
            events_file_write(path, args.events)
            if "bulk" in parts:
                from tests.celery_worker import CeleryWorkers

                workers = CeleryWorkers(
                    broker_url=broker, database_url=bench_url, media_root=media, log_dir=work
                )
                workers.purge()
                bulk_worker_run(path, args.events, workers, args.concurrency)
            if "bulk-inprocess" in parts:
                bulk_inprocess_run(path, args.events)
            path.unlink()
        if "single" in parts:
            for rate in args.rates.split(","):
                single_call_run(bench_url, args.calls, shape=shape, rate=float(rate))
        if "volume" in parts:
            volume_run(args.volume, args.labeled)
        print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            database_drop(admin_url, bench_name)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
