"""An annotator's own past answers: the history page lists them and opens one to change it."""

from __future__ import annotations

from django.db.models import QuerySet

from labeling.models import Annotation
from projects.models import Item, Project


def annotations_of_annotator(*, project: Project, annotator) -> QuerySet[Annotation]:
    """The annotator's answers in the project, most recently changed first."""
    return (
        Annotation.objects.filter(project=project, annotator=annotator)
        .select_related("item")
        .order_by("-updated_at", "-id")
    )


def annotation_own(*, item: Item, annotator) -> Annotation | None:
    return Annotation.objects.filter(item=item, annotator=annotator).first()


def annotation_can_edit(*, annotation: Annotation) -> bool:
    """Answers may change until the item is resolved (annotation_submit enforces the same)."""
    return annotation.item.status != Item.Status.RESOLVED
