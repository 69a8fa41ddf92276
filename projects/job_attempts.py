"""Attempts that never finished: a poison job gives up instead of being redelivered forever.

Tasks are acknowledged late and rejected when their worker process dies, so a file that kills
its worker (out of memory, a segfault in a parser) comes back again and again. Each attempt
counts itself in on the row before it starts and out when it ends, whatever the outcome; only
an attempt whose process died stays counted. Once JOB_MAX_CRASHES are counted, the next
attempt does not start: the caller fails the job with a message instead.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet


class TooManyCrashes(Exception):
    """Earlier attempts on this row died with their worker JOB_MAX_CRASHES times."""

    def __init__(self, crashes: int):
        self.crashes = crashes
        super().__init__(f"{crashes} attempts died with their worker")


@contextmanager
def attempt_counted(row: QuerySet) -> Iterator[None]:
    """Run an attempt on the one row `row` selects (a model with `unfinished_attempts`)."""
    with transaction.atomic():
        crashes = row.select_for_update().values_list("unfinished_attempts", flat=True).get()
        if crashes >= settings.JOB_MAX_CRASHES:
            raise TooManyCrashes(crashes)
        row.update(unfinished_attempts=F("unfinished_attempts") + 1)
    try:
        yield
    finally:
        row.filter(unfinished_attempts__gt=0).update(
            unfinished_attempts=F("unfinished_attempts") - 1
        )


def crash_message(*, what: str, crashes: int) -> str:
    return (
        f"{what} stopped its worker {crashes} times (the process was killed, for instance for "
        "running out of memory), so it was given up. Check the file (size, nesting, images) "
        "or ask an administrator to look at the worker's log."
    )
