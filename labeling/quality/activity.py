"""What is happening in a project right now, for the live panel on the project page."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

from labeling.models import AnnotatorStats, Assignment
from projects.models import ITEM_STARTED, Item, Project
from projects.progress import project_progress

# An annotator who asked for or answered an item this recently is "working now".
WORKING_WINDOW = timedelta(minutes=5)
HELD_SHOWN = 50
# Counting a million items by status takes a while: the panel polls, so counts may lag a little.
COUNTS_CACHE_SECONDS = 10


def _item_counts(project: Project) -> dict:
    key = f"quorum:activity-counts:{project.pk}"
    counts = cache.get(key)
    if counts is None:
        counts = project_progress(project)
        counts["gold"] = Item.objects.filter(project=project, gold__isnull=False).count()
        cache.set(key, counts, COUNTS_CACHE_SECONDS)
    return counts


def project_activity(*, project: Project, now: datetime | None = None) -> dict:
    now = now or timezone.now()
    held = Assignment.objects.filter(
        project=project, state=Assignment.State.ACTIVE, expires_at__gt=now
    )
    working = (
        AnnotatorStats.objects.filter(project=project, last_active_at__gte=now - WORKING_WINDOW)
        .select_related("annotator")
        .order_by("-last_active_at")
    )
    return {
        "items": _item_counts(project),
        # Started items are few (the queue finishes them first), so this count stays cheap.
        "started": Item.objects.filter(ITEM_STARTED, project=project).count(),
        "held_count": held.count(),
        "held": list(held.select_related("annotator", "item").order_by("expires_at")[:HELD_SHOWN]),
        "working": list(working),
        "now": now,
    }
