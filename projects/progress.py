"""Read-only project figures for pages and the API."""

from django.db.models import Count

from projects.models import Item, Project


def item_status_counts(*, project: Project, include_gold: bool = True) -> dict[str, int]:
    """How many of the project's items are in each status (every status named, zeros too)."""
    items = Item.objects.filter(project=project)
    if not include_gold:
        items = items.filter(gold__isnull=True)
    counts = dict(items.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    return {status: counts.get(status, 0) for status in Item.Status.values}


def project_progress(project: Project) -> dict:
    """Counts of the items to label; gold items are answered by everyone and never finish, so
    they are left out."""
    counts = item_status_counts(project=project, include_gold=False)
    total = sum(counts.values())
    done = counts[Item.Status.RESOLVED]
    labeled = done + counts[Item.Status.LABELED] + counts[Item.Status.IN_REVIEW]
    return {
        "total": total,
        "labeled": labeled,
        "resolved": done,
        "in_review": counts[Item.Status.IN_REVIEW],
        "open": counts[Item.Status.OPEN],
        "percent": round(100 * labeled / total, 1) if total else 0.0,
    }
