"""Read-only project figures for pages and the API."""

from django.db.models import Count

from projects.models import Item, Project


def project_progress(project: Project) -> dict:
    """Counts of the items to label; gold items are answered by everyone and never finish, so
    they are left out."""
    counts = dict(
        Item.objects.filter(project=project, gold__isnull=True)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    total = sum(counts.values())
    done = counts.get(Item.Status.RESOLVED, 0)
    labeled = done + counts.get(Item.Status.LABELED, 0) + counts.get(Item.Status.IN_REVIEW, 0)
    return {
        "total": total,
        "labeled": labeled,
        "resolved": done,
        "in_review": counts.get(Item.Status.IN_REVIEW, 0),
        "open": counts.get(Item.Status.OPEN, 0),
        "percent": round(100 * labeled / total, 1) if total else 0.0,
    }
