"""A real Celery worker for tests: `celery -A labeling.site worker` in a subprocess.

The worker talks to Redis as its broker (QUORUM_TEST_BROKER_URL, default redis db 15) and to
pytest-django's test database, so tests using it must commit their rows: the fixture pulls in
`transactional_db`. Workers are started once per session and reused; a test may start more,
SIGKILL one (the whole worker, or only the pool process running a task), and the fixture puts
things back afterwards (extra workers stopped, the queue purged, eager mode restored).

    def test_something(celery_worker_process):
        job = ...  # enqueued with transaction.on_commit(...): goes to the real worker
        celery_worker_process.start()  # a second worker
        celery_worker_process.kill_task_process()  # SIGKILL the pool child running a task
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest
from django.db import connection

from labeling.site.celery import app as celery_app

BROKER_URL = os.environ.get("QUORUM_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
REPO = Path(__file__).resolve().parent.parent
CELERY = Path(sys.executable).with_name("celery")
READY_TIMEOUT = 60.0
# Short, so that a message whose whole worker was SIGKILLed is redelivered within a test's wait.
VISIBILITY_TIMEOUT = 20


def database_url_for_workers() -> str:
    """The URL of the database this test session uses (pytest-django's test database)."""
    params = connection.settings_dict
    user = quote(params.get("USER") or "", safe="")
    password = quote(params.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = params.get("HOST") or "127.0.0.1"
    port = f":{params['PORT']}" if params.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(params['NAME'], safe='')}"


@dataclass
class WorkerProcess:
    name: str
    process: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def is_alive(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def pool_pids(self) -> list[int]:
        """The prefork pool's child processes (where tasks run)."""
        try:
            return [child.pid for child in psutil.Process(self.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            return []


@dataclass
class CeleryWorkers:
    """The worker processes of this test session, and how to start, kill and stop them."""

    broker_url: str
    database_url: str
    media_root: Path
    log_dir: Path
    workers: list[WorkerProcess] = field(default_factory=list)
    started: int = 0

    @property
    def process(self) -> subprocess.Popen:
        """The first live worker's process."""
        return self.live()[0].process

    def live(self) -> list[WorkerProcess]:
        return [w for w in self.workers if w.is_alive()]

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "labeling.site.settings",
                "DATABASE_URL": self.database_url,
                "CELERY_BROKER_URL": self.broker_url,
                "CELERY_VISIBILITY_TIMEOUT": str(VISIBILITY_TIMEOUT),
                "MEDIA_ROOT": str(self.media_root),
                # The peers the tests start listen on loopback (as in tests/conftest.py).
                "INTEGRATIONS_PRIVATE_HOSTS": "127.0.0.0/8,::1",
                "PYTHONPATH": str(REPO),
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def start(
        self, *, concurrency: int = 1, environment: dict[str, str] | None = None, beat=False
    ) -> WorkerProcess:
        """Start one more worker and wait until it is ready to take tasks. `environment` adds to
        or overrides the settings' variables; `beat` runs celery beat inside the worker (the
        periodic sweeps), as `celery beat` would beside it."""
        self.started += 1
        name = f"test{self.started}-{os.getpid()}"
        log_path = self.log_dir / f"{name}.log"
        beat_options = ["--beat", f"--schedule={self.log_dir / name}-beat"] if beat else []
        command = [
            str(CELERY),
            "-A",
            "labeling.site",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            "--pool=prefork",
            "--without-gossip",
            "--without-mingle",
            "-n",
            f"{name}@%h",
            *beat_options,
        ]
        env = {**self.environment(), **(environment or {})}
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        worker = WorkerProcess(name=name, process=process, log_path=log_path)
        self.workers.append(worker)
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if " ready." in worker.log():
                return worker
            if not worker.is_alive():
                break
            time.sleep(0.1)
        self.stop(worker)
        raise RuntimeError(f"Celery worker {name} did not start:\n{worker.log()[-4000:]}")

    def ensure_one(self) -> WorkerProcess:
        live = self.live()
        return live[0] if live else self.start()

    def sigkill(self, worker: WorkerProcess | None = None) -> None:
        """SIGKILL a whole worker (main process and pool): its unacknowledged task goes back to
        the broker after the visibility timeout and another worker picks it up."""
        worker = worker or self.live()[0]
        children = worker.pool_pids()
        os.kill(worker.pid, signal.SIGKILL)
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        worker.process.wait(timeout=10)

    def kill_task_process(self, worker: WorkerProcess | None = None) -> list[int]:
        """SIGKILL the pool process(es) running tasks, as the kernel's OOM killer would. The worker
        survives, rejects the task (reject_on_worker_lost) and the broker redelivers it at once."""
        worker = worker or self.live()[0]
        pids = worker.pool_pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        return pids

    def stop(self, worker: WorkerProcess) -> None:
        if worker.is_alive():
            worker.process.terminate()
            try:
                worker.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.sigkill(worker)

    def stop_all_but_first(self) -> None:
        live = self.live()
        for worker in live[1:]:
            self.stop(worker)

    def stop_all(self) -> None:
        for worker in self.live():
            self.stop(worker)

    def purge(self) -> None:
        with celery_app.connection_for_write(self.broker_url) as conn:
            celery_app.control.purge(connection=conn)


def app_connections_reset() -> None:
    """Forget the app's broker connection and producer pools, so the next enqueue connects to
    the broker now configured. Celery has no public call for this (app.close() also unregisters
    the app), hence the private attributes."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture(scope="session")
def _celery_workers(django_db_setup, django_db_blocker, tmp_path_factory):
    if connection.vendor != "postgresql":
        pytest.skip("a real Celery worker needs PostgreSQL (set DATABASE_URL)")
    with django_db_blocker.unblock():
        database_url = database_url_for_workers()
    workers = CeleryWorkers(
        broker_url=BROKER_URL,
        database_url=database_url,
        media_root=tmp_path_factory.mktemp("worker-media"),
        log_dir=tmp_path_factory.mktemp("worker-logs"),
    )
    yield workers
    workers.stop_all()


@pytest.fixture
def celery_worker_process(_celery_workers, transactional_db, settings):
    """A live Celery worker, with this test's enqueues going to it (eager mode off)."""
    workers = _celery_workers
    workers.purge()
    workers.ensure_one()
    settings.CELERY_BROKER_URL = workers.broker_url
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.MEDIA_ROOT = workers.media_root  # the worker reads the uploads the test makes
    # The Celery app reads Django's settings when asked (config_from_object), so the overrides
    # above reach it; its cached connection and producer pools are dropped to use this broker.
    app_connections_reset()
    try:
        yield workers
    finally:
        workers.stop_all_but_first()
        workers.purge()
        app_connections_reset()  # the settings fixture restores eager mode after this
