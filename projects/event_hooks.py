"""Where projects/ (and the layers above it) announce what happened, for whoever listens.

projects/ must not import labeling/, yet outside systems want to hear that items were created,
an import finished or a project changed. So the listener (labeling.integrations: webhooks, model
backends, storage sync) registers here when Django starts (LabelingConfig.ready), and the code
where an event happens calls `event_emit` inside its own transaction: the listener writes its
outbox rows in that transaction, so an event is recorded exactly when its cause commits.

`event_wanted` lets a caller skip the work of naming what changed (reading back created ids)
when nothing listens for that event in that project.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from projects.direct_sql import after_held_writes


class EventListener(Protocol):
    def wanted(self, *, project_id: int, event: str) -> bool: ...

    def emit(
        self, *, project_id: int, event: str, ids: dict[str, Any], data: dict[str, Any] | None
    ) -> None: ...


@dataclass
class _Listeners:
    listeners: list[EventListener]


_registered = _Listeners(listeners=[])


def event_listener_register(listener: EventListener) -> None:
    _registered.listeners[:] = [listener]


def event_wanted(*, project_id: int, event: str) -> bool:
    return any(
        listener.wanted(project_id=project_id, event=event) for listener in _registered.listeners
    )


def event_emit(
    *,
    project_id: int,
    event: str,
    ids: dict[str, Any] | Callable[[], dict[str, Any]],
    data: dict[str, Any] | None = None,
) -> None:
    """Tell the listeners that `event` happened in the project; `ids` names what it concerns
    (e.g. {"item": 5}, {"items": [1, 2]}, {"import": 3}), or is a function answering that once
    held writes are sent (a row inserted in a writes_batched() block has no pk before). Call it
    inside the cause's transaction. `data` is the full object when the caller has it (and the
    listener could not read it itself: exports sit above labeling)."""
    if not _registered.listeners:
        return

    def tell() -> None:
        named = ids() if callable(ids) else ids
        for listener in _registered.listeners:
            listener.emit(project_id=project_id, event=event, ids=named, data=data)

    after_held_writes(tell)
