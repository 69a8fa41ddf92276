"""Choice-like controls, free text and pairwise in Chromium; several controls in one schema,
required controls, undo/redo and the keyboard overlay."""

import pytest

from labeling.models import Annotation
from tests.browser.conftest import screenshot
from tests.browser.workspace_support import (
    png_create,
    project_with_annotator,
    wait_for_next_item,
    workspace_open,
)
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db(transaction=True)

TOPICS = {
    "name": "topics",
    "kind": "multi",
    "source": "text",
    "labels": ["sports", "politics", "science"],  # plain strings: hotkeys are assigned
}
SENTIMENT = {
    "name": "sentiment",
    "kind": "choice",
    "source": "text",
    "labels": [
        {"value": "positive", "color": "#2e7d32", "hotkey": "q"},
        {"value": "negative", "color": "#c62828", "hotkey": "w"},
    ],
}


def stored_result(item, annotator) -> dict:
    return Annotation.objects.get(item=item, annotator=annotator).result


def test_multiple_choice_with_hotkeys_and_clicks(page, page_errors):
    project, annotator = project_with_annotator({"controls": [TOPICS]})
    item = ItemFactory(project=project, data={"text": "The minister opened the stadium."})
    workspace_open(page, project)

    page.keyboard.press("1")
    page.keyboard.press("3")
    page.get_by_role("checkbox", name="politics").click()
    page.keyboard.press("3")  # pressing a hotkey again toggles the label off
    assert page.get_by_role("checkbox", name="sports").is_checked()
    assert not page.get_by_role("checkbox", name="science").is_checked()
    screenshot(page, "workspace-multi")
    page.keyboard.press("Enter")
    wait_for_next_item(page, item.pk)
    assert stored_result(item, annotator) == {"topics": ["sports", "politics"]}
    # The annotator's own progress panel counts the answer.
    page.wait_for_function(
        "document.getElementById('ws-stats').innerText.replace(/\\s+/g, ' ').includes('Answered 1')"
    )
    assert "Gold score" in page.locator("#ws-stats").inner_text()
    assert page_errors == []


def test_image_class_shows_the_image_and_takes_a_hotkey(page, media_served, page_errors):
    schema = {
        "controls": [
            {"name": "animal", "kind": "choice", "source": "image", "labels": ["cat", "dog"]}
        ]
    }
    project, annotator = project_with_annotator(schema)
    item = ItemFactory(project=project, data={"image": png_create("pet.png", 640, 480)})
    workspace_open(page, project)

    image = page.locator(".image-class img")
    image.wait_for()
    page.wait_for_function("document.querySelector('.image-class img').naturalWidth === 640")
    page.keyboard.press("2")
    assert page.get_by_role("radio", name="dog").is_checked()
    screenshot(page, "workspace-image-class")
    page.keyboard.press("Enter")
    wait_for_next_item(page, item.pk)
    assert stored_result(item, annotator) == {"animal": "dog"}
    assert page_errors == []


def test_free_text_keeps_unicode_and_leaves_hotkeys_alone(page, media_served, page_errors):
    schema = {"controls": [{"name": "caption", "kind": "text", "source": "image"}]}
    project, annotator = project_with_annotator(schema)
    item = ItemFactory(project=project, data={"image": png_create("scene.png", 400, 300)})
    workspace_open(page, project)

    page.locator(".ws-image img").wait_for()
    box = page.get_by_label("caption")
    box.click()
    # "s" and Enter inside the text box are typing, not skip and submit.
    box.press_sequentially("a red square, 🚗 südlich")
    page.keyboard.press("Shift+Enter")
    page.keyboard.type("second line")
    page.keyboard.press("Escape")  # leaves the box: keys are hotkeys again
    screenshot(page, "workspace-text")
    page.keyboard.press("Enter")
    wait_for_next_item(page, item.pk)
    assert stored_result(item, annotator) == {"caption": "a red square, 🚗 südlich\nsecond line"}
    assert page_errors == []


