"""Per-annotator figures: what each annotator did in a project, for leads and for themselves.

Counts come from the AnnotatorStats rows the queue keeps (never from counting annotations), gold
accuracy from the gold scores of their answers (labeling.annotate.gold), held items from the active
assignments (a handful per annotator).
"""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count
from django.utils import timezone

from labeling.annotate.gold import GoldAccuracy, gold_accuracy_by_annotator, gold_accuracy_of
from labeling.models import AnnotatorStats, Assignment
from projects.models import Membership, Project

NO_GOLD = GoldAccuracy(answered=0, accuracy=None)


def annotator_summary(*, project: Project, annotator) -> dict:
    """The annotator's own figures: annotated, skipped, and their accuracy on gold items."""
    stats = AnnotatorStats.objects.filter(project=project, annotator=annotator).first()
    gold = gold_accuracy_of(project=project, annotator=annotator)
    return {
        "annotated": stats.annotated if stats else 0,
        "skipped": stats.skipped if stats else 0,
        "gold_answered": gold.answered,
        "gold_accuracy": gold.accuracy,
    }


def holding_by_annotator(*, project: Project, now: datetime | None = None) -> dict[int, int]:
    now = now or timezone.now()
    rows = (
        Assignment.objects.filter(
            project=project, state=Assignment.State.ACTIVE, expires_at__gt=now
        )
        .values("annotator_id")
        .annotate(n=Count("id"))
        .order_by()
    )
    return {row["annotator_id"]: row["n"] for row in rows}


def annotators_summary(*, project: Project, now: datetime | None = None) -> list[dict]:
    """One row per member who may label or has labeled, by username."""
    stats = {
        s.annotator_id: s
        for s in AnnotatorStats.objects.filter(project=project).select_related("annotator")
    }
    members = {
        m.user_id: m for m in Membership.objects.filter(project=project).select_related("user")
    }
    gold = gold_accuracy_by_annotator(project=project)
    holding = holding_by_annotator(project=project, now=now)
    rows = []
    for user_id in stats.keys() | members.keys():
        row_stats = stats.get(user_id)
        member = members.get(user_id)
        user = member.user if member else row_stats.annotator
        accuracy = gold.get(user_id, NO_GOLD)
        rows.append(
            {
                "username": user.username,
                "role": member.role if member else None,
                "served": row_stats.served if row_stats else 0,
                "annotated": row_stats.annotated if row_stats else 0,
                "skipped": row_stats.skipped if row_stats else 0,
                "gold_served": row_stats.gold_served if row_stats else 0,
                "gold_answered": accuracy.answered,
                "gold_accuracy": accuracy.accuracy,
                "holding": holding.get(user_id, 0),
                "last_active_at": row_stats.last_active_at if row_stats else None,
            }
        )
    return sorted(rows, key=lambda row: row["username"])
