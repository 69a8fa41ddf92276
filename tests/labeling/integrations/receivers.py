"""A real HTTP receiver on 127.0.0.1 (port 0) for webhook tests: records every request, and
can answer errors for its first N requests (a receiver that fails, then recovers)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer

from tests.loopback import QuietHandler, loopback_serve, loopback_stop


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    answered: int

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    fail_first: int = 0
    fail_status: int = 500
    requests: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/hook"

    def start(self) -> Receiver:
        receiver = self

        class Handler(QuietHandler):
            def do_POST(self):  # noqa: N802 (the http.server API)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with receiver.lock:
                    failing = len(receiver.requests) < receiver.fail_first
                    answered = receiver.fail_status if failing else 200
                    receiver.requests.append(
                        Received(self.path, dict(self.headers), body, time.time(), answered)
                    )
                self.send_response(answered)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"no" if failing else b"ok")

        self.server = loopback_serve(Handler)
        return self

    def stop(self) -> None:
        loopback_stop(self.server)

    def accepted(self) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.answered == 200]

    def wait_for(self, count: int, timeout: float = 30.0) -> list[Received]:
        """Wait until `count` requests were accepted; answer them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.accepted()) >= count:
                return self.accepted()
            time.sleep(0.05)
        raise AssertionError(f"{len(self.accepted())} of {count} requests arrived in {timeout} s")


@dataclass
class Answerer:
    """A real HTTP server on 127.0.0.1 that answers every GET and POST alike: `status`,
    `headers` and `body` (a backend's error page, a redirect); it counts what it was asked."""

    status: int = 500
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    paths: list[str] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Answerer:
        answerer = self

        class Handler(QuietHandler):
            def answer(self):
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                answerer.paths.append(self.path)
                self.send_response(answerer.status)
                for name, value in answerer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answerer.body)))
                self.end_headers()
                self.wfile.write(answerer.body)

            do_GET = do_POST = answer  # noqa: N815 (the http.server API)

        self.server = loopback_serve(Handler)
        return self

    def stop(self) -> None:
        loopback_stop(self.server)
