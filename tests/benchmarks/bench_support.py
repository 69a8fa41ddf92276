"""What the benchmark scripts share: the project on sys.path with its settings, a throw-away
PostgreSQL database, its tables, peak memory.

Imported first by the bench_*.py scripts, which run as plain scripts (their folder is on sys.path).
"""

import os
import resource
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labeling.site.settings")
DEFAULT_URL = "postgres://postgres:postgres@127.0.0.1:5432/quorum"


def bench_database_url(base_url: str, suffix: str) -> tuple[str, str, str]:
    """(admin url, bench url, bench database name) derived from the configured database URL."""
    parts = urlsplit(base_url)
    name = f"{parts.path.lstrip('/') or 'quorum'}_{suffix}"
    admin = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))
    return admin, urlunsplit(parts._replace(path=f"/{name}")), name


def database_drop(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def database_recreate(admin_url: str, name: str) -> None:
    database_drop(admin_url, name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')


def search_index_migration():
    """The migration holding the items' search table statements (FILL, CREATE, DROP of its
    GIN index)."""
    import importlib

    migration = next((ROOT / "projects/migrations").glob("*_item_search.py"))
    return importlib.import_module(f"projects.migrations.{migration.stem}")


def tables_create(*, search_index: bool = True) -> None:
    """The schema as deployments have it: every migration, with the indexes migrations make in
    SQL (the search table's GIN index). A benchmark that fills tables in bulk may leave that
    index out and build it after the fill, as the migration does."""
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    if not search_index and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(search_index_migration().DROP)


def peak_rss_reset() -> None:
    """Start this process's peak RSS (VmHWM, which peak_rss_mb reads) afresh from now."""
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")


def peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux: the high-water mark of this process.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def process_peak_rss_mb(pid: int) -> float:
    """The high-water mark of another process's resident memory (a peer server's)."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def peak_rss_of(process: psutil.Process) -> int:
    """The process's peak RSS in bytes, as the kernel keeps it (VmHWM): exact, not sampled."""
    with open(f"/proc/{process.pid}/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return 0


class RssWatcher(threading.Thread):
    """A worker's memory: the peak RSS of its pool processes (where imports run), of its main
    process, and of the whole tree (a plain sum: pages the pool shares with the main process
    since the fork count once per process, so this overstates the total). The kernel's peaks
    are reset at the start and read once a second (a pool process may be replaced meanwhile),
    so watching costs the benchmark almost nothing."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.root = psutil.Process(pid)
        self.peak_pool = 0
        self.peak_main = 0
        self.peak_tree = 0
        self.stopped = threading.Event()
        for process in [self.root, *self.root.children(recursive=True)]:
            with open(f"/proc/{process.pid}/clear_refs", "w") as clear:
                clear.write("5")  # resets VmHWM to the current RSS

    def _read(self) -> None:
        try:
            main = peak_rss_of(self.root)
            pool = [peak_rss_of(p) for p in self.root.children(recursive=True)]
        except (psutil.NoSuchProcess, FileNotFoundError, ProcessLookupError):
            return
        self.peak_main = max(self.peak_main, main)
        self.peak_pool = max(self.peak_pool, *pool, 0)
        self.peak_tree = max(self.peak_tree, main + sum(pool))

    def run(self) -> None:
        while not self.stopped.wait(1.0):
            self._read()

    def stop(self) -> None:
        self.stopped.set()
        self.join()
        self._read()


def checkpoint() -> None:
    """Start each run from a checkpoint, so one left due by the setup does not fall in the run
    (the writes after a checkpoint log full page images). The import's own writes still bring
    on the checkpoints they cause."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")  # needs a superuser or pg_checkpoint, as here
