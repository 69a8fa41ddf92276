"""Send back from review: to whom, refused when nobody is left; the reason in words; the count
of items left after a decision."""

import pytest

from labeling.annotate.queue import assignment_next, item_send_back_to
from labeling.annotate.submit import annotation_submit
from labeling.consensus.aggregation.base import words_joined
from labeling.consensus.review import ReviewRefused, item_send_back, review_eligible_annotators
from labeling.models import Assignment
from projects.models import Item, Project
from tests.conftest import api_client_for
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

SCHEMA = {"controls": [{"name": "sentiment", "kind": "choice", "labels": ["pos", "neg", "neu"]}]}


@pytest.fixture
def team():
    project = ProjectFactory(
        label_schema=SCHEMA, overlap=2, review_policy=Project.ReviewPolicy.DISAGREEMENTS
    )
    people = {name: UserFactory(username=f"sb-{name}") for name in ("lead", "a1", "a2", "a3")}
    MembershipFactory(project=project, user=people["lead"], role="lead")
    for name in ("a1", "a2", "a3"):
        MembershipFactory(project=project, user=people[name], role="annotator")
    return project, people


def disputed(project, people, n=1):
    item = ItemFactory(project=project, external_id=f"d{n}", data={"text": "Fine, I guess."})
    annotation_submit(item=item, annotator=people["a1"], result={"sentiment": "pos"})
    annotation_submit(item=item, annotator=people["a2"], result={"sentiment": "neu"})
    item.refresh_from_db()
    assert item.status == Item.Status.IN_REVIEW
    return item


def test_the_reason_reads_as_words(team):
    project, people = team
    item = disputed(project, people)
    reason = item.resolutions.get(is_current=True).reason
    assert reason == "no majority on sentiment: tie between neu and pos"
    assert words_joined(["b", "a", "c"]) == "a, b and c"
    assert words_joined([None]) == "no answer"


def test_send_back_to_one_annotator_holds_the_slot_for_them(team):
    project, people = team
    item = disputed(project, people)
    assert review_eligible_annotators(item=item) == [people["a3"]]
    item_send_back_to(item=item, reviewer=people["lead"], annotator=people["a3"])
    item.refresh_from_db()
    assert (item.status, item.extra_slots, item.assigned_count) == (Item.Status.OPEN, 1, 1)
    held = Assignment.objects.get(item=item, state=Assignment.State.ACTIVE)
    assert held.annotator == people["a3"]
    # Nobody else gets the slot (the lead would otherwise be offered it) ...
    assert assignment_next(project=project, annotator=people["lead"]) is None
    # ... and a3 gets this very item.
    assert assignment_next(project=project, annotator=people["a3"]).item == item


def test_send_back_is_refused_when_every_annotator_answered(team):
    project, people = team
    item = disputed(project, people)
    project.memberships.filter(user=people["a3"]).delete()  # a1 and a2 are all there is
    assert review_eligible_annotators(item=item) == []
    with pytest.raises(ReviewRefused, match="Every annotator of the project"):
        item_send_back(item=item, reviewer=people["lead"])
    with pytest.raises(ReviewRefused, match="cannot answer this item"):
        item_send_back_to(item=item, reviewer=people["lead"], annotator=people["a1"])
    item.refresh_from_db()
    assert item.status == Item.Status.IN_REVIEW and item.extra_slots == 0


def test_the_api_sends_back_to_a_username_and_counts_what_is_left(team):
    project, people = team
    first, second = disputed(project, people, 1), disputed(project, people, 2)
    client = api_client_for(people["lead"])
    packet = client.get(f"/api/projects/{project.pk}/review/next/").json()
    assert packet["title"] == "Item 1 (d1)"
    assert packet["eligible_annotators"] == ["sb-a3"]
    assert packet["review_left"] == 2
    response = client.post(
        f"/api/items/{first.pk}/resolution/", {"action": "send_back", "annotator": "nobody"}
    )
    assert response.status_code == 400 and "nobody" in response.json()["annotator"]
    response = client.post(
        f"/api/items/{first.pk}/resolution/", {"action": "send_back", "annotator": "sb-a1"}
    )
    assert response.status_code == 409 and "sb-a1" in response.json()["detail"]
    response = client.post(
        f"/api/items/{first.pk}/resolution/", {"action": "send_back", "annotator": "sb-a3"}
    )
    assert response.status_code == 201 and response.json()["review_left"] == 1
    annotation = second.annotations.first()
    response = client.post(
        f"/api/items/{second.pk}/resolution/", {"action": "accept", "annotation": annotation.pk}
    )
    assert response.status_code == 201 and response.json()["review_left"] == 0
