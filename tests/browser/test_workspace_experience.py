"""Issue 15, the workspace: what an annotator stumbled on in a first real session."""

import pytest
from playwright.sync_api import expect

from labeling.annotate.submit import annotation_submit
from labeling.models import Assignment
from projects.models import Membership
from tests.browser.conftest import login, screenshot
from tests.browser.workspace_support import (
    png_create,
    project_with_annotator,
    wait_for_draft_saved,
    wait_for_next_item,
    workspace_open,
)
from tests.factories import ItemFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SENTIMENT = {
    "name": "sentiment",
    "kind": "choice",
    "source": "text",
    "labels": [
        {"value": "positive", "color": "#2e7d32", "hotkey": "1"},
        {"value": "negative", "color": "#c62828", "hotkey": "2"},
    ],
}
TOPICS = {"name": "topics", "kind": "multi", "source": "text", "labels": ["sports", "science"]}
ENTITIES = {"name": "entities", "kind": "spans", "source": "text", "labels": ["PER", "ORG"]}
COMMENT = {"name": "comment", "kind": "text", "source": "text"}


def wait_for_title(page) -> None:
    page.wait_for_function("document.getElementById('workspace').dataset.titled === 'true'")


def error_text(page) -> str:
    box = page.locator("#ws-error")
    return box.inner_text() if box.is_visible() else ""


def test_the_please_answer_message_clears_as_its_controls_are_answered(page, page_errors):
    project, _ = project_with_annotator({"controls": [SENTIMENT, TOPICS]})
    ItemFactory(project=project, data={"text": "The team won the science fair."})
    workspace_open(page, project)

    page.keyboard.press("Enter")
    assert error_text(page) == "Please answer: sentiment, topics."
    page.keyboard.press("1")
    # Only what is still missing is named, and its fieldset alone stays marked.
    assert error_text(page) == "Please answer: topics."
    assert page.locator("fieldset.missing").count() == 1
    page.get_by_role("checkbox", name="science").click()
    page.wait_for_function("document.getElementById('ws-error').hidden")
    assert page.locator("fieldset.missing").count() == 0
    screenshot(page, "i15-validation-cleared")
    wait_for_draft_saved(page)  # no request left running when the test's database goes
    assert page_errors == []


def test_skip_asks_an_optional_reason_confirms_and_counts_at_once(page, page_errors):
    project, annotator = project_with_annotator(
        {"controls": [SENTIMENT]}, skip_reasons=["Text is unreadable", "Not my language"]
    )
    first = ItemFactory(project=project, external_id="rev-1", data={"text": "Ça marche."})
    second = ItemFactory(project=project, data={"text": "Works well."})
    third = ItemFactory(project=project, data={"text": "Broke at once."})
    workspace_open(page, project)
    page.wait_for_function("document.getElementById('ws-stats').innerText.includes('Skipped')")
    wait_for_title(page)

    page.keyboard.press("s")
    box = page.locator("#ws-skip-box")
    box.wait_for()
    assert box.get_by_role("radio", name="Text is unreadable").is_visible()
    screenshot(page, "i15-skip-reason")
    box.get_by_role("radio", name="Not my language").check()
    page.keyboard.press("Enter")
    wait_for_next_item(page, first.pk)
    notice = page.locator("#ws-notice")
    expect(notice).to_have_text("Skipped Item 1 (rev-1): Not my language.")
    # "My progress" counts the skip without a reload.
    page.wait_for_function(
        "document.getElementById('ws-stats').innerText.replace(/\\s+/g, ' ').includes('Skipped 1')"
    )
    screenshot(page, "i15-skip-confirmed")
    skipped = Assignment.objects.get(item=first, annotator=annotator)
    assert (skipped.state, skipped.skip_reason) == (Assignment.State.SKIPPED, "Not my language")

    # Free text wins over the presets; Esc keeps the item.
    page.get_by_role("button", name="Skip").click()
    page.keyboard.press("Escape")
    assert box.is_hidden()
    assert page.locator("#workspace").get_attribute("data-item-id") == str(second.pk)
    page.get_by_role("button", name="Skip").click()
    page.get_by_label("Other reason").fill("duplicate of another review")
    page.get_by_role("button", name="Skip item").click()
    wait_for_next_item(page, second.pk)
    assert Assignment.objects.get(item=second).skip_reason == "duplicate of another review"
    assert page.locator("#workspace").get_attribute("data-item-id") == str(third.pk)
    assert page_errors == []


def test_the_empty_queue_shows_only_what_applies(page, page_errors):
    project, _ = project_with_annotator({"controls": [SENTIMENT]})
    workspace_open(page, project)

    assert page.locator("#ws-empty").is_visible()
    assert "More items may arrive" in page.locator("#ws-empty").inner_text()
    for name in ("Submit", "Skip", "Undo", "Redo"):
        assert page.get_by_role("button", name=name).count() == 0, name
    assert page.get_by_role("button", name="Check again").is_visible()
    screenshot(page, "i15-empty-queue")

    # An item arriving later is found with "Check again".
    item = ItemFactory(project=project, data={"text": "A late arrival."})
    page.get_by_role("button", name="Check again").click()
    page.wait_for_function(
        "id => document.getElementById('workspace').dataset.itemId === String(id)", arg=item.pk
    )
    assert page.get_by_role("button", name="Submit").is_visible()
    assert page.locator("#ws-empty").is_hidden()
    assert page_errors == []


