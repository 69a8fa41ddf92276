"""Projects, members and items over the REST API, with tokens and roles."""

import pytest
from rest_framework.test import APIClient

from projects.models import Item, Membership, Project
from tests.conftest import api_client_for
from tests.factories import (
    TEXT_CLASSIFICATION_SCHEMA,
    ItemFactory,
    UserFactory,
    api_token_secret,
)

pytestmark = pytest.mark.django_db


def test_token_is_issued_for_username_and_password_and_authenticates(lead, project):
    client = APIClient()
    response = client.post(
        "/api/auth/token/", {"username": "lead", "password": "secret-pass-123"}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    listed = client.get("/api/projects/")
    assert listed.status_code == 200
    assert [p["id"] for p in listed.json()["results"]] == [project.pk]


def test_unknown_token_and_inactive_users_token_are_refused(lead, project):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    refused = client.get("/api/projects/")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "Invalid token."
    token = api_token_secret(lead)
    lead.is_active = False
    lead.save()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    inactive = client.get("/api/projects/")
    assert inactive.status_code == 401
    assert inactive.json()["detail"] == "User inactive or deleted."


@pytest.mark.parametrize("bad_id", ["abc", "12x", "99999999999999999999", "0"])
def test_ids_that_name_no_row_get_404(annotator_api, project, bad_id):
    assert annotator_api.get(f"/api/projects/{bad_id}/next/").status_code == 404
    assert annotator_api.get(f"/api/items/{bad_id}/").status_code == 404
    answer = {"result": {"sentiment": "positive"}}
    posted = annotator_api.post(f"/api/items/{bad_id}/annotations/", answer, format="json")
    assert posted.status_code == 404


def test_wrong_password_gets_no_token(lead):
    response = APIClient().post(
        "/api/auth/token/", {"username": "lead", "password": "nope"}, format="json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/projects/"),
        ("post", "/api/projects/"),
        ("get", "/api/projects/{p}/"),
        ("patch", "/api/projects/{p}/"),
        ("post", "/api/projects/{p}/members/"),
        ("post", "/api/projects/{p}/items/"),
        ("get", "/api/projects/{p}/next/"),
        ("get", "/api/items/{i}/"),
        ("post", "/api/items/{i}/annotations/"),
        ("get", "/api/projects/{p}/download/"),
    ],
)
def test_every_endpoint_needs_authentication(project, method, path):
    item = ItemFactory(project=project)
    url = path.format(p=project.pk, i=item.pk)
    response = getattr(APIClient(), method)(url, {}, format="json")
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/projects/{p}/"),
        ("patch", "/api/projects/{p}/"),
        ("post", "/api/projects/{p}/members/"),
        ("post", "/api/projects/{p}/items/"),
        ("get", "/api/projects/{p}/next/"),
        ("get", "/api/items/{i}/"),
        ("post", "/api/items/{i}/annotations/"),
        ("get", "/api/projects/{p}/download/"),
    ],
)
def test_non_members_are_refused_with_404(project, method, path):
    item = ItemFactory(project=project)
    stranger = api_client_for(UserFactory(username="stranger"))
    url = path.format(p=project.pk, i=item.pk)
    body = {"result": {"sentiment": "positive"}} if "annotations" in path else {}
    response = getattr(stranger, method)(url, body, format="json")
    assert response.status_code == 404  # outsiders: not there for them


def test_project_list_shows_only_the_users_projects(project, annotator_api):
    Project.objects.create(name="Other", label_schema=TEXT_CLASSIFICATION_SCHEMA)
    names = [p["name"] for p in annotator_api.get("/api/projects/").json()["results"]]
    assert names == [project.name]


