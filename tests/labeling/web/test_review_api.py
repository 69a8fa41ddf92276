"""Review over the API: the queue, accept / edit / send back, history, and who may do what."""

from datetime import timedelta

import pytest
from django.utils import timezone

from labeling.annotate.submit import annotation_submit
from labeling.consensus.review import REVIEW_CLAIM, review_next
from labeling.models import Annotation, Resolution
from projects.models import Item, Project
from tests.conftest import api_client_for
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

SCHEMA = {
    "controls": [
        {"name": "sentiment", "kind": "choice", "labels": ["pos", "neg", "neu"]},
        {"name": "entities", "kind": "spans", "labels": ["PER", "ORG"], "required": False},
    ]
}
TEXT = "Ada Lovelace met Babbage"


@pytest.fixture
def team(db):
    project = ProjectFactory(
        label_schema=SCHEMA, overlap=2, review_policy=Project.ReviewPolicy.DISAGREEMENTS
    )
    people = {
        "lead": UserFactory(username="rv-lead"),
        "reviewer": UserFactory(username="rv-reviewer"),
        "ann1": UserFactory(username="rv-ann1"),
        "ann2": UserFactory(username="rv-ann2"),
        "ann3": UserFactory(username="rv-ann3"),
    }
    roles = {"lead": "lead", "reviewer": "reviewer"}
    for key, user in people.items():
        MembershipFactory(project=project, user=user, role=roles.get(key, "annotator"))
    return project, people


def disputed_item(project, people, external_id="d1"):
    item = ItemFactory(project=project, external_id=external_id, data={"text": TEXT})
    annotation_submit(
        item=item,
        annotator=people["ann1"],
        result={"sentiment": "pos", "entities": [{"start": 0, "end": 12, "label": "PER"}]},
    )
    annotation_submit(
        item=item,
        annotator=people["ann2"],
        result={"sentiment": "neg", "entities": [{"start": 0, "end": 3, "label": "PER"}]},
    )
    item.refresh_from_db()
    assert item.status == Item.Status.IN_REVIEW
    return item


def test_review_next_shows_every_answer_side_by_side(team):
    project, people = team
    item = disputed_item(project, people)
    response = api_client_for(people["reviewer"]).get(f"/api/projects/{project.pk}/review/next/")
    assert response.status_code == 200
    body = response.json()
    assert body["item"]["id"] == item.pk
    assert [a["annotator"] for a in body["answers"]] == ["rv-ann1", "rv-ann2"]
    assert body["answers"][0]["result"]["sentiment"] == "pos"
    assert sorted(body["disagreements"]) == ["entities", "sentiment"]
    assert body["proposal"]["state"] == "pending"
    assert "no majority" in body["proposal"]["reason"]
    assert body["label_schema"]["controls"][0]["name"] == "sentiment"


def test_review_next_is_204_when_the_queue_is_empty(team):
    project, people = team
    response = api_client_for(people["lead"]).get(f"/api/projects/{project.pk}/review/next/")
    assert response.status_code == 204


def test_review_next_after_passes_over_an_item(team):
    project, people = team
    first = disputed_item(project, people, "d1")
    second = disputed_item(project, people, "d2")
    client = api_client_for(people["reviewer"])
    url = f"/api/projects/{project.pk}/review/next/"
    assert client.get(url).json()["item"]["id"] == first.pk
    assert client.get(url, {"after": first.pk}).json()["item"]["id"] == second.pk
    assert client.get(url, {"after": second.pk}).json()["item"]["id"] == first.pk  # wraps


