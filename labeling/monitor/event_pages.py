"""The pages of the events list, newest first, on a table with a BRIN index on time only.

Events have no B-tree on time (each would cost every insert of millions), so the newest hundred
of a project's events, sorted from all of them, cost seconds. But the events just below a page's
position lie in a short span of time, which the BRIN index reads cheaply: a page reads a window
of time below its position first (an hour, then wider), until the window holds the page and one
event more (no event outside it can come before those), or reaches the list's own `since`.
The pages are the cursor pagination's, event for event; only what each query reads changes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db.models import Max
from rest_framework.pagination import CursorPagination

from labeling.monitor.models import EventCount

WINDOWS = (
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(days=1),
    timedelta(days=7),
    timedelta(days=31),
)


def newest_event_hour_end(project_id: int) -> datetime | None:
    """An upper bound of the project's event times: the end of the newest hour its counts
    have (every stored event is counted in the call that stores it); None without events."""
    newest = EventCount.objects.filter(project_id=project_id).aggregate(hour=Max("hour"))["hour"]
    return None if newest is None else newest + timedelta(hours=1)


class EventPagination(CursorPagination):
    ordering = ("-timestamp", "-id")
    page_size = 100

    def __init__(self, *, top: Callable[[], datetime | None], since: datetime | None = None):
        """`top`: where the first page's windows start (at or above the newest event listed;
        lower only costs a wider window); `since`: the list's lower bound of time, if any."""
        self.top, self.since = top, since

    def paginate_queryset(self, queryset, request, view=None):
        start = self._window_start(request)
        if start is None:
            return super().paginate_queryset(queryset, request, view)
        for width in WINDOWS:
            floor = start - width
            page = super().paginate_queryset(queryset.filter(timestamp__gte=floor), request, view)
            if self.has_next or (self.since is not None and floor <= self.since):
                return page
        return super().paginate_queryset(queryset, request, view)

    def _window_start(self, request) -> datetime | None:
        """The page's position (None: read without windows, as a page backwards does)."""
        cursor = self.decode_cursor(request)
        if cursor is not None and cursor.reverse:
            return None
        if cursor is None or cursor.position is None:
            return self.top()
        try:  # the position CursorPagination wrote: str() of the last event's timestamp
            return datetime.fromisoformat(cursor.position)
        except ValueError:
            return None
