"""Where an import hands over what projects/ cannot store itself.

Annotations carried by an import (e.g. from a Label Studio export) are rows of the labeling app,
and projects/ must not import labeling/. So labeling registers its store here when Django starts
(LabelingConfig.ready), and the import calls it inside each batch's transaction. Without a
registered store, carried annotations are reported as not imported. Once an import is done,
import_finished tells whoever registered how many answers it carried: labeling (a Dawid-Skene
project refits) and projects' own search indexer (the import's items become searchable).

An import may also make something other than items: a job whose options name a `target` is read
and stored by the ImportTarget registered under that name (labeling's monitoring registers
"monitor_events": a JSONL file of prediction events), while planning, chunks in parallel
workers, resuming, crash counting, cancelling and the job's counters stay the machinery's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from projects.models import Project


@dataclass
class CarriedAnnotations:
    item_id: int
    line: int
    data: dict[str, Any]
    width: int | None
    height: int | None
    annotations: list[dict[str, Any]]  # {"annotator": {"id", "email"}, "result", "lead_time"}


@dataclass
class AnnotationsStored:
    carried: int = 0  # answers stored
    skipped: int = 0  # answers refused, each with a line in problems
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)


# Answers with no annotator in the export: each one its own anonymous annotator (per task), or
# refused with a line in the report. The lead chooses at import (ImportJob.options).
ANONYMOUS_DISTINCT = "distinct"
ANONYMOUS_REFUSE = "refuse"
ANONYMOUS_CHOICES = (ANONYMOUS_DISTINCT, ANONYMOUS_REFUSE)

# (project, items with their annotations, options) -> what was stored and refused
AnnotationsStore = Callable[[Project, list[CarriedAnnotations], dict], AnnotationsStored]
# (project, answers carried by the whole import) -> None, once the import is done
ImportFinished = Callable[[Project, int], None]

_annotations_store: list[AnnotationsStore] = []
_import_finished: list[ImportFinished] = []


@dataclass(frozen=True)
class ImportTarget:
    """How an import job with `options["target"]` reads and stores its rows instead of items.

    batches(job=, stream=, start=, end=, line=, size=) -> Iterator[jobs.Batch]: the chunk's
    byte range read from `start` (line number `line`) up to `end`, in batches of about `size`
    records, each with its good rows, its line-numbered problems and its last Record (where the
    chunk resumes). Runs beside the writer, outside the batch's transaction.
    store(job=, rows=) -> items.create.BatchReport: one batch's rows stored, inside the batch's
    transaction; `counters` of the report are added to the job's options (e.g. "routed").
    formats: the import formats it reads (the planner splits those files as usual).
    """

    batches: Callable[..., Iterator[Any]]
    store: Callable[..., Any]
    formats: tuple[str, ...] = ("jsonl",)


_import_targets: dict[str, ImportTarget] = {}


def import_target_register(name: str, target: ImportTarget) -> None:
    _import_targets[name] = target


def import_target(name: str | None) -> ImportTarget | None:
    """The target an import job's options name; None for items (no target named). A name
    nobody registered is a KeyError: the job must not turn into an import of items."""
    if not name:
        return None
    return _import_targets[name]


def annotations_store_register(store: AnnotationsStore) -> None:
    _annotations_store[:] = [store]


def import_finished_register(hook: ImportFinished) -> None:
    """Add a hook (once: registering the same one again changes nothing)."""
    if hook not in _import_finished:
        _import_finished.append(hook)


def annotations_store(
    project: Project, carried: list[CarriedAnnotations], options: dict | None = None
) -> AnnotationsStored:
    if not carried:
        return AnnotationsStored()
    if not _annotations_store:
        return AnnotationsStored(
            skipped=sum(len(c.annotations) for c in carried),
            problems=[
                (c.line, "annotations were not imported (no annotation store)") for c in carried
            ],
        )
    return _annotations_store[0](project, carried, options or {})


def import_finished(project: Project, answers_carried: int) -> None:
    for hook in _import_finished:
        hook(project, answers_carried)
