"""Gold items: their share of each queue, accuracy per annotator, and answers kept secret."""

import json

import pytest

from labeling.annotate.gold import gold_score
from labeling.annotate.queue import assignment_next
from labeling.annotate.submit import annotation_submit
from projects.label_schema import LabelSchema
from projects.models import Item, Membership
from tests.factories import ItemFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

GOLD = {"sentiment": "neutral"}
SCHEMA_MIXED = {
    "controls": [
        {"name": "sentiment", "kind": "choice", "source": "text", "labels": ["pos", "neg"]},
        {"name": "topics", "kind": "multi", "source": "text", "labels": ["a", "b", "c"]},
        {
            "name": "entities",
            "kind": "spans",
            "source": "text",
            "labels": ["PER"],
            "required": False,
        },
    ]
}


def test_gold_score_is_the_mean_control_similarity():
    schema = LabelSchema(SCHEMA_MIXED)
    gold = {
        "sentiment": "pos",
        "topics": ["a", "b"],
        "entities": [{"start": 0, "end": 3, "label": "PER"}],
    }
    assert gold_score(schema=schema, result=gold, gold=gold) == 1.0
    answer = {
        "sentiment": "neg",
        "topics": ["a"],
        "entities": [{"start": 0, "end": 3, "label": "PER"}],
    }
    # choice wrong (0), topics Jaccard 1/2, spans exact (1)
    assert gold_score(schema=schema, result=answer, gold=gold) == pytest.approx(0.5)


def gold_project(project, share: float, gold_items: int, normal_items: int):
    project.gold_share = share
    project.save()
    gold = [ItemFactory(project=project, gold=GOLD) for _ in range(gold_items)]
    normal = ItemFactory.create_batch(normal_items, project=project)
    return gold, normal


def test_a_quarter_of_the_queue_is_gold_when_the_share_is_a_quarter(project, annotator):
    gold, _ = gold_project(project, 0.25, gold_items=5, normal_items=20)
    gold_ids = {g.pk for g in gold}
    served = []
    for _ in range(12):
        found = assignment_next(project=project, annotator=annotator)
        served.append(found.item.pk in gold_ids)
        annotation_submit(item=found.item, annotator=annotator, result={"sentiment": "positive"})
    assert served.count(True) == 3  # every fourth item
    assert served[3] and served[7] and served[11]


def test_gold_items_sit_outside_the_overlap_and_are_never_resolved(project, annotator):
    gold, _ = gold_project(project, 1.0, gold_items=1, normal_items=0)
    second = UserFactory(username="ann2")
    MembershipFactory(project=project, user=second, role=Membership.Role.ANNOTATOR)
    for user in (annotator, second):
        found = assignment_next(project=project, annotator=user)
        assert found.item.pk == gold[0].pk
        annotation_submit(item=found.item, annotator=user, result={"sentiment": "neutral"})
    item = Item.objects.get(pk=gold[0].pk)
    assert item.status == Item.Status.OPEN and not item.resolutions.exists()
    assert item.annotation_count == 0 and item.assigned_count == 0
    assert assignment_next(project=project, annotator=annotator) is None


def test_accuracy_on_gold_is_recorded_per_annotator_and_visible_to_leads(
    project, annotator, lead_api, annotator_api
):
    gold, _ = gold_project(project, 0.5, gold_items=2, normal_items=2)
    good = UserFactory(username="good")
    MembershipFactory(project=project, user=good, role=Membership.Role.ANNOTATOR)
    annotation_submit(item=gold[0], annotator=annotator, result={"sentiment": "neutral"})
    annotation_submit(item=gold[1], annotator=annotator, result={"sentiment": "negative"})
    annotation_submit(item=gold[0], annotator=good, result={"sentiment": "neutral"})

    response = lead_api.get(f"/api/projects/{project.pk}/annotators/")
    assert response.status_code == 200
    rows = {row["username"]: row for row in response.json()}
    assert rows["ann1"]["gold_accuracy"] == 0.5 and rows["ann1"]["gold_answered"] == 2
    assert rows["ann1"]["annotated"] == 2 and rows["ann1"]["role"] == "annotator"
    assert rows["good"]["gold_accuracy"] == 1.0
    assert rows["lead"]["gold_accuracy"] is None
    assert annotator_api.get(f"/api/projects/{project.pk}/annotators/").status_code == 403

    mine = annotator_api.get(f"/api/projects/{project.pk}/my-stats/").json()
    assert mine == {"annotated": 2, "skipped": 0, "gold_answered": 2, "gold_accuracy": 0.5}


def test_an_edited_gold_answer_is_scored_again(project, annotator, annotator_api):
    gold, _ = gold_project(project, 0.5, gold_items=1, normal_items=0)
    annotation_submit(item=gold[0], annotator=annotator, result={"sentiment": "negative"})
    annotation_submit(item=gold[0], annotator=annotator, result={"sentiment": "neutral"})
    assert annotator_api.get(f"/api/projects/{project.pk}/my-stats/").json()["gold_accuracy"] == 1.0


def test_gold_answers_never_reach_annotators(project, annotator, annotator_api):
    project.prefill_predictions = True
    project.save()
    secret = {"sentiment": "neutral", "note": "the-gold-secret"}
    item = ItemFactory(project=project, gold=secret)
    project.gold_share = 1.0
    project.save()
    bodies = []
    next_response = annotator_api.get(f"/api/projects/{project.pk}/next/")
    assert next_response.json()["item"]["id"] == item.pk
    assert next_response.json()["prediction"] is None
    bodies.append(next_response.content)
    bodies.append(annotator_api.get(f"/api/items/{item.pk}/").content)
    annotator_api.post(
        f"/api/items/{item.pk}/annotations/", {"result": {"sentiment": "positive"}}, format="json"
    )
    bodies.append(annotator_api.get(f"/api/projects/{project.pk}/my-annotations/").content)
    bodies.append(annotator_api.get(f"/api/projects/{project.pk}/my-stats/").content)
    bodies.append(annotator_api.get(f"/projects/{project.pk}/label/?item={item.pk}").content)
    bodies.append(annotator_api.get(f"/projects/{project.pk}/history/").content)
    for body in bodies:
        assert b"the-gold-secret" not in body
        assert b'"gold"' not in body
    assert "gold" not in json.loads(bodies[0])["item"]
