"""Drafts: the workspace's unfinished answers, per annotator and item, through the API."""

import pytest

from labeling.annotate.drafts import DraftRefused, draft_save
from labeling.models import Draft
from projects.models import Item, Membership
from tests.conftest import api_client_for
from tests.factories import ItemFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def draft_url(item) -> str:
    return f"/api/items/{item.pk}/draft/"


def test_put_get_and_delete_a_draft(project, annotator_api):
    item = ItemFactory(project=project)
    assert annotator_api.get(draft_url(item)).status_code == 204

    response = annotator_api.put(
        draft_url(item), {"result": {"sentiment": "neutral"}, "lead_time": 4.5}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["result"] == {"sentiment": "neutral"}
    # A second save replaces the first.
    annotator_api.put(draft_url(item), {"result": {}, "lead_time": 6}, format="json")
    fetched = annotator_api.get(draft_url(item)).json()
    assert (fetched["result"], fetched["lead_time"]) == ({}, 6.0)
    assert Draft.objects.count() == 1

    assert annotator_api.delete(draft_url(item)).status_code == 204
    assert not Draft.objects.exists()


def test_a_draft_may_be_partial_but_names_only_known_controls(project, annotator_api):
    item = ItemFactory(project=project)
    response = annotator_api.put(draft_url(item), {"result": {"colour": "red"}}, format="json")
    assert response.status_code == 409
    assert "colour" in response.json()["detail"]
    response = annotator_api.put(draft_url(item), {"result": ["not", "an object"]}, format="json")
    assert response.status_code == 409


def test_drafts_are_private_to_their_annotator(project, annotator, annotator_api):
    other = UserFactory(username="other")
    MembershipFactory(project=project, user=other, role=Membership.Role.ANNOTATOR)
    item = ItemFactory(project=project)
    annotator_api.put(draft_url(item), {"result": {"sentiment": "positive"}}, format="json")
    assert api_client_for(other).get(draft_url(item)).status_code == 204
    outsider = api_client_for(UserFactory(username="outsider"))
    assert outsider.put(draft_url(item), {"result": {}}, format="json").status_code == 404


def test_submitting_the_answer_discards_the_draft(project, annotator_api):
    item = ItemFactory(project=project)
    annotator_api.put(draft_url(item), {"result": {"sentiment": "positive"}}, format="json")
    response = annotator_api.post(
        f"/api/items/{item.pk}/annotations/", {"result": {"sentiment": "positive"}}, format="json"
    )
    assert response.status_code == 201
    assert not Draft.objects.exists()


def test_no_draft_for_a_resolved_item(project, annotator):
    item = ItemFactory(project=project, status=Item.Status.RESOLVED)
    with pytest.raises(DraftRefused):
        draft_save(item=item, annotator=annotator, result={})