def test_items_read_as_their_number_and_their_own_id_only(page, page_errors):
    project, annotator = project_with_annotator({"controls": [SENTIMENT]}, overlap=2)
    named = ItemFactory(project=project, external_id="review-0042", data={"text": "Named."})
    # Without an id column the importer names an item by the data's fingerprint.
    unnamed = ItemFactory(project=project, external_id="sha1:2c83aa17", data={"text": "No id."})
    lead = UserFactory(username="lead")
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    workspace_open(page, project)

    expect(page.locator("#ws-status")).to_have_text("Item 1 (review-0042)")
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    wait_for_next_item(page, named.pk)
    expect(page.locator("#ws-status")).to_have_text("Item 2")
    screenshot(page, "i15-item-title")

    # The lead's "Held items" and the annotator's history say the same.
    page.context.clear_cookies()
    login(page, "lead")
    page.goto(f"/projects/{project.pk}/")
    held = page.get_by_test_id("activity-held")
    assert held.locator("td").first.inner_text() == "Item 2"
    assert "sha1" not in page.locator("#activity").inner_text()
    screenshot(page, "i15-held-items")
    page.context.clear_cookies()
    login(page, "anna")
    page.goto(f"/projects/{project.pk}/history/")
    row = page.locator(f'tr[data-item-id="{named.pk}"]')
    assert "Item 1 (review-0042)" in row.inner_text()
    assert unnamed.pk and "sha1" not in page.content()
    assert page_errors == []


def test_the_keys_panel_shows_its_whole_list(page, page_errors):
    schema = {"controls": [SENTIMENT, TOPICS, ENTITIES, COMMENT]}
    project, _ = project_with_annotator(schema)
    ItemFactory(project=project, data={"text": "Ada Lovelace joined the Analytical Society."})
    workspace_open(page, project)

    keys = page.locator("#ws-keys")
    rows = keys.locator("li")
    assert rows.count() > 12
    assert keys.evaluate("list => list.scrollHeight <= list.clientHeight + 1")
    last = rows.last.bounding_box()
    card = page.locator("#ws-keys").locator("xpath=..").bounding_box()
    assert last["y"] + last["height"] <= card["y"] + card["height"]
    screenshot(page, "i15-keys-panel")
    assert page_errors == []


def test_the_instructions_card_shows_only_when_there_are_instructions(page, page_errors):
    project, _ = project_with_annotator({"controls": [SENTIMENT]}, instructions="")
    ItemFactory(project=project, data={"text": "Fine."})
    workspace_open(page, project)
    assert page.get_by_role("heading", name="Instructions").count() == 0
    screenshot(page, "i15-no-instructions")

    project.instructions = "Pick the **sentiment**."
    project.save()
    page.reload()
    page.get_by_role("heading", name="Instructions").wait_for()
    assert "Pick the sentiment." in page.locator(".instructions").inner_text()
    assert page_errors == []


def test_my_answers_show_the_item_and_the_answer_as_the_workspace_does(
    page, page_errors, media_served
):
    image_url = png_create("history.png", 400, 300)
    schema = {
        "controls": [
            SENTIMENT,
            ENTITIES,
            {"name": "objects", "kind": "boxes", "source": "image", "labels": ["car"]},
        ]
    }
    project, annotator = project_with_annotator(schema, overlap=2)
    text = "Ada Lovelace wrote to Babbage about the engine, at length and with great care."
    waiting = ItemFactory(project=project, data={"text": text, "image": image_url})
    annotation_submit(
        item=waiting,
        annotator=annotator,
        result={
            "sentiment": "positive",
            "entities": [{"start": 0, "end": 12, "label": "PER"}],
            "objects": [{"x": 10, "y": 20, "width": 100, "height": 50, "label": "car"}],
        },
    )
    login(page, "anna")
    page.goto(f"/projects/{project.pk}/history/")
    row = page.locator(f'tr[data-item-id="{waiting.pk}"]')
    shown = " ".join(row.inner_text().split())
    assert "{" not in shown
    assert text in shown  # the whole text, not cut off
    assert "positive" in shown
    assert "entities: PER “Ada Lovelace”" in shown
    assert "objects: car box 100×50 at (10, 20)" in shown
    assert "waiting for 1 more answer" in shown and "Open" not in shown
    thumb = row.get_by_role("img", name="Item 1")
    assert thumb.evaluate("img => img.complete && img.naturalWidth === 400")
    # The label's colour, as in the workspace.
    chip = row.locator(".answer-chip", has_text="positive")
    assert chip.evaluate("c => getComputedStyle(c).borderTopColor") == "rgb(46, 125, 50)"
    screenshot(page, "i15-history")
    assert page_errors == []
