"""Consensus: turn an item's annotations into a resolution, or send it to review.

This is the first cut: unanimous answers are accepted; single and multiple choice are aggregated
by majority vote; any other disagreement goes to review.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations

from django.db import transaction

from labeling.models import Annotation, Resolution
from projects.label_schema import CHOICE, MULTI, LabelSchema
from projects.models import Item, Project


def _canonical(value):
    if isinstance(value, list):
        return tuple(sorted(_canonical(v) for v in value)) if value else None
    if isinstance(value, dict):
        return tuple(sorted((k, _canonical(v)) for k, v in value.items()))
    return value if value != "" else None


def pairwise_agreement(results: list[dict]) -> float | None:
    """Share of annotator pairs that gave the same answer (1.0 for unanimous)."""
    if len(results) < 2:
        return None
    keyed = [_canonical(r) for r in results]
    pairs = list(combinations(keyed, 2))
    return sum(a == b for a, b in pairs) / len(pairs)


def _majority(values: list) -> tuple[object, bool]:
    """The most common value and whether it is a strict majority winner (no tie at the top)."""
    counts = Counter(values).most_common()
    winner, top = counts[0]
    tied = len(counts) > 1 and counts[1][1] == top
    return winner, not tied


def aggregate(schema: LabelSchema, results: list[dict]) -> dict | None:
    """Majority vote per control for choice kinds; None if any control cannot be decided."""
    final: dict = {}
    for control in schema.controls:
        answers = [r.get(control.name) for r in results]
        if control.kind == CHOICE:
            winner, decided = _majority([a for a in answers if a])
            if not decided:
                return None
            final[control.name] = winner
        elif control.kind == MULTI:
            votes = Counter(label for a in answers for label in (a or []))
            need = len(results) / 2
            final[control.name] = sorted(label for label, n in votes.items() if n > need)
        else:
            keyed = {_canonical(a) for a in answers}
            if len(keyed) != 1:
                return None
            final[control.name] = answers[0]
    return {k: v for k, v in final.items() if v not in (None, [], "")}


def item_resolve(*, item: Item) -> Resolution | None:
    """Resolve a fully annotated item, or move it to review. Returns the new resolution, if any."""
    project: Project = item.project
    results = list(
        Annotation.objects.filter(item=item).order_by("id").values_list("result", flat=True)
    )
    if not results:
        return None
    schema = LabelSchema(project.label_schema)
    agreement = pairwise_agreement(results)
    unanimous = len(results) == 1 or agreement == 1.0
    final = results[0] if unanimous else aggregate(schema, results)
    if len(results) == 1:
        method = Resolution.Method.SINGLE
    elif unanimous:
        method = Resolution.Method.UNANIMOUS
    else:
        method = Resolution.Method.MAJORITY
    needs_review = (
        final is None
        or project.review_policy == Project.ReviewPolicy.ALL
        or (
            project.review_policy == Project.ReviewPolicy.DISAGREEMENTS
            and (not unanimous or (agreement or 1.0) < project.auto_accept_threshold)
        )
    )
    with transaction.atomic():
        Resolution.objects.filter(item=item, is_current=True).update(is_current=False)
        if needs_review:
            Item.objects.filter(pk=item.pk).update(status=Item.Status.IN_REVIEW)
            item.status = Item.Status.IN_REVIEW
            return None
        resolution = Resolution.objects.create(
            item=item, result=final, method=method, agreement=agreement
        )
        Item.objects.filter(pk=item.pk).update(status=Item.Status.RESOLVED)
        item.status = Item.Status.RESOLVED
    return resolution