def test_accept_one_answer(team):
    project, people = team
    item = disputed_item(project, people)
    chosen = Annotation.objects.get(item=item, annotator=people["ann2"])
    client = api_client_for(people["reviewer"])
    response = client.post(
        f"/api/items/{item.pk}/resolution/",
        {"action": "accept", "annotation": chosen.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["reviewer"] == "rv-reviewer"
    detail = client.get(f"/api/items/{item.pk}/").json()
    assert detail["status"] == "resolved"
    assert detail["resolution"]["method"] == "reviewer"
    assert detail["resolution"]["result"] == chosen.result
    history = list(item.resolutions.order_by("id").values_list("state", "is_current"))
    assert history == [("pending", False), ("accepted", True)]
    assert client.get(f"/api/projects/{project.pk}/review/next/").status_code == 204


def test_accept_refuses_an_annotation_of_another_item(team):
    project, people = team
    item = disputed_item(project, people, "d1")
    other = disputed_item(project, people, "d2")
    foreign = Annotation.objects.filter(item=other).first()
    response = api_client_for(people["reviewer"]).post(
        f"/api/items/{item.pk}/resolution/",
        {"action": "accept", "annotation": foreign.pk},
        format="json",
    )
    assert response.status_code == 400


def test_edit_merges_a_final_answer_validated_by_the_schema(team):
    project, people = team
    item = disputed_item(project, people)
    client = api_client_for(people["lead"])
    url = f"/api/items/{item.pk}/resolution/"
    bad = client.post(
        url,
        {
            "action": "edit",
            "result": {"sentiment": "pos", "entities": [{"start": 0, "end": 99, "label": "PER"}]},
        },
        format="json",
    )
    assert bad.status_code == 400 and "entities" in bad.json()["result"]
    assert Item.objects.get(pk=item.pk).status == Item.Status.IN_REVIEW
    merged = {"sentiment": "neg", "entities": [{"start": 0, "end": 12, "label": "PER"}]}
    good = client.post(url, {"action": "edit", "result": merged}, format="json")
    assert good.status_code == 201
    resolution = Resolution.objects.get(item=item, is_current=True)
    assert resolution.result == merged and resolution.reviewer == people["lead"]
    assert resolution.reason == "edited by reviewer"
    # A reviewer may revise a resolved item: a new row, the old one kept.
    again = client.post(url, {"action": "edit", "result": {"sentiment": "neu"}}, format="json")
    assert again.status_code == 201
    assert item.resolutions.count() == 3


def test_send_back_adds_a_slot_and_the_new_annotation_re_resolves(team):
    project, people = team
    item = disputed_item(project, people)
    response = api_client_for(people["reviewer"]).post(
        f"/api/items/{item.pk}/resolution/", {"action": "send_back"}, format="json"
    )
    assert response.status_code == 201
    item.refresh_from_db()
    assert item.status == Item.Status.OPEN and item.extra_slots == 1
    # A third annotator gets the item from the queue and breaks the tie.
    third = api_client_for(people["ann3"])
    served = third.get(f"/api/projects/{project.pk}/next/")
    assert served.status_code == 200 and served.json()["item"]["id"] == item.pk
    third.post(
        f"/api/items/{item.pk}/annotations/",
        {"result": {"sentiment": "pos", "entities": [{"start": 0, "end": 12, "label": "PER"}]}},
        format="json",
    )
    item.refresh_from_db()
    states = list(item.resolutions.order_by("id").values_list("state", flat=True))
    assert states == ["pending", "sent_back", "pending"]  # 2 of 3 agree; policy: disagreements
    current = item.resolutions.get(is_current=True)
    assert current.result == {
        "sentiment": "pos",
        "entities": [{"start": 0, "end": 12, "label": "PER"}],
    }
    assert item.status == Item.Status.IN_REVIEW


def test_send_back_refused_while_the_item_is_open(team):
    project, people = team
    item = ItemFactory(project=project, data={"text": TEXT})
    response = api_client_for(people["reviewer"]).post(
        f"/api/items/{item.pk}/resolution/", {"action": "send_back"}, format="json"
    )
    assert response.status_code == 409


def test_annotators_cannot_see_the_review_queue_answers_or_agreement(team):
    project, people = team
    item = disputed_item(project, people)
    client = api_client_for(people["ann1"])
    assert client.get(f"/api/projects/{project.pk}/review/next/").status_code == 403
    assert client.get(f"/api/items/{item.pk}/review/").status_code == 403
    assert client.get(f"/api/projects/{project.pk}/agreement/").status_code == 403
    response = client.post(
        f"/api/items/{item.pk}/resolution/", {"action": "send_back"}, format="json"
    )
    assert response.status_code == 403
    detail = client.get(f"/api/items/{item.pk}/").json()
    assert "answers" not in detail and "annotations" not in detail
    assert detail["resolution"] is None  # in review: no final answer to show yet
    assert client.get(f"/projects/{project.pk}/review/").status_code in (302, 403)
    assert client.get(f"/projects/{project.pk}/dashboard/").status_code in (302, 403)


def test_outsiders_get_404_and_anonymous_users_are_refused(team):
    project, people = team
    item = disputed_item(project, people)
    stranger = api_client_for(UserFactory(username="stranger"))
    assert stranger.get(f"/api/projects/{project.pk}/review/next/").status_code == 404
    assert stranger.get(f"/api/items/{item.pk}/review/").status_code == 404
    anonymous = api_client_for(None)
    assert anonymous.get(f"/api/projects/{project.pk}/agreement/").status_code in (401, 403)


def test_item_review_packet_for_a_reviewer(team):
    project, people = team
    item = disputed_item(project, people)
    body = api_client_for(people["reviewer"]).get(f"/api/items/{item.pk}/review/").json()
    assert len(body["answers"]) == 2 and len(body["history"]) == 1


def test_two_reviewers_get_different_items_and_a_hold_lapses(team):
    project, people = team
    first = disputed_item(project, people, "d1")
    second = disputed_item(project, people, "d2")
    url = f"/api/projects/{project.pk}/review/next/"
    reviewer, lead = api_client_for(people["reviewer"]), api_client_for(people["lead"])
    assert reviewer.get(url).json()["item"]["id"] == first.pk
    assert lead.get(url).json()["item"]["id"] == second.pk  # first is held by the reviewer
    assert reviewer.get(url).json()["item"]["id"] == first.pk  # the reviewer keeps their item
    # Both held: a third reviewer finds nothing free.
    third = UserFactory(username="rv-third")
    MembershipFactory(project=project, user=third, role="reviewer")
    assert api_client_for(third).get(url).status_code == 204
    # Holds lapse: later, the third reviewer gets the oldest item.
    later = timezone.now() + REVIEW_CLAIM + timedelta(seconds=1)
    assert review_next(project=project, reviewer=third, now=later) == first
