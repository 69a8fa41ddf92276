"""The data manager's pages: the table, its htmx partials, bulk forms, the item page."""

import json

import pytest
from django.test import Client

from labeling.models import ItemBulkJob
from projects.models import Item, Membership
from tests.factories import MembershipFactory, UserFactory


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page_url(table, tail="") -> str:
    return f"/projects/{table.project.pk}/items/{tail}"


@pytest.mark.django_db
def test_the_table_shows_the_filtered_items_and_keeps_the_view_in_links(table, lead):
    response = client_for(lead).get(page_url(table), {"status": "open", "ordering": "-id"})
    assert response.status_code == 200
    html = response.content.decode()
    row = 'data-item-id="{}"'.format
    assert html.index(row(table.items["f"].pk)) < html.index(row(table.items["a"].pk))
    assert row(table.items["b"].pk) not in html
    assert "status=open" in html  # sort links and the selection keep the filter
    assert "Stocks fell sharply" in html and "dm-bulk" in html


@pytest.mark.django_db
def test_htmx_gets_only_the_table_with_its_next_page(table, lead):
    response = client_for(lead).get(page_url(table), {"size": 2}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html and "dm-table" in html and "cursor=" in html


@pytest.mark.django_db
def test_a_bad_filter_is_named_on_the_page(table, lead):
    response = client_for(lead).get(page_url(table), {"agreement_min": "high"})
    assert response.status_code == 400
    assert "agreement_min" in response.content.decode()


@pytest.mark.django_db
def test_reviewers_read_annotators_may_not(table, annotator):
    reviewer = UserFactory(username="rev")
    MembershipFactory(project=table.project, user=reviewer, role=Membership.Role.REVIEWER)
    response = client_for(reviewer).get(page_url(table))
    assert response.status_code == 200 and "dm-bulk" not in response.content.decode()
    assert client_for(reviewer).post(page_url(table, "bulk/"), {}).status_code == 403
    assert client_for(annotator).get(page_url(table)).status_code == 403


@pytest.mark.django_db
def test_the_bulk_form_acts_on_ticked_items_or_on_all_that_match(table, lead):
    client = client_for(lead)
    a, e = table.items["a"], table.items["e"]
    response = client.post(
        page_url(table, "bulk/"),
        {"scope": "checked", "ids": [a.pk, e.pk], "action": "set_priority", "priority": "8"},
    )
    assert response.status_code == 200 and "done" in response.content.decode()
    assert set(Item.objects.filter(priority=8).values_list("pk", flat=True)) == {a.pk, e.pk}
    response = client.post(
        page_url(table, "bulk/"),
        {"scope": "all", "query": "gold=true", "ids": [a.pk], "action": "unset_gold"},
    )
    assert not Item.objects.filter(gold__isnull=False).exists()
    job = ItemBulkJob.objects.latest("id")
    poll = client.get(page_url(table, f"bulk/{job.pk}/"))
    assert poll.status_code == 200 and "1 changed" in poll.content.decode()


@pytest.mark.django_db
def test_the_bulk_form_names_what_is_wrong(table, lead):
    response = client_for(lead).post(
        page_url(table, "bulk/"), {"scope": "checked", "action": "set_priority", "priority": "x"}
    )
    html = response.content.decode()
    assert "Refused" in html and "params.priority" in html and "selection.ids" in html
    assert not ItemBulkJob.objects.exists()


@pytest.mark.django_db
def test_the_item_page_shows_data_answers_predictions_and_history(table, lead):
    c = table.items["c"]
    html = client_for(lead).get(page_url(table, f"{c.pk}/")).content.decode()
    assert "The vote was a close call" in html
    assert "bob" in html and "cat" in html and "negative" in html
    assert "(current)" in html and "pending" in html
    assert f"/projects/{table.project.pk}/review/" in html
    f = table.items["f"]
    html = client_for(lead).get(page_url(table, f"{f.pk}/")).content.decode()
    assert "v2" in html and "0.8" in html and "blog" in html


@pytest.mark.django_db
def test_the_export_form_for_a_selection(table, lead, django_capture_on_commit_callbacks):
    client = client_for(lead)
    form = client.get(f"/projects/{table.project.pk}/exports/selection/").content.decode()
    assert 'value="jsonl"' in form
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/projects/{table.project.pk}/exports/selection/start/",
            {"scope": "checked", "ids": [table.items["b"].pk], "format": "csv"},
        )
    assert "started" in response.content.decode()
    job = table.project.export_jobs.get()
    assert job.status == "done" and job.options["selection"] == {"ids": [table.items["b"].pk]}
    assert job.items_total == 1


@pytest.mark.django_db
def test_the_review_link_starts_the_review_page_at_the_item(table, lead):
    c = table.items["c"]
    response = client_for(lead).get(f"/projects/{table.project.pk}/review/?item={c.pk}")
    assert json.loads(response.context["config_json"])["startAfter"] == c.pk - 1
