"""Issue 15, the review page: confirmations, plain reasons, covered text, colours, send back."""

import pytest

from labeling.annotate.submit import annotation_submit
from labeling.models import Assignment
from projects.models import Item, Membership, Project
from tests.browser.conftest import login, screenshot
from tests.browser.workspace_support import wait_for_next_item, workspace_open
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SENTIMENT = {
    "name": "sentiment",
    "kind": "choice",
    "source": "text",
    "labels": ["positive", "neutral", "negative"],  # the workspace's palette gives the colours
}
ENTITIES = {
    "name": "entities",
    "kind": "spans",
    "source": "text",
    "labels": ["PER", "ORG"],
    "required": False,
}
TEXT = "Ada Lovelace wrote to Babbage"


def review_project(schema, annotators=("ann-a", "ann-b"), extra=()):
    project = ProjectFactory(
        name="Disputes",
        label_schema=schema,
        overlap=2,
        # answers that differ go to review (under "none" a tie asks for one more answer)
        review_policy=Project.ReviewPolicy.DISAGREEMENTS,
    )
    MembershipFactory(project=project, user=UserFactory(username="rita"), role="reviewer")
    users = [UserFactory(username=name) for name in annotators]
    for user in users:
        MembershipFactory(project=project, user=user, role=Membership.Role.ANNOTATOR)
    for name in extra:
        MembershipFactory(project=project, user=UserFactory(username=name), role="annotator")
    return project, users


def disputed(project, users, answers):
    number = project.items.count() + 1
    item = ItemFactory(project=project, external_id=f"rev-{number}", data={"text": TEXT})
    for user, result in zip(users, answers, strict=True):
        annotation_submit(item=item, annotator=user, result=result)
    item.refresh_from_db()
    assert item.status == Item.Status.IN_REVIEW
    return item


def wait_for_item(page, item_id):
    page.wait_for_function(
        "id => document.getElementById('review').dataset.itemId === String(id)", arg=item_id
    )


def status_text(page) -> str:
    return page.locator("#rv-status").inner_text()


def test_decisions_are_confirmed_with_the_number_left(page, page_errors):
    project, users = review_project({"controls": [SENTIMENT]})
    pairs = (("positive", "neutral"), ("negative", "neutral"), ("positive", "negative"))
    items = [disputed(project, users, [{"sentiment": a}, {"sentiment": b}]) for a, b in pairs]
    login(page, "rita")
    page.goto(f"/projects/{project.pk}/review/")
    wait_for_item(page, items[0].pk)
    # The reason reads as words, not a Python list.
    reason = page.locator("#rv-reason").inner_text()
    assert reason == "In review: no majority on sentiment: tie between neutral and positive"
    assert page.locator("#rv-title").inner_text() == "Item 1 (rev-1)"
    screenshot(page, "i15-review-reason")

    page.locator("#rv-answers thead button.rv-accept").nth(1).click()
    wait_for_item(page, items[1].pk)
    assert status_text(page) == (
        "Accepted ann-b's answer as the final answer to Item 1 (rev-1). "
        "2 items left in the review queue."
    )
    page.locator("#rv-editor").get_by_role("radio", name="negative").check()
    page.get_by_role("button", name="Save final answer").click()
    wait_for_item(page, items[2].pk)
    assert status_text(page) == (
        "Saved your final answer to Item 2 (rev-2). 1 item left in the review queue."
    )
    screenshot(page, "i15-review-saved")
    page.locator("#rv-editor").get_by_role("radio", name="positive").check()
    page.get_by_role("button", name="Save final answer").click()
    page.get_by_text("Nothing waiting for review in this project.").wait_for()
    assert status_text(page).endswith("The review queue is now empty.")
    assert page_errors == []