def test_lead_creates_a_project_and_becomes_its_lead(lead_api, lead):
    response = lead_api.post(
        "/api/projects/",
        {"name": "New", "label_schema": TEXT_CLASSIFICATION_SCHEMA, "overlap": 3},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["overlap"] == 3
    assert body["role"] == "lead"
    assert body["label_schema"]["controls"][0]["name"] == "sentiment"
    project = Project.objects.get(pk=body["id"])
    assert project.memberships.get().user == lead


def test_creating_a_project_with_a_bad_schema_names_the_problem(lead_api):
    bad = {"controls": [{"name": "s", "kind": "choice", "labels": []}]}
    response = lead_api.post("/api/projects/", {"name": "X", "label_schema": bad}, format="json")
    assert response.status_code == 400
    assert "label_schema" in response.json()
    assert not Project.objects.filter(name="X").exists()


def test_annotators_cannot_create_projects(annotator_api, project):
    response = annotator_api.post(
        "/api/projects/",
        {"name": "Mine", "label_schema": TEXT_CLASSIFICATION_SCHEMA},
        format="json",
    )
    assert response.status_code == 403


def test_lead_patches_settings_and_annotator_cannot(project, lead_api, annotator_api):
    assert (
        lead_api.patch(f"/api/projects/{project.pk}/", {"overlap": 2}, format="json").status_code
        == 200
    )
    project.refresh_from_db()
    assert project.overlap == 2
    response = annotator_api.patch(f"/api/projects/{project.pk}/", {"overlap": 5}, format="json")
    assert response.status_code == 403
    assert (
        lead_api.patch(f"/api/projects/{project.pk}/", {"overlap": 0}, format="json").status_code
        == 400
    )


def test_lead_adds_members_with_roles(project, lead_api):
    UserFactory(username="rita")
    response = lead_api.post(
        f"/api/projects/{project.pk}/members/",
        {"username": "rita", "role": "reviewer"},
        format="json",
    )
    assert response.status_code == 201
    assert project.memberships.get(user__username="rita").role == Membership.Role.REVIEWER
    # Changing the role updates the one membership.
    lead_api.post(
        f"/api/projects/{project.pk}/members/", {"username": "rita", "role": "lead"}, format="json"
    )
    assert project.memberships.filter(user__username="rita").count() == 1
    listed = lead_api.get(f"/api/projects/{project.pk}/members/").json()
    assert {"username": "rita", "role": "lead"} in [
        {"username": m["username"], "role": m["role"]} for m in listed
    ]


def test_adding_an_unknown_user_or_role_is_a_400(project, lead_api):
    url = f"/api/projects/{project.pk}/members/"
    assert (
        lead_api.post(url, {"username": "ghost", "role": "annotator"}, format="json").status_code
        == 400
    )
    UserFactory(username="sam")
    assert lead_api.post(url, {"username": "sam", "role": "boss"}, format="json").status_code == 400


def test_bulk_items_are_created_and_repeats_skipped(project, lead_api):
    rows = [{"data": {"text": f"t{n}"}, "external_id": f"e{n}"} for n in range(5)]
    url = f"/api/projects/{project.pk}/items/"
    first = lead_api.post(url, rows, format="json").json()
    assert (first["created"], first["skipped"], first["failed"]) == (5, 0, 0)
    again = lead_api.post(
        url, rows + [{"data": {"text": "new"}, "external_id": "e9"}], format="json"
    )
    assert again.status_code == 201
    assert (again.json()["created"], again.json()["skipped"]) == (1, 5)
    assert Item.objects.filter(project=project).count() == 6


def test_bulk_items_report_bad_rows_by_position_and_keep_good_ones(project, lead_api):
    rows = [
        {"data": {"text": "ok"}, "external_id": "a"},
        {"data": {"title": "no text field"}, "external_id": "b"},
        "not an object",
        {"data": {"text": "ok too"}, "external_id": "c", "priority": "high"},
    ]
    body = lead_api.post(f"/api/projects/{project.pk}/items/", rows, format="json").json()
    assert body["created"] == 1
    assert [e["line"] for e in body["errors"]] == [2, 3, 4]
    assert "text" in body["errors"][0]["reason"]
    assert set(Item.objects.values_list("external_id", flat=True)) == {"a"}


def test_items_without_external_id_are_idempotent_by_content(project, lead_api):
    url = f"/api/projects/{project.pk}/items/"
    rows = [{"data": {"text": "same"}}]
    assert lead_api.post(url, rows, format="json").json()["created"] == 1
    assert lead_api.post(url, rows, format="json").json()["skipped"] == 1


def test_bulk_items_refuse_more_than_the_limit_and_non_lists(project, lead_api, settings):
    settings.ITEMS_PER_API_CALL = 3
    url = f"/api/projects/{project.pk}/items/"
    rows = [{"data": {"text": str(n)}} for n in range(4)]
    assert lead_api.post(url, rows, format="json").status_code == 400
    assert lead_api.post(url, {"data": {"text": "x"}}, format="json").status_code == 400
    assert not Item.objects.exists()


def test_annotators_cannot_add_items(project, annotator_api):
    response = annotator_api.post(
        f"/api/projects/{project.pk}/items/", [{"data": {"text": "x"}}], format="json"
    )
    assert response.status_code == 403


def test_openapi_schema_and_docs_are_served(lead_api):
    schema = lead_api.get("/api/schema/")
    assert schema.status_code == 200
    text = schema.content.decode()
    for path in ("/api/projects/{id}/next/", "/api/items/{id}/annotations/", "/api/projects/"):
        assert path in text
    assert lead_api.get("/api/docs/").status_code == 200


def test_the_project_list_reads_every_role_in_one_query(django_assert_max_num_queries):
    user = UserFactory()
    roles = [Membership.Role.LEAD, Membership.Role.ANNOTATOR, Membership.Role.REVIEWER] * 4
    for n, role in enumerate(roles):
        project = Project.objects.create(name=f"p{n}", label_schema=TEXT_CLASSIFICATION_SCHEMA)
        Membership.objects.create(project=project, user=user, role=role)
    Project.objects.create(name="not mine", label_schema=TEXT_CLASSIFICATION_SCHEMA)
    client = APIClient()
    client.force_authenticate(user)
    # The count, the page, the roles: none per project.
    with django_assert_max_num_queries(4):
        listed = client.get("/api/projects/")
    assert listed.status_code == 200
    shown = {row["name"]: row["role"] for row in listed.json()["results"]}
    assert shown == {f"p{n}": role for n, role in enumerate(roles)}