def test_pairwise_shows_both_responses_and_stores_the_preference(page, page_errors):
    schema = {
        "controls": [
            {"name": "better", "kind": "pairwise", "source": ["response_a", "response_b"]},
        ]
    }
    project, annotator = project_with_annotator(schema)
    data = {"response_a": "Paris is the capital.", "response_b": "It is Lyon, I think."}
    first = ItemFactory(project=project, data=data)
    second = ItemFactory(project=project, data=data)
    workspace_open(page, project)

    panels = page.locator(".pair-panel")
    assert panels.nth(0).inner_text().endswith(data["response_a"])
    assert panels.nth(1).inner_text().endswith(data["response_b"])
    page.keyboard.press("a")
    screenshot(page, "workspace-pairwise")
    page.keyboard.press("Enter")
    wait_for_next_item(page, first.pk)
    page.get_by_role("radio", name="Tie").click()
    page.keyboard.press("Enter")
    wait_for_next_item(page, second.pk)
    assert stored_result(first, annotator) == {"better": "a"}
    assert stored_result(second, annotator) == {"better": "tie"}
    assert page_errors == []


def test_several_controls_and_required_ones_refused_with_a_message(page, page_errors):
    schema = {
        "controls": [
            SENTIMENT,
            {**TOPICS, "required": False},
            {"name": "entities", "kind": "spans", "source": "text", "labels": ["PER", "ORG"]},
            {"name": "note", "kind": "text", "source": "text", "required": False},
        ]
    }
    project, annotator = project_with_annotator(schema)
    text = "Ada Lovelace wrote for Babbage."
    item = ItemFactory(project=project, data={"text": text})
    workspace_open(page, project)

    page.keyboard.press("q")
    page.keyboard.press("Enter")
    alert = page.locator("#ws-error")
    assert alert.is_visible()
    assert alert.inner_text() == "Please answer: entities."
    assert page.locator('[data-control="entities"].missing').is_visible()
    screenshot(page, "workspace-several-controls-required")
    assert not Annotation.objects.exists()

    # Hotkeys were assigned without clashes: multi got 1-3, spans the next free keys.
    keys = page.locator('[data-control="entities"] .label-button kbd').all_inner_texts()
    assert keys == ["4", "5"]
    page.locator(".span-text").focus()
    for _ in range(len("Ada Lovelace")):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("4")
    page.keyboard.press("Enter")
    wait_for_next_item(page, item.pk)
    assert stored_result(item, annotator) == {
        "sentiment": "positive",
        "entities": [{"start": 0, "end": 12, "label": "PER"}],
    }
    assert page_errors == []


def test_undo_and_redo_across_controls(page, page_errors):
    project, annotator = project_with_annotator({"controls": [SENTIMENT, TOPICS]})
    item = ItemFactory(project=project, data={"text": "A calm day."})
    workspace_open(page, project)

    page.keyboard.press("q")  # positive
    page.keyboard.press("w")  # negative
    page.keyboard.press("2")  # politics
    page.keyboard.press("Control+z")
    assert not page.get_by_role("checkbox", name="politics").is_checked()
    page.keyboard.press("Control+z")
    assert page.get_by_role("radio", name="positive").is_checked()
    page.keyboard.press("Control+Shift+z")
    assert page.get_by_role("radio", name="negative").is_checked()
    page.keyboard.press("Control+y")
    assert page.get_by_role("checkbox", name="politics").is_checked()
    page.keyboard.press("Control+z")
    page.get_by_role("button", name="Undo").click()
    assert page.get_by_role("radio", name="positive").is_checked()
    page.get_by_role("button", name="Redo").click()
    page.keyboard.press("Control+Shift+z")
    page.keyboard.press("Enter")
    wait_for_next_item(page, item.pk)
    assert stored_result(item, annotator) == {"sentiment": "negative", "topics": ["politics"]}
    assert page_errors == []


def test_question_mark_lists_every_key(page, page_errors):
    project, _ = project_with_annotator({"controls": [SENTIMENT, TOPICS]})
    ItemFactory(project=project, data={"text": "Anything."})
    workspace_open(page, project)

    page.keyboard.press("?")
    dialog = page.get_by_role("dialog", name="Keyboard shortcuts")
    assert dialog.is_visible()
    listed = dialog.inner_text()
    for expected in ("Enter", "Ctrl+Z", "choose positive", "toggle science", "skip"):
        assert expected in listed
    screenshot(page, "workspace-keys-overlay")
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert page_errors == []
