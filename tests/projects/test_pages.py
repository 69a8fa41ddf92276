"""The lead's pages: project list, creation, members, upload and progress."""

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from projects.models import ImportJob, Item, Membership, Project
from tests.factories import ItemFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def lead_client(client, lead):
    client.force_login(lead)
    return client


def test_pages_need_login(client, project):
    for url in ("/", f"/projects/{project.pk}/", f"/projects/{project.pk}/label/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")


def test_login_page_logs_in(client, lead):
    response = client.post(
        "/accounts/login/", {"username": "lead", "password": "secret-pass-123"}, follow=True
    )
    assert response.status_code == 200
    assert b"Projects" in response.content


def test_project_list_shows_members_only_their_projects(client, project, annotator):
    ProjectFactory(name="Secret project")
    client.force_login(annotator)
    page = client.get("/").content.decode()
    assert project.name in page
    assert "Secret project" not in page
    assert "New project" not in page


def test_lead_creates_a_project_from_label_lines(lead_client, lead):
    response = lead_client.post(
        "/projects/new/",
        {
            "name": "Tickets",
            "instructions": "Route each ticket.",
            "overlap": 2,
            "review_policy": "disagreements",
            "ordering": "sequential",
            "labels": "billing #ff0000 b\nbug #00ff00 g\nother",
            "source_field": "body",
        },
    )
    project = Project.objects.get(name="Tickets")
    assert response.status_code == 302
    control = project.label_schema["controls"][0]
    assert control["source"] == "body"
    assert [(lb["value"], lb["color"], lb["hotkey"]) for lb in control["labels"]] == [
        ("billing", "#ff0000", "b"),
        ("bug", "#00ff00", "g"),
        ("other", "", ""),
    ]
    assert project.memberships.get(user=lead).role == Membership.Role.LEAD


def test_label_lines_get_number_hotkeys_when_none_are_named(lead_client):
    lead_client.post(
        "/projects/new/",
        {
            "name": "P",
            "overlap": 1,
            "review_policy": "none",
            "ordering": "sequential",
            "labels": "yes\nno",
            "source_field": "text",
        },
    )
    labels = Project.objects.get(name="P").label_schema["controls"][0]["labels"]
    assert [lb["hotkey"] for lb in labels] == ["1", "2"]


def test_a_bad_schema_json_redisplays_the_form_with_the_reason(lead_client):
    response = lead_client.post(
        "/projects/new/",
        {
            "name": "P",
            "overlap": 1,
            "review_policy": "none",
            "ordering": "sequential",
            "schema_json": '{"controls": [{"name": "x", "kind": "dial"}]}',
        },
    )
    assert response.status_code == 200
    assert "kind must be one of" in response.content.decode()
    assert not Project.objects.filter(name="P").exists()


def test_annotators_cannot_open_the_create_page(client, annotator, project):
    client.force_login(annotator)
    assert client.get("/projects/new/").status_code == 403


def test_lead_adds_a_member_on_the_project_page(lead_client, project):
    UserFactory(username="newbie")
    lead_client.post(f"/projects/{project.pk}/members/", {"username": "newbie", "role": "reviewer"})
    assert project.memberships.get(user__username="newbie").role == "reviewer"
    page = lead_client.get(f"/projects/{project.pk}/").content.decode()
    assert "newbie" in page


def test_upload_on_the_page_imports_items_and_reports_bad_lines(
    lead_client, project, django_capture_on_commit_callbacks
):
    content = b'{"text": "one", "external_id": "1"}\n{"nope": 1}\n{"text": "two"}\n'
    upload = SimpleUploadedFile("items.jsonl", content, content_type="application/octet-stream")
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(
            f"/projects/{project.pk}/upload/", {"file": upload}, follow=True
        )
    assert response.status_code == 200
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.DONE
    assert (job.created_count, job.failed_count) == (2, 1)
    assert job.errors[0]["line"] == 2
    assert Item.objects.filter(project=project).count() == 2
    page = lead_client.get(f"/projects/{project.pk}/").content.decode()
    assert "line 2" in page


def test_progress_counts_labeled_items(lead_client, project):
    ItemFactory(project=project, status=Item.Status.RESOLVED)
    ItemFactory(project=project)
    page = lead_client.get(f"/projects/{project.pk}/progress/").content.decode()
    assert 'data-testid="labeled-count">1<' in page
    assert "of <strong>2</strong>" in page


def test_non_members_get_404_on_project_pages(client, project):
    client.force_login(UserFactory(username="outsider"))  # the project is not there for them
    assert client.get(f"/projects/{project.pk}/").status_code == 404
    assert client.get(f"/projects/{project.pk}/label/").status_code == 404


def test_annotators_see_no_lead_controls(client, project, annotator):
    client.force_login(annotator)
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert "Add member" not in page and "Upload" not in page
    assert client.post(f"/projects/{project.pk}/members/", {"username": "x"}).status_code == 403


def test_lead_changes_settings_and_schema_on_the_settings_page(
    lead_client, project, django_capture_on_commit_callbacks
):
    item = ItemFactory(project=project)
    page = lead_client.get(f"/projects/{project.pk}/settings/").content.decode()
    assert "sentiment" in page  # the schema is shown as JSON
    schema = {"controls": [{"name": "mood", "kind": "choice", "labels": ["up", "down"]}]}
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_client.post(
            f"/projects/{project.pk}/settings/",
            {
                "name": "Renamed",
                "instructions": "",
                "overlap": 3,
                "max_overlap": 4,
                "assignment_timeout": 600,
                "ordering": "priority",
                "review_policy": "all",
                "auto_accept_threshold": 0.8,
                "aggregation": "dawid_skene",
                "gold_share": 0.1,
                "prefill_predictions": "on",
                "schema_json": json.dumps(schema),
            },
        )
    assert response.status_code == 302
    page = lead_client.get(response.url).content.decode()
    assert "as the items are refiled" in page  # the lead learns the queue re-sorts
    project.refresh_from_db()
    assert (project.name, project.overlap, project.ordering) == ("Renamed", 3, "priority")
    assert (project.auto_accept_threshold, project.gold_share) == (0.8, 0.1)
    assert project.prefill_predictions is True
    assert project.label_schema["controls"][0]["name"] == "mood"
    item.refresh_from_db()
    assert item.queue_ordering == "priority"  # refiled for the queue's new ordering


def test_settings_refuse_a_bad_schema_and_shares_out_of_range(lead_client, project):
    response = lead_client.post(
        f"/projects/{project.pk}/settings/",
        {
            "name": "X",
            "overlap": 1,
            "assignment_timeout": 600,
            "ordering": "sequential",
            "review_policy": "none",
            "auto_accept_threshold": 1.5,
            "aggregation": "majority",
            "gold_share": 0,
            "schema_json": '{"controls": []}',
        },
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "at least one control" in body and "between 0 and 1" in body
    project.refresh_from_db()
    assert project.name != "X"


def test_only_leads_open_settings(client, project, annotator):
    client.force_login(annotator)
    assert client.get(f"/projects/{project.pk}/settings/").status_code == 403


def test_progress_leaves_gold_items_out(lead_client, project):
    ItemFactory(project=project, gold={"sentiment": "positive"})
    ItemFactory(project=project, status=Item.Status.RESOLVED)
    page = lead_client.get(f"/projects/{project.pk}/progress/").content.decode()
    assert 'data-testid="labeled-count">1<' in page
    assert "of <strong>1</strong>" in page