def test_spans_show_their_text_and_annotators_do_not_wear_label_colours(page, page_errors):
    project, users = review_project({"controls": [SENTIMENT, ENTITIES]})
    item = disputed(
        project,
        users,
        [
            {"sentiment": "positive", "entities": [{"start": 0, "end": 12, "label": "PER"}]},
            {"sentiment": "negative", "entities": [{"start": 22, "end": 29, "label": "PER"}]},
        ],
    )
    login(page, "rita")
    page.goto(f"/projects/{project.pk}/review/")
    wait_for_item(page, item.pk)
    row = page.locator('#rv-answers tr[data-control="entities"]')
    assert "PER “Ada Lovelace” [0–12)" in row.locator("td").nth(0).inner_text()
    assert "PER “Babbage” [22–29)" in row.locator("td").nth(1).inner_text()

    label_colours = set(
        page.locator("#rv-editor .label-button, #rv-editor label.choice").evaluate_all(
            "nodes => nodes.map(n => getComputedStyle(n).borderTopColor)"
        )
    )
    annotator_colours = page.locator("#rv-legend .rv-swatch").evaluate_all(
        "nodes => nodes.map(n => getComputedStyle(n).backgroundColor)"
    )
    assert len(label_colours) >= 3 and len(set(annotator_colours)) == 2
    assert not label_colours & set(annotator_colours)
    underlines = page.locator(".rv-text .rv-covered").evaluate_all(
        "nodes => nodes.map(n => n.style.boxShadow)"
    )
    assert all(any(c in shadow for c in annotator_colours) for shadow in underlines)
    screenshot(page, "i15-review-spans")
    assert page_errors == []


def test_send_back_goes_to_the_chosen_annotator(page, page_errors):
    project, users = review_project({"controls": [SENTIMENT]}, extra=("ann-c", "ann-d"))
    item = disputed(project, users, [{"sentiment": "positive"}, {"sentiment": "neutral"}])
    login(page, "rita")
    page.goto(f"/projects/{project.pk}/review/")
    wait_for_item(page, item.pk)
    options = page.locator("#rv-send-to option").all_inner_texts()
    assert options == ["anyone who has not answered (2)", "ann-c", "ann-d"]
    page.get_by_label("to", exact=True).select_option("ann-d")
    screenshot(page, "i15-review-send-to")
    page.get_by_role("button", name="Send back for another annotation").click()
    page.get_by_text("Nothing waiting for review in this project.").wait_for()
    assert status_text(page) == (
        "Sent Item 1 (rev-1) back for another annotation by ann-d. The review queue is now empty."
    )
    held = Assignment.objects.get(item=item, state=Assignment.State.ACTIVE)
    assert held.annotator.username == "ann-d"

    # ann-c finds nothing; ann-d gets the item.
    page.context.clear_cookies()
    workspace_open(page, project, username="ann-c")
    assert page.locator("#ws-empty").is_visible()
    page.context.clear_cookies()
    workspace_open(page, project, username="ann-d")
    assert page.locator("#workspace").get_attribute("data-item-id") == str(item.pk)
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    wait_for_next_item(page, item.pk)
    item.refresh_from_db()
    assert item.annotation_count == 3
    assert page_errors == []


def test_send_back_says_when_nobody_is_left_and_adds_a_member(page, page_errors):
    project, users = review_project({"controls": [SENTIMENT]})
    UserFactory(username="newcomer")  # has an account, not a member yet
    project.memberships.filter(user__username="rita").update(role=Membership.Role.LEAD)
    item = disputed(project, users, [{"sentiment": "positive"}, {"sentiment": "neutral"}])
    login(page, "rita")
    page.goto(f"/projects/{project.pk}/review/")
    wait_for_item(page, item.pk)
    notice = page.locator("#rv-nobody-left")
    assert notice.is_visible()
    assert "Every annotator of this project has already answered this item" in notice.inner_text()
    assert page.get_by_role("button", name="Send back for another annotation").is_disabled()
    screenshot(page, "i15-review-nobody-left")

    page.get_by_label("Username").fill("newcomer")
    page.get_by_role("button", name="Add as annotator and send back to them").click()
    page.get_by_text("Nothing waiting for review in this project.").wait_for()
    assert "by newcomer" in status_text(page)
    assert project.memberships.get(user__username="newcomer").role == Membership.Role.ANNOTATOR
    held = Assignment.objects.get(item=item, state=Assignment.State.ACTIVE)
    assert held.annotator.username == "newcomer"
    assert page_errors == []
