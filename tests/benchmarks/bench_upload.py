"""Benchmark: one large import upload (default 300 MB of JSONL) through a real web server worker,
with a Content-Length and chunked (no Content-Length), to local disk and to S3 (moto's server on
127.0.0.1). Prints the time to the 202, the throughput and how much the worker's peak resident
memory (VmHWM) grew during the upload: flat means the body went to storage in chunks.

The jobs are only stored, not run: the broker (Redis) takes their message and no worker reads it
(the queue is purged at the end). A throw-away database `<DATABASE_URL's name>_bench_upload`
holds the rows. --tree names the checkout the web server runs (default this one), to compare with
another (e.g. /work/main, before uploads were streamed).

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/quorum \
    QUORUM_TEST_BROKER_URL=redis://127.0.0.1:6379/15 \
        .venv/bin/python tests/benchmarks/bench_upload.py --mb 300
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
import requests
from bench_support import DEFAULT_URL, ROOT, bench_database_url, database_drop, database_recreate

DEFAULT_BROKER = "redis://127.0.0.1:6379/15"
BOUNDARY = "quorum-bench-boundary"
PIECE = 1024 * 1024


def body_write(path: Path, megabytes: int) -> int:
    """A multipart body with one JSONL file of about `megabytes` MB; its content size."""
    line = b'{"external_id": "r%d", "text": "' + b"lorem ipsum dolor sit amet " * 7 + b'"}\n'
    size = 0
    with path.open("wb") as out:
        out.write(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
            'filename="big.jsonl"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
        )
        n = 0
        while size < megabytes * 1024 * 1024:
            row = line % n
            out.write(row)
            size += len(row)
            n += 1
        out.write(f"\r\n--{BOUNDARY}--\r\n".encode())
    return size


def peak_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def server_start(*, tree: Path, env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    """The production web server (tests/loopback.py), one worker, serving `tree`."""
    from tests.loopback import free_port, web_server_start, web_server_wait_ready

    port = free_port()
    process = web_server_start(port, log, env, code=tree)
    base = f"http://127.0.0.1:{port}"
    web_server_wait_ready(f"{base}/health/", process, log)
    return process, base


def upload(base: str, token: str, project_id: int, body: Path, *, chunked: bool) -> float | str:
    """The seconds to the 202, or what the server answered instead."""
    headers = {
        "Authorization": f"Token {token}",
        "Content-Type": f"multipart/form-data; boundary={BOUNDARY}",
    }

    def pieces():
        with body.open("rb") as stream:
            while piece := stream.read(PIECE):
                yield piece

    started = time.perf_counter()
    with body.open("rb") as stream:
        response = requests.post(
            f"{base}/api/projects/{project_id}/imports/",
            data=pieces() if chunked else stream,
            headers=headers,
            timeout=600,
        )
    elapsed = time.perf_counter() - started
    if response.status_code != 202:
        return f"answered {response.status_code}: {response.text[:200]}"
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=300)
    parser.add_argument("--tree", type=Path, default=ROOT)
    parser.add_argument("--no-s3", action="store_true")
    args = parser.parse_args()
    base_url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    broker = os.environ.get("QUORUM_TEST_BROKER_URL", DEFAULT_BROKER)
    admin, bench_url, name = bench_database_url(base_url, "bench_upload")
    database_recreate(admin, name)
    os.environ["DATABASE_URL"] = bench_url
    os.environ["CELERY_BROKER_URL"] = broker
    import django

    django.setup()
    from bench_support import tables_create

    from labeling.site.celery import app as celery_app
    from projects.models import Membership
    from tests.factories import (
        MembershipFactory,
        ProjectFactory,
        UserFactory,
        api_token_secret,
    )

    tables_create()
    lead = UserFactory(username="bench-lead")
    project = ProjectFactory(created_by=lead)
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    token = api_token_secret(lead)
    load = os.getloadavg()[0]
    print(f"upload of {args.mb} MB through one web server worker, code of {args.tree}")
    print(f"load average at start: {load:.1f} on {os.cpu_count()} CPUs")
    s3 = None
    try:
        with tempfile.TemporaryDirectory(prefix="bench-upload-") as scratch:
            body = Path(scratch) / "body"
            size = body_write(body, args.mb)
            storages = [("local disk", {"MEDIA_ROOT": str(Path(scratch) / "media")})]
            if not args.no_s3:
                from tests.labeling.integrations.s3_server import (
                    ACCESS_KEY,
                    REGION,
                    SECRET_KEY,
                    s3_client,
                    s3_server,
                )

                s3 = s3_server()
                endpoint = s3.__enter__()
                s3_client(endpoint).create_bucket(Bucket="bench")
                storages.append(
                    (
                        "S3 (moto)",
                        {
                            "S3_BUCKET": "bench",
                            "S3_ENDPOINT_URL": endpoint,
                            "S3_ACCESS_KEY": ACCESS_KEY,
                            "S3_SECRET_KEY": SECRET_KEY,
                            "S3_REGION": REGION,
                        },
                    )
                )
            for label, storage_env in storages:
                env = {
                    "DATABASE_URL": bench_url,
                    "CELERY_BROKER_URL": broker,
                    "SECRET_KEY": "bench-upload",
                    "DEBUG": "false",
                    "ALLOWED_HOSTS": "127.0.0.1",
                    "IMPORT_MAX_FILE_BYTES": str(4 * 1024**3),
                    **storage_env,
                }
                log = Path(scratch) / "web-server.log"
                process, base = server_start(tree=args.tree, env=env, log=log)
                try:
                    [worker] = psutil.Process(process.pid).children()
                    for chunked in (False, True):
                        before = peak_kb(worker.pid)
                        seconds = upload(base, token, project.pk, body, chunked=chunked)
                        grown = (peak_kb(worker.pid) - before) / 1024
                        how = "chunked, no Content-Length" if chunked else "with Content-Length"
                        if isinstance(seconds, str):
                            print(f"{label}, {how}: {seconds}")
                            if "500" in seconds:
                                print(log.read_text()[-2000:])
                            continue
                        print(
                            f"{label}, {how}: {seconds:.1f} s ({size / seconds / 1e6:.0f} MB/s); "
                            f"worker peak RSS grew by {grown:.0f} MB "
                            f"(peak {peak_kb(worker.pid) / 1024:.0f} MB)"
                        )
                finally:
                    process.terminate()
                    process.wait(timeout=30)
    finally:
        if s3 is not None:
            s3.__exit__(None, None, None)
        with celery_app.connection_for_write(broker) as conn:
            celery_app.control.purge(connection=conn)
        from django.db import connections

        connections.close_all()
        database_drop(admin, name)


if __name__ == "__main__":
    main()
