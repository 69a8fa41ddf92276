"""Annotators' own answers: listing them, changing them until resolution, their figures, who may
reach what, and the live activity panel."""

import pytest
from django.test import Client

from labeling.models import Annotation
from projects.models import Item, Membership
from tests.conftest import api_client_for
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def answer(api, item, value):
    return api.post(
        f"/api/items/{item.pk}/annotations/", {"result": {"sentiment": value}}, format="json"
    )


def test_my_annotations_lists_my_answers_newest_first_and_says_which_can_change(
    project, annotator, annotator_api
):
    project.overlap = 2
    project.save()
    first, second = ItemFactory.create_batch(2, project=project)
    assert answer(annotator_api, first, "positive").status_code == 201
    assert answer(annotator_api, second, "negative").status_code == 201
    other = UserFactory(username="other")
    MembershipFactory(project=project, user=other, role=Membership.Role.ANNOTATOR)
    answer(api_client_for(other), first, "positive")  # resolves `first` (unanimous)

    body = annotator_api.get(f"/api/projects/{project.pk}/my-annotations/").json()
    assert body["count"] == 2 and "next" in body
    rows = body["results"]
    assert [r["item"]["id"] for r in rows] == [second.pk, first.pk]
    assert rows[0]["result"] == {"sentiment": "negative"} and rows[0]["can_edit"] is True
    assert rows[1]["can_edit"] is False
    assert {"updated_at", "created_at"} <= set(rows[0])


def test_an_answer_changes_until_the_item_is_resolved(project, annotator, annotator_api):
    project.overlap = 2
    project.save()
    item = ItemFactory(project=project)
    assert answer(annotator_api, item, "positive").status_code == 201
    response = answer(annotator_api, item, "negative")
    assert response.status_code == 200
    assert Annotation.objects.get().result == {"sentiment": "negative"}
    item.refresh_from_db()
    assert item.annotation_count == 1  # an edit is not a second answer
    other = UserFactory(username="other")
    MembershipFactory(project=project, user=other, role=Membership.Role.ANNOTATOR)
    answer(api_client_for(other), item, "negative")
    assert answer(annotator_api, item, "positive").status_code == 409
    assert Annotation.objects.get(annotator=annotator).result == {"sentiment": "negative"}


def test_my_annotations_pages(project, annotator, annotator_api):
    project.overlap = 1
    project.save()
    for item in ItemFactory.create_batch(55, project=project):
        Annotation.objects.create(
            project=project, item=item, annotator=annotator, result={"sentiment": "positive"}
        )
    body = annotator_api.get(f"/api/projects/{project.pk}/my-annotations/").json()
    assert body["count"] == 55 and len(body["results"]) == 50 and body["next"]
    assert len(annotator_api.get(body["next"]).json()["results"]) == 5


def test_my_stats_counts_answers_and_skips(project, annotator_api):
    ItemFactory.create_batch(2, project=project)
    found = annotator_api.get(f"/api/projects/{project.pk}/next/").json()
    response = annotator_api.post(
        f"/api/assignments/{found['assignment']['id']}/skip/", {"reason": "blurry"}, format="json"
    )
    assert response.status_code == 200
    found = annotator_api.get(f"/api/projects/{project.pk}/next/").json()
    answer(annotator_api, Item.objects.get(pk=found["item"]["id"]), "positive")
    stats = annotator_api.get(f"/api/projects/{project.pk}/my-stats/").json()
    assert stats == {"annotated": 1, "skipped": 1, "gold_answered": 0, "gold_accuracy": None}


def test_an_annotator_cannot_fetch_or_annotate_an_item_of_another_project(annotator_api):
    foreign = ProjectFactory()
    item = ItemFactory(project=foreign)
    assert annotator_api.get(f"/api/projects/{foreign.pk}/next/").status_code == 404
    assert annotator_api.get(f"/api/items/{item.pk}/").status_code == 404
    assert answer(annotator_api, item, "positive").status_code == 404
    assert annotator_api.get(f"/api/projects/{foreign.pk}/my-annotations/").status_code == 404
    assert annotator_api.get(f"/api/projects/{foreign.pk}/my-stats/").status_code == 404
    assert not Annotation.objects.exists()
    item.refresh_from_db()
    assert item.assigned_count == 0


def test_an_annotator_cannot_skip_an_assignment_of_another_project(project, annotator_api):
    foreign = ProjectFactory()
    ItemFactory(project=foreign)
    stranger = UserFactory(username="stranger")
    MembershipFactory(project=foreign, user=stranger, role=Membership.Role.ANNOTATOR)
    found = api_client_for(stranger).get(f"/api/projects/{foreign.pk}/next/").json()
    response = annotator_api.post(
        f"/api/assignments/{found['assignment']['id']}/skip/", {}, format="json"
    )
    assert response.status_code == 404  # outsiders: not there for them


def test_the_activity_panel_shows_states_workers_and_held_items(
    project, lead, annotator, annotator_api
):
    item = ItemFactory(project=project, external_id="held-item-7")
    ItemFactory(project=project)
    annotator_api.get(f"/api/projects/{project.pk}/next/")
    client = Client()
    client.force_login(lead)
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert f"/projects/{project.pk}/activity/" in page
    panel = client.get(f"/projects/{project.pk}/activity/").content.decode()
    assert item.external_id in panel
    assert "ann1" in panel
    assert "Held items (1)" in panel and "Working now (1)" in panel
    annotator_client = Client()
    annotator_client.force_login(annotator)
    assert annotator_client.get(f"/projects/{project.pk}/activity/").status_code == 403
