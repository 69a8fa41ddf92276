"""Test peers served on 127.0.0.1 (port 0, a free one) in a thread: webhook receivers, model
backends, media servers; and the site itself under gunicorn."""

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


# --- the site itself under gunicorn, for what only a real server shows -------------------------

REPO = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def gunicorn_start(port: int, log: Path, environment: dict[str, str]) -> subprocess.Popen:
    """One gunicorn worker serving this checkout's code on 127.0.0.1:port, its output in log;
    `environment` adds to (or overrides) this process's environment."""
    return subprocess.Popen(
        [str(GUNICORN), "labeling.site.wsgi:application", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", "1", "--timeout", "120"],
        cwd=REPO,
        # PYTHONPATH: this checkout's code, whatever the virtualenv points at
        env={**os.environ, "PYTHONPATH": str(REPO), **environment},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def gunicorn_wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
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
