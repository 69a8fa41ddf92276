"""Issue 2's end-to-end check: an annotator labels three items with hotkeys in Chromium."""

import pytest

from labeling.models import Annotation
from projects.models import Item, Membership
from tests.browser.conftest import login, screenshot
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_annotator_labels_three_items_with_hotkeys(page):
    annotator = UserFactory(username="anna")
    project = ProjectFactory(name="Reviews")
    MembershipFactory(project=project, user=annotator, role=Membership.Role.ANNOTATOR)
    items = [
        ItemFactory(project=project, external_id=f"t{n}", data={"text": f"Review {n}"})
        for n in range(1, 5)
    ]

    login(page, "anna")
    page.goto(f"/projects/{project.pk}/label/")
    expected = {}
    for key, label in (("1", "positive"), ("2", "negative"), ("3", "neutral")):
        item_text = page.locator(".ws-field").first
        item_text.wait_for()
        shown = item_text.inner_text()
        item = next(i for i in items if i.data["text"] == shown)
        page.keyboard.press(key)
        assert page.get_by_role("radio", name=label).is_checked()
        if key == "1":
            screenshot(page, "text-classification-choice")
        page.keyboard.press("Enter")
        page.wait_for_function(
            "id => document.getElementById('workspace').dataset.itemId !== String(id)", arg=item.pk
        )
        expected[item.pk] = label

    stored = {a.item_id: a.result for a in Annotation.objects.filter(annotator=annotator)}
    assert stored == {pk: {"sentiment": label} for pk, label in expected.items()}
    assert Item.objects.filter(status=Item.Status.RESOLVED).count() == 3


def test_submit_without_answer_shows_message_and_stores_nothing(page):
    annotator = UserFactory(username="ben")
    project = ProjectFactory()
    MembershipFactory(project=project, user=annotator, role=Membership.Role.ANNOTATOR)
    ItemFactory(project=project)

    login(page, "ben")
    page.goto(f"/projects/{project.pk}/label/")
    page.locator(".ws-field").first.wait_for()
    page.keyboard.press("Enter")
    assert "sentiment" in page.get_by_role("alert").inner_text()
    assert not Annotation.objects.exists()


def test_skip_with_s_moves_on(page):
    annotator = UserFactory(username="cleo")
    project = ProjectFactory()
    MembershipFactory(project=project, user=annotator, role=Membership.Role.ANNOTATOR)
    first, second = ItemFactory(project=project), ItemFactory(project=project)

    login(page, "cleo")
    page.goto(f"/projects/{project.pk}/label/")
    page.locator(".ws-field").first.wait_for()
    assert page.locator(".ws-field").first.inner_text() == first.data["text"]
    page.keyboard.press("s")
    page.keyboard.press("Enter")  # confirms the skip (no reason given)
    page.wait_for_function(
        "id => document.getElementById('workspace').dataset.itemId === String(id)", arg=second.pk
    )
    first.refresh_from_db()
    assert first.skip_count == 1
