"""A small project with items in every state the data manager's filters tell apart."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from labeling.models import Annotation, Assignment, Resolution
from projects.items.predictions import predictions_create
from projects.models import Item, Membership, Project
from tests.factories import ItemFactory, MembershipFactory, UserFactory

POSITIVE = {"sentiment": "positive"}


@dataclass
class Table:
    project: Project
    items: dict[str, Item]
    bob: object
    cat: object


def _answer(item: Item, who, label: str) -> Annotation:
    return Annotation.objects.create(
        project=item.project, item=item, annotator=who, result={"sentiment": label}, lead_time=3
    )


def _resolve(item: Item, label: str, agreement: float | None, state="accepted") -> None:
    Resolution.objects.create(
        item=item,
        result={"sentiment": label},
        method="majority",
        agreement=agreement,
        state=state,
    )


@pytest.fixture
def table(project) -> Table:
    """Six items: open (a), agreed resolved (b), disputed in review (c), gold (d), predicted
    open with metadata (e, f)."""
    project.overlap = 2
    project.save()
    bob, cat = UserFactory(username="bob"), UserFactory(username="cat")
    for user in (bob, cat):
        MembershipFactory(project=project, user=user, role=Membership.Role.ANNOTATOR)
    make = lambda ext, text, **kw: ItemFactory(  # noqa: E731
        project=project, external_id=ext, data={"text": text, **kw.pop("data", {})}, **kw
    )
    items = {
        "a": make("a", "The weather is calm today", priority=1),
        "b": make("b", "Great match and a happy crowd", priority=5),
        "c": make("c", "The vote was a close call", priority=5),
        "d": make("d", "A known answer lives here", gold={"sentiment": "neutral"}),
        "e": make("e", "Stocks fell sharply", data={"meta": {"source": "news"}, "n": 7}),
        "f": make("f", "Rain stopped play", data={"meta": {"source": "blog"}, "n": 12}),
    }
    b, c = items["b"], items["c"]
    _answer(b, bob, "positive"), _answer(b, cat, "positive")
    _resolve(b, "positive", 1.0)
    _answer(c, bob, "positive"), _answer(c, cat, "negative")
    _resolve(c, "positive", 0.5, state="pending")
    Item.objects.filter(pk=b.pk).update(status="resolved", annotation_count=2)
    Item.objects.filter(pk=c.pk).update(status="in_review", annotation_count=2)
    predictions_create(
        project=project,
        raw_rows=[
            {"item": items["e"].pk, "model_version": "v1", "result": POSITIVE, "score": 0.2},
            {"item": items["f"].pk, "model_version": "v2", "result": POSITIVE, "score": 0.8},
        ],
    )
    Assignment.objects.create(
        project=project,
        item=items["a"],
        annotator=bob,
        expires_at=timezone.now() + timedelta(hours=1),
    )
    Item.objects.filter(pk=items["a"].pk).update(assigned_count=1)
    for key, item in items.items():
        items[key] = Item.objects.get(pk=item.pk)
    return Table(project=project, items=items, bob=bob, cat=cat)
