"""Writing batches one step behind the reader: while the database takes batch N (COPY, insert,
commit), the caller already parses batch N+1. One batch at a time stays in flight, in order, on
one background thread with its own database connection; its errors surface at the next call."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.db import connection, connections


class BatchWriter:
    def __init__(self, *, in_background: bool):
        self.executor = ThreadPoolExecutor(max_workers=1) if in_background else None
        self.pending: Future | None = None

    @classmethod
    def for_this_connection(cls) -> BatchWriter:
        """In the background on PostgreSQL (its driver waits without holding the GIL), unless
        the caller is inside a transaction a second connection could not see into."""
        return cls(
            in_background=connection.vendor == "postgresql" and not connection.in_atomic_block
        )

    def write(self, function: Callable[..., Any], **kwargs: Any) -> None:
        self.wait()
        if self.executor is None:
            function(**kwargs)
        else:
            self.pending = self.executor.submit(function, **kwargs)

    def wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        try:
            self.wait()
        finally:
            if self.executor is not None:
                self.executor.submit(connections.close_all).result()
                self.executor.shutdown()
