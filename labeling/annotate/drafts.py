"""Drafts: the workspace saves unfinished answers so that work in progress survives a reload."""

from __future__ import annotations

import json

from labeling.models import Draft
from projects.label_schema import label_schema_parsed
from projects.models import Item

# A draft is a work-in-progress result; this bounds what one browser tab may store.
DRAFT_MAX_BYTES = 512 * 1024


class DraftRefused(ValueError):
    """The draft cannot be stored (resolved item, not a result object, too large...)."""


def draft_check(*, item: Item, result) -> dict:
    """A draft is keyed by the schema's control names; its values are checked on submit."""
    if not isinstance(result, dict):
        raise DraftRefused("A draft result is an object keyed by control name.")
    names = label_schema_parsed(item.project.label_schema).by_name
    unknown = sorted(str(name) for name in result if name not in names)
    if unknown:
        raise DraftRefused(f"Unknown control(s): {', '.join(unknown)}.")
    if len(json.dumps(result)) > DRAFT_MAX_BYTES:
        raise DraftRefused(f"A draft is at most {DRAFT_MAX_BYTES // 1024} KB.")
    return result


def draft_get(*, item: Item, annotator) -> Draft | None:
    return Draft.objects.filter(item=item, annotator=annotator).first()


def draft_save(*, item: Item, annotator, result, lead_time: float = 0.0) -> Draft:
    """Create or replace the annotator's draft for the item."""
    if item.status == Item.Status.RESOLVED:
        raise DraftRefused("This item is resolved; its answers can no longer change.")
    draft_check(item=item, result=result)
    draft, _ = Draft.objects.update_or_create(
        item=item,
        annotator=annotator,
        defaults={"result": result, "lead_time": max(float(lead_time), 0.0)},
    )
    return draft


def draft_delete(*, item: Item, annotator) -> bool:
    deleted, _ = Draft.objects.filter(item=item, annotator=annotator).delete()
    return bool(deleted)
