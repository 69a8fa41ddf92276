"""Test peers served on 127.0.0.1 (port 0, a free one) in a thread: webhook receivers, model
backends, media servers; and the site itself under its web server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that keeps the test output free of its access log."""

    def log_message(self, *args):
        pass


def loopback_serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def loopback_stop(server: ThreadingHTTPServer | None) -> None:
    if server is not None:
        server.shutdown()
        server.server_close()


# --- the site itself under its web server, for what only a real server shows ---------------------

REPO = Path(__file__).resolve().parents[1]
GRANIAN = Path(sys.executable).with_name("granian")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def web_server_command(
    port: int, *, workers: int = 1, threads: int = 4, code: Path = REPO
) -> list[str]:
    """The production web server (docker-compose's `web`) on 127.0.0.1:port: Granian serving
    `labeling.site.web_server`, `workers` processes of `threads` threads each. `code`: the
    checkout served (a benchmark may compare an older one, from before that entry existed)."""
    entry = (
        "labeling.site.web_server:application"
        if (code / "labeling/site/web_server.py").exists()
        else "labeling.site.wsgi:application"
    )
    return [
        str(GRANIAN),
        "--interface",
        "wsgi",
        entry,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--blocking-threads",
        str(threads),
        "--no-ws",
        "--log-level",
        "warning",
    ]


def web_server_start(
    port: int,
    log: Path,
    environment: dict[str, str],
    *,
    workers: int = 1,
    threads: int = 4,
    code: Path = REPO,
) -> subprocess.Popen:
    """The web server serving the checkout `code` (default this one) on 127.0.0.1:port, its
    output in log; `environment` adds to (or overrides) this process's environment."""
    return subprocess.Popen(
        web_server_command(port, workers=workers, threads=threads, code=code),
        cwd=code,
        # PYTHONPATH: the served checkout's code, whatever the virtualenv points at
        env={**os.environ, "PYTHONPATH": str(code), **environment},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def web_server_wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    """Until `url` answers (any status); the server's log in the failure if it never does."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {log.read_text()}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise AssertionError(f"server not ready: {log.read_text()}")
