"""What is happening in a project right now, for the live panel on the project page."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.core.cache import cache
from django.db.models import Count, Max
from django.utils import timezone

from labeling.models import Annotation, AnnotatorStats, Assignment
from projects.items.titles import item_title_of
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
    held_shown = list(held.select_related("annotator", "item").order_by("expires_at")[:HELD_SHOWN])
    for assignment in held_shown:
        assignment.item.title = item_title_of(assignment.item)
    return {
        "items": _item_counts(project),
        # Started items are few (the queue finishes them first), so this count stays cheap.
        "started": Item.objects.filter(ITEM_STARTED, project=project).count(),
        "held_count": held.count(),
        "held": held_shown,
        "working": list(working),
        "now": now,
    }


def member_activity(
    project: Project, user_ids: list[int]
) -> dict[int, tuple[datetime | None, int]]:
    """Each member's last activity (queue request or answer) and number of answers here."""
    activity: dict[int, tuple[datetime | None, int]] = {}
    answers = (
        Annotation.objects.filter(project=project, annotator_id__in=user_ids)
        .values("annotator_id")
        .annotate(count=Count("id"), last=Max("updated_at"))
    )
    for row in answers:
        activity[row["annotator_id"]] = (row["last"], row["count"])
    stats = AnnotatorStats.objects.filter(project=project, annotator_id__in=user_ids).values_list(
        "annotator_id", "last_active_at"
    )
    for user_id, last_active in stats:
        last, count = activity.get(user_id, (None, 0))
        if last_active and (last is None or last_active > last):
            last = last_active
        activity[user_id] = (last, count)
    return activity
