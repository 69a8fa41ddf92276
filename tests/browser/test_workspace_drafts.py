"""Work in progress survives a reload; predictions pre-fill; answers change from the history."""

import pytest

from labeling.annotate.submit import annotation_submit
from labeling.models import Annotation, Draft
from projects.models import Item
from tests.browser.conftest import login, screenshot
from tests.browser.workspace_support import (
    project_with_annotator,
    wait_for_draft_saved,
    wait_for_next_item,
    workspace_open,
    workspace_wait_ready,
)
from tests.factories import ItemFactory, PredictionFactory

pytestmark = pytest.mark.django_db(transaction=True)

TEXT = "Grace Hopper joined the Navy in 1943."
SCHEMA = {
    "controls": [
        {
            "name": "sentiment",
            "kind": "choice",
            "source": "text",
            "labels": ["positive", "negative"],
        },
        {"name": "entities", "kind": "spans", "source": "text", "labels": ["PER", "ORG"]},
        {"name": "note", "kind": "text", "source": "text", "required": False},
    ]
}


def test_work_in_progress_survives_a_reload(page, page_errors):
    project, annotator = project_with_annotator(SCHEMA)
    item = ItemFactory(project=project, data={"text": TEXT})
    workspace_open(page, project)

    page.keyboard.press("1")  # positive
    page.locator(".span-text").focus()
    for _ in range(len("Grace Hopper")):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("3")  # PER
    page.get_by_label("note").fill("half done")
    page.keyboard.press("Escape")
    wait_for_draft_saved(page)
    draft = Draft.objects.get(item=item, annotator=annotator)
    assert draft.result == {
        "sentiment": "positive",
        "entities": [{"start": 0, "end": 12, "label": "PER"}],
        "note": "half done",
    }

    page.reload()
    workspace_wait_ready(page)
    assert page.locator("#workspace").get_attribute("data-item-id") == str(item.pk)
    assert "restored" in page.locator("#ws-notice").inner_text()
    assert page.get_by_role("radio", name="positive").is_checked()
    assert page.locator(".span-list li").count() == 1
    assert page.get_by_label("note").input_value() == "half done"
    screenshot(page, "workspace-draft-restored")

    page.keyboard.press("2")  # negative
    page.keyboard.press("Enter")
    wait_for_next_item(page, item.pk)
    annotation = Annotation.objects.get(item=item, annotator=annotator)
    assert annotation.result == {
        "sentiment": "negative",
        "entities": [{"start": 0, "end": 12, "label": "PER"}],
        "note": "half done",
    }
    # The time spent before the reload (kept in the draft) counts too.
    assert annotation.lead_time >= draft.lead_time > 0
    assert not Draft.objects.filter(item=item).exists()
    assert page_errors == []


def test_predictions_prefill_the_controls_and_the_annotator_corrects_them(page, page_errors):
    project, annotator = project_with_annotator(SCHEMA, prefill_predictions=True)
    item = ItemFactory(project=project, data={"text": TEXT})
    PredictionFactory(
        item=item,
        model_version="ner-2",
        score=0.71,
        result={"sentiment": "negative", "entities": [{"start": 0, "end": 5, "label": "ORG"}]},
    )
    workspace_open(page, project)

    assert page.locator("#workspace").get_attribute("data-prefilled") == "true"
    assert "ner-2" in page.locator("#ws-notice").inner_text()
    assert page.get_by_role("radio", name="negative").is_checked()
    assert page.locator(".span-list li").count() == 1
    screenshot(page, "workspace-prediction-prefill")

    page.keyboard.press("1")  # correct the choice: positive
    page.get_by_role("button", name="ORG: “Grace”").click()
    page.keyboard.press("Delete")  # the model's span was wrong
    page.locator(".span-text").focus()
    for _ in range(len("Grace Hopper")):
        page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    wait_for_next_item(page, item.pk)
    assert Annotation.objects.get(item=item, annotator=annotator).result == {
        "sentiment": "positive",
        "entities": [{"start": 0, "end": 12, "label": "PER"}],
    }
    assert page_errors == []


def test_predictions_do_not_prefill_when_the_project_says_no(page, page_errors):
    project, _ = project_with_annotator(SCHEMA, prefill_predictions=False)
    item = ItemFactory(project=project, data={"text": TEXT})
    PredictionFactory(item=item, result={"sentiment": "negative"})
    workspace_open(page, project)

    assert page.locator("#workspace").get_attribute("data-prefilled") is None
    assert not page.get_by_role("radio", name="negative").is_checked()
    assert page_errors == []


def test_history_page_reopens_an_answer_until_the_item_is_resolved(page, page_errors):
    schema = {"controls": [SCHEMA["controls"][0]]}
    project, annotator = project_with_annotator(schema, overlap=2)
    open_item = ItemFactory(project=project, external_id="open-one", data={"text": "Fine."})
    done_item = ItemFactory(project=project, external_id="done-one", data={"text": "Done."})
    for item in (open_item, done_item):
        annotation_submit(item=item, annotator=annotator, result={"sentiment": "positive"})
    Item.objects.filter(pk=done_item.pk).update(status=Item.Status.RESOLVED)

    login(page, "anna")
    page.goto(f"/projects/{project.pk}/history/")
    done_row = page.locator(f'tr[data-item-id="{done_item.pk}"]')
    assert "Resolved" in done_row.inner_text()
    assert done_row.get_by_role("link", name="Change answer").count() == 0
    screenshot(page, "workspace-history")

    page.locator(f'tr[data-item-id="{open_item.pk}"]').get_by_role(
        "link", name="Change answer"
    ).click()
    workspace_wait_ready(page)
    assert page.get_by_role("radio", name="positive").is_checked()
    assert page.get_by_role("button", name="Skip").is_hidden()
    page.keyboard.press("2")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/projects/{project.pk}/history/")
    assert Annotation.objects.get(item=open_item, annotator=annotator).result == {
        "sentiment": "negative"
    }
    assert "negative" in page.locator(f'tr[data-item-id="{open_item.pk}"]').inner_text()

    # A resolved item opens read-only.
    page.goto(f"/projects/{project.pk}/label/?item={done_item.pk}")
    workspace_wait_ready(page)
    assert page.get_by_role("button", name="Submit").is_disabled()
    assert "resolved" in page.locator("#ws-error").inner_text()
    assert page_errors == []


def test_a_change_made_just_before_leaving_is_saved_on_the_way_out(page, page_errors):
    schema = {"controls": [SCHEMA["controls"][0]]}
    project, annotator = project_with_annotator(schema)
    item = ItemFactory(project=project, data={"text": TEXT})
    workspace_open(page, project)

    page.keyboard.press("2")  # negative; reload at once, before the draft's usual delay
    page.reload()
    workspace_wait_ready(page)
    assert page.get_by_role("radio", name="negative").is_checked()
    assert Draft.objects.get(item=item, annotator=annotator).result == {"sentiment": "negative"}
    assert page_errors == []
