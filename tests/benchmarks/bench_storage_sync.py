"""Benchmark: syncing an S3-compatible bucket of many image keys (issue 17's figure: 100k keys
listed and synced, images by reference, < 60 s; a re-sync with nothing new < 10 s).

The bucket is served by moto's standalone S3 server in a process of its own on 127.0.0.1 (a real
HTTP endpoint, the path boto3 takes to AWS or MinIO); its keys are put straight into that
process's store before it serves, since filling it over HTTP would take longer than the sync.
The database is a throw-away PostgreSQL one, `<DATABASE_URL's name>_bench_storage`.

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/quorum \\
        .venv/bin/python tests/benchmarks/bench_storage_sync.py [--keys 100000]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import bench_support

SERVER = r"""
import logging
import sys
from moto.s3.models import s3_backends
from moto.server import ThreadedMotoServer

count = int(sys.argv[1])
backend = s3_backends["123456789012"]["global"]
backend.create_bucket("bench-bucket", "us-east-1")
for n in range(count):
    backend.put_object("bench-bucket", f"frames/{n // 1000:04d}/frame-{n:07d}.jpg", b"x")
logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # serve until the benchmark closes our stdin
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=100_000)
    args = parser.parse_args()

    base_url = os.environ.get("DATABASE_URL", bench_support.DEFAULT_URL)
    admin, url, name = bench_support.bench_database_url(base_url, "bench_storage")
    bench_support.database_recreate(admin, name)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("CELERY_BROKER_URL", None)  # in-process: the sync itself is what is timed

    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(args.keys)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(server.stdout.readline())
        print(f"moto server with {args.keys} keys ready in {time.perf_counter() - started:.1f} s")
        run(endpoint=f"http://127.0.0.1:{port}", keys=args.keys)
    finally:
        server.stdin.close()
        server.wait(timeout=30)
        bench_support.database_drop(admin, name)


def run(*, endpoint: str, keys: int) -> None:
    import django

    django.setup()
    bench_support.tables_create()
    from labeling.integrations.storage import storage_create, storage_sync
    from projects.models import Item, Project

    project = Project.objects.create(
        name="bench",
        label_schema={
            "controls": [{"name": "label", "kind": "choice", "source": "image", "labels": ["a"]}]
        },
    )
    storage = storage_create(
        project=project,
        fields={
            "role": "source",
            "bucket": "bench-bucket",
            "prefix": "frames/",
            "endpoint_url": endpoint,
            "region": "us-east-1",
        },
        access_key="bench",
        secret_key="bench",
    )
    from labeling.integrations.storage import PAGE_SIZE, storage_client

    # The peer's own share: listing every key with boto3 and nothing else (moto's listing is
    # much slower than S3's or MinIO's, and grows with the bucket: it walks every key per page).
    started = time.perf_counter()
    pages = (
        storage_client(storage)
        .get_paginator("list_objects_v2")
        .paginate(Bucket="bench-bucket", Prefix="frames/", PaginationConfig={"PageSize": PAGE_SIZE})
    )
    listed = sum(len(page.get("Contents", ())) for page in pages)
    listing_s = time.perf_counter() - started
    print(f"listing only: {listed} keys in {listing_s:.1f} s (the S3 server's share)")
    started = time.perf_counter()
    if os.environ.get("BENCH_PROFILE"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        first = profiler.runcall(storage_sync, storage_id=storage.pk)
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(35)
    else:
        first = storage_sync(storage_id=storage.pk)
    first_s = time.perf_counter() - started
    assert first.created == keys, first
    started = time.perf_counter()
    again = storage_sync(storage_id=storage.pk)
    again_s = time.perf_counter() - started
    assert again.new == 0 and Item.objects.count() == keys
    print(
        f"first sync:  {keys} keys listed, {first.created} items created in {first_s:.1f} s"
        f" ({keys / first_s:,.0f} keys/s; target for 100k: < 60 s)"
    )
    print(
        f"re-sync:     {again.seen} keys listed, nothing new, in {again_s:.1f} s"
        f" (target for 100k: < 10 s)"
    )
    print(
        "Quorum's share (the sync's time less its waits for pages): first sync"
        f" {first_s - first.listing_seconds:.1f} s, re-sync {again_s - again.listing_seconds:.1f} s"
    )
    print(f"peak RSS of the syncing process: {bench_support.peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
