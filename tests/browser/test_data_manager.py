"""The lead filters the data manager's table, sorts it, and acts on a selection in bulk."""

import re

import pytest
from playwright.sync_api import expect

from labeling.models import Annotation, Resolution
from projects.models import Item, Membership
from tests.browser.conftest import login, screenshot
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

TEXTS = [
    "Great match and a happy crowd",
    "The crowd left early in the rain",
    "Stocks fell sharply on Monday",
    "A quiet day at the harbour",
    "The vote was a close call",
    "Rain stopped play again",
]


@pytest.fixture
def data_manager_project(db):
    lead = UserFactory(username="dm-lead")
    annotator = UserFactory(username="dm-ann")
    project = ProjectFactory(name="Reviews", created_by=lead)
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    MembershipFactory(project=project, user=annotator, role=Membership.Role.ANNOTATOR)
    items = [
        ItemFactory(project=project, external_id=f"r{n}", data={"text": text}, priority=n)
        for n, text in enumerate(TEXTS)
    ]
    for item in items[:2]:
        Annotation.objects.create(
            project=project, item=item, annotator=annotator, result={"sentiment": "positive"}
        )
        Resolution.objects.create(
            item=item, result={"sentiment": "positive"}, method="single", agreement=None
        )
        Item.objects.filter(pk=item.pk).update(status="resolved", annotation_count=1)
    return project, items


def rows(page):
    return page.locator("#dm-table tbody tr[data-item-id]")


def test_filter_sort_and_bulk_act(page, live_server, data_manager_project, page_errors):
    project, items = data_manager_project
    login(page, "dm-lead")
    page.goto(f"/projects/{project.pk}/items/")
    expect(rows(page)).to_have_count(6)

    # Full-text search, then a status filter on top: the table and the URL follow.
    page.get_by_label("Search").fill("crowd")
    page.get_by_role("button", name="Filter").click()
    expect(rows(page)).to_have_count(2)
    expect(page).to_have_url(re.compile(r"search=crowd"))
    page.get_by_label("Open", exact=True).check()
    expect(rows(page)).to_have_count(0)
    page.get_by_label("Open", exact=True).uncheck()
    page.get_by_label("Resolved", exact=True).check()
    expect(rows(page)).to_have_count(2)
    page.get_by_label("Search").fill("")
    page.get_by_label("Resolved", exact=True).uncheck()
    page.get_by_label("Open", exact=True).check()
    expect(rows(page)).to_have_count(4)
    expect(page).to_have_url(re.compile(r"status=open"))

    # Sort by priority, descending on the second click.
    page.locator("#dm-table thead").get_by_role("link", name="Priority").click()
    expect(page).to_have_url(re.compile(r"ordering=priority"))
    page.locator("#dm-table thead").get_by_role("link", name="Priority").click()
    expect(page).to_have_url(re.compile(r"ordering=-priority"))
    expect(rows(page).first).to_have_attribute("data-item-id", str(items[5].pk))

    # Tick two items and set their priority.
    page.get_by_label("Tick r5").check()
    page.get_by_label("Tick r4").check()
    expect(page.locator("#dm-checked-count")).to_have_text("2")
    page.get_by_label("Action").select_option("set_priority")
    page.get_by_label("Priority", exact=True).fill("40")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#dm-job")).to_contain_text("done")
    expect(page.locator("#dm-job")).to_contain_text("2 changed")
    assert set(Item.objects.filter(priority=40).values_list("external_id", flat=True)) == {
        "r4",
        "r5",
    }

    # Mark every item that matches the filter (the four open ones) gold with an answer.
    page.get_by_label("all that match the filter").check()
    page.get_by_label("Action").select_option("set_gold")
    page.get_by_label("Control").fill("sentiment")
    page.get_by_label("Label", exact=True).last.fill("neutral")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#dm-job")).to_contain_text("4 changed")
    gold = Item.objects.filter(project=project, gold={"sentiment": "neutral"})
    assert sorted(gold.values_list("external_id", flat=True)) == ["r2", "r3", "r4", "r5"]

    # The view is in the URL: reloading it shows the same filtered, sorted table.
    page.reload()
    expect(page.get_by_label("Open", exact=True)).to_be_checked()
    expect(rows(page)).to_have_count(4)
    expect(rows(page).first).to_have_attribute("data-item-id", str(items[5].pk))
    screenshot(page, "data_manager")

    # An item's page: its data, its answers, its history.
    page.goto(f"/projects/{project.pk}/items/?status=resolved")
    page.get_by_role("link", name="r1", exact=True).click()
    # The data through the annotators' own widgets, the current resolution shown in them; each
    # stored answer can be shown instead.
    view = page.locator("#dm-view-item")
    expect(view.get_by_text("The crowd left early in the rain")).to_be_visible()
    shown = page.get_by_label("Show in the widgets")
    expect(shown.locator("option:checked")).to_have_text("Resolution (single, accepted)")
    expect(page.locator("#dm-view-form").get_by_label("positive")).to_be_checked()
    shown.select_option(label="Nothing (empty widgets)")
    expect(page.locator("#dm-view-form").get_by_label("positive")).not_to_be_checked()
    shown.select_option(label="dm-ann's answer")
    expect(page.locator("#dm-view-form").get_by_label("positive")).to_be_checked()
    expect(page.get_by_role("cell", name="dm-ann")).to_be_visible()
    screenshot(page, "data_manager_item")
    assert page_errors == []
