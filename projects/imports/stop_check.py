"""A running attempt notices that its job was cancelled (or failed) while it reads, not only
when its next batch commits: a batch of images, a Parquet row group, one huge record, skipping
to where a chunk resumes or planning a large file can each take minutes.

`JobStopCheck` asks the database at most once every STOP_CHECK_SECONDS, so it is cheap enough to
call at every read of the file (`StopCheckedStream`) and every STOP_CHECK_ROWS rows.
"""

from __future__ import annotations

import time
from collections.abc import Collection
from typing import IO, Any

from projects.models import ImportJob

STOP_CHECK_SECONDS = 1.0
STOP_CHECK_ROWS = 1000


class JobStopped(Exception):
    """The job is no longer one to work on (cancelled, failed, deleted)."""


class JobStopCheck:
    """Raises JobStopped once the job's status is none of `going_on`."""

    def __init__(self, job_id: int, *, going_on: Collection[str]):
        self.job_id = job_id
        self.going_on = frozenset(going_on)
        self.next_at = time.monotonic() + STOP_CHECK_SECONDS

    def __call__(self) -> None:
        now = time.monotonic()
        if now < self.next_at:
            return
        self.next_at = now + STOP_CHECK_SECONDS
        status = ImportJob.objects.filter(pk=self.job_id).values_list("status", flat=True).first()
        if status not in self.going_on:
            raise JobStopped(f"the job is {status or 'deleted'}")


class StopCheckedStream:
    """The job's file, with the stop check run before each read; everything else is the file's."""

    def __init__(self, stream: IO[bytes], check: JobStopCheck):
        self._stream = stream
        self.check = check

    def read(self, size: int = -1) -> bytes:
        self.check()
        return self._stream.read(size)

    def readinto(self, buffer: Any) -> int:
        self.check()
        return self._stream.readinto(buffer)

    def readline(self, size: int = -1) -> bytes:
        self.check()
        return self._stream.readline(size)

    def __iter__(self):
        return iter(self.readline, b"")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)
