"""The queue and annotations over the REST API: next, submit, skip, item detail."""

import pytest

from labeling.models import Annotation, Assignment
from projects.models import Item, Membership
from tests.conftest import api_client_for
from tests.factories import ItemFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_next_gives_an_item_with_its_assignment(project, annotator_api):
    item = ItemFactory(project=project)
    response = annotator_api.get(f"/api/projects/{project.pk}/next/")
    assert response.status_code == 200
    body = response.json()
    assert body["item"]["id"] == item.pk
    assert body["item"]["data"] == item.data
    assert set(body["assignment"]) == {"id", "expires_at"}
    assert Assignment.objects.get(pk=body["assignment"]["id"]).state == Assignment.State.ACTIVE


def test_next_is_204_with_no_body_when_nothing_is_left(project, annotator_api):
    response = annotator_api.get(f"/api/projects/{project.pk}/next/")
    assert response.status_code == 204
    assert response.content == b""


def test_submit_stores_the_answer_and_resolves_a_single_overlap_item(project, annotator_api):
    item = ItemFactory(project=project)
    annotator_api.get(f"/api/projects/{project.pk}/next/")
    response = annotator_api.post(
        f"/api/items/{item.pk}/annotations/",
        {"result": {"sentiment": "negative"}, "lead_time": 2.5},
        format="json",
    )
    assert response.status_code == 201
    annotation = Annotation.objects.get()
    assert annotation.result == {"sentiment": "negative"}
    assert annotation.lead_time == 2.5
    detail = annotator_api.get(f"/api/items/{item.pk}/").json()
    assert detail["status"] == "resolved"
    assert detail["resolution"]["result"] == {"sentiment": "negative"}
    assert detail["resolution"]["method"] == "single"
    assert annotator_api.get(f"/api/projects/{project.pk}/next/").status_code == 204


@pytest.mark.parametrize(
    ("result", "control"),
    [
        ({"sentiment": "furious"}, "sentiment"),
        ({}, "sentiment"),
        ({"sentiment": "positive", "extra": 1}, "extra"),
        ("positive", "result"),
    ],
)
def test_invalid_results_get_400_naming_the_control_and_store_nothing(
    project, annotator_api, result, control
):
    item = ItemFactory(project=project)
    response = annotator_api.post(
        f"/api/items/{item.pk}/annotations/", {"result": result}, format="json"
    )
    assert response.status_code == 400
    assert control in response.json()["result"]
    assert not Annotation.objects.exists()
    item.refresh_from_db()
    assert item.annotation_count == 0


def test_a_missing_result_is_a_400(project, annotator_api):
    item = ItemFactory(project=project)
    response = annotator_api.post(f"/api/items/{item.pk}/annotations/", {}, format="json")
    assert response.status_code == 400


def test_overlap_two_needs_two_annotators_and_annotators_never_see_each_other(project, annotator):
    project.overlap = 2
    project.save()
    second = UserFactory(username="ann2")
    MembershipFactory(project=project, user=second, role=Membership.Role.ANNOTATOR)
    item = ItemFactory(project=project)
    first_api, second_api = api_client_for(annotator), api_client_for(second)

    assert first_api.get(f"/api/projects/{project.pk}/next/").json()["item"]["id"] == item.pk
    assert second_api.get(f"/api/projects/{project.pk}/next/").json()["item"]["id"] == item.pk
    first_api.post(
        f"/api/items/{item.pk}/annotations/", {"result": {"sentiment": "positive"}}, format="json"
    )
    detail = second_api.get(f"/api/items/{item.pk}/").json()
    assert detail["status"] == "open"
    assert "annotations" not in detail and detail["resolution"] is None
    second_api.post(
        f"/api/items/{item.pk}/annotations/", {"result": {"sentiment": "positive"}}, format="json"
    )
    detail = second_api.get(f"/api/items/{item.pk}/").json()
    assert detail["resolution"]["method"] == "unanimous"
    assert detail["resolution"]["agreement"] == 1.0


def test_a_full_item_refuses_a_third_answer(project, annotator):
    item = ItemFactory(project=project)
    api_client_for(annotator).post(
        f"/api/items/{item.pk}/annotations/", {"result": {"sentiment": "positive"}}, format="json"
    )
    late = UserFactory(username="late")
    MembershipFactory(project=project, user=late, role=Membership.Role.ANNOTATOR)
    response = api_client_for(late).post(
        f"/api/items/{item.pk}/annotations/", {"result": {"sentiment": "negative"}}, format="json"
    )
    assert response.status_code == 409
    assert Annotation.objects.count() == 1


def test_skip_gives_the_item_to_others(project, annotator_api):
    item = ItemFactory(project=project)
    assignment_id = annotator_api.get(f"/api/projects/{project.pk}/next/").json()["assignment"][
        "id"
    ]
    response = annotator_api.post(
        f"/api/assignments/{assignment_id}/skip/", {"reason": "unclear"}, format="json"
    )
    assert response.status_code == 200
    item.refresh_from_db()
    assert (item.skip_count, item.assigned_count) == (1, 0)
    assert annotator_api.get(f"/api/projects/{project.pk}/next/").status_code == 204
    other = UserFactory(username="other")
    MembershipFactory(project=project, user=other, role=Membership.Role.ANNOTATOR)
    assert (
        api_client_for(other).get(f"/api/projects/{project.pk}/next/").json()["item"]["id"]
        == item.pk
    )


def test_nobody_can_skip_someone_elses_assignment(project, annotator_api):
    ItemFactory(project=project)
    assignment_id = annotator_api.get(f"/api/projects/{project.pk}/next/").json()["assignment"][
        "id"
    ]
    other = UserFactory(username="other")
    MembershipFactory(project=project, user=other, role=Membership.Role.ANNOTATOR)
    response = api_client_for(other).post(
        f"/api/assignments/{assignment_id}/skip/", {}, format="json"
    )
    assert response.status_code == 409
    assert Item.objects.get().skip_count == 0
