"""A reviewer adjudicates three disputed items in Chromium: accept, merge-and-save, send back."""

import base64
import io
import json

import pytest
from PIL import Image, ImageDraw

from labeling.annotate.submit import annotation_submit
from labeling.models import Annotation
from projects.models import Item, Membership, Project
from tests.browser.conftest import login, screenshot
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMA = {
    "controls": [
        {"name": "sentiment", "kind": "choice", "labels": ["pos", "neg", "neu"]},
        {"name": "entities", "kind": "spans", "labels": ["PER", "ORG"], "required": False},
    ]
}
TEXT = "Ada Lovelace wrote to Babbage"


def disputed(project, annotators, n):
    item = ItemFactory(project=project, external_id=f"r{n}", data={"text": TEXT})
    annotation_submit(
        item=item,
        annotator=annotators[0],
        result={"sentiment": "pos", "entities": [{"start": 0, "end": 12, "label": "PER"}]},
    )
    annotation_submit(
        item=item,
        annotator=annotators[1],
        result={"sentiment": "neg", "entities": [{"start": 22, "end": 29, "label": "PER"}]},
    )
    item.refresh_from_db()
    assert item.status == Item.Status.IN_REVIEW
    return item


def wait_for_item(page, item_id):
    page.wait_for_function(
        "id => document.getElementById('review').dataset.itemId === String(id)", arg=item_id
    )


def test_reviewer_accepts_merges_and_sends_back(page):
    project = ProjectFactory(
        name="Disputes", label_schema=SCHEMA, overlap=2, review_policy=Project.ReviewPolicy.NONE
    )
    reviewer = UserFactory(username="rita")
    MembershipFactory(project=project, user=reviewer, role=Membership.Role.REVIEWER)
    annotators = [UserFactory(username="ann-a"), UserFactory(username="ann-b")]
    for user in annotators:
        MembershipFactory(project=project, user=user, role=Membership.Role.ANNOTATOR)
    first, second, third = (disputed(project, annotators, n) for n in range(3))

    login(page, "rita")
    page.goto(f"/projects/{project.pk}/review/")
    wait_for_item(page, first.pk)
    # Both answers side by side, the disagreeing controls highlighted.
    headers = page.locator("#rv-answers thead th").all_inner_texts()
    assert any("ann-a" in h for h in headers) and any("ann-b" in h for h in headers)
    assert page.locator("#rv-answers tr.disagree").count() == 2
    # Spans of both annotators drawn over the one text, in two colours.
    covered = page.locator(".rv-text .rv-covered")
    assert covered.count() == 2
    shadows = {covered.nth(i).evaluate("e => e.style.boxShadow") for i in range(2)}
    assert len(shadows) == 2
    page.get_by_text("Resolution history").click()
    assert "no majority" in page.locator("#rv-history tbody").inner_text()
    screenshot(page, "review-side-by-side")

    # 1. Accept ann-b's answer.
    page.locator("#rv-answers thead button.rv-accept").nth(1).click()
    wait_for_item(page, second.pk)
    first.refresh_from_db()
    assert first.status == Item.Status.RESOLVED
    current = first.resolutions.get(is_current=True)
    assert current.result == Annotation.objects.get(item=first, annotator=annotators[1]).result
    assert current.reviewer == reviewer

    # 2. Merge: ann-a's sentiment with ann-b's entities ("Use" buttons), then save.
    page.locator('#rv-answers tr[data-control="sentiment"] td').nth(0).get_by_role(
        "button", name="Use"
    ).click()
    page.locator('#rv-answers tr[data-control="entities"] td').nth(1).get_by_role(
        "button", name="Use"
    ).click()
    editor = page.locator("#rv-editor")
    assert editor.get_by_role("radio", name="pos").is_checked()  # the annotators' widgets
    page.get_by_text("As JSON").click()
    merged = json.loads(page.locator("#rv-draft").input_value())
    assert merged == {"sentiment": "pos", "entities": [{"start": 22, "end": 29, "label": "PER"}]}
    # An answer without the required sentiment is refused with the schema's message.
    page.locator("#rv-draft").fill('{"entities": []}')
    page.get_by_role("button", name="Apply JSON").click()
    assert not editor.get_by_role("radio", name="pos").is_checked()
    page.get_by_role("button", name="Save final answer").click()
    assert "sentiment" in page.get_by_role("alert").inner_text()
    assert Item.objects.get(pk=second.pk).status == Item.Status.IN_REVIEW
    # Pick the sentiment in the editor itself, then restore the merged spans from JSON.
    editor.get_by_role("radio", name="pos").check()
    page.locator("#rv-draft").fill(json.dumps(merged))
    page.get_by_role("button", name="Apply JSON").click()
    page.get_by_role("button", name="Save final answer").click()
    wait_for_item(page, third.pk)
    second.refresh_from_db()
    assert second.status == Item.Status.RESOLVED
    assert second.resolutions.get(is_current=True).result == merged

    # 3. Send the last one back for another annotation.
    page.get_by_role("button", name="Send back for another annotation").click()
    page.get_by_text("Nothing waiting for review in this project.").wait_for()
    third.refresh_from_db()
    assert third.status == Item.Status.OPEN and third.extra_slots == 1


def test_annotator_cannot_open_the_review_page(page):
    project = ProjectFactory(label_schema=SCHEMA)
    MembershipFactory(project=project, user=UserFactory(username="only-ann"), role="annotator")
    login(page, "only-ann")
    response = page.goto(f"/projects/{project.pk}/review/")
    assert response.status == 403


def png_data_url(width: int, height: int) -> str:
    image = Image.new("RGB", (width, height), "#dfe7ef")
    draw = ImageDraw.Draw(image)
    draw.rectangle([40, 40, 160, 120], fill="#c0392b")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_boxes_of_every_annotator_are_overlaid_in_distinct_colours(page):
    schema = {
        "controls": [{"name": "objects", "kind": "boxes", "source": "image", "labels": ["car"]}]
    }
    project = ProjectFactory(label_schema=schema, overlap=2, review_policy="disagreements")
    MembershipFactory(project=project, user=UserFactory(username="lee"), role="lead")
    item = ItemFactory(
        project=project, data={"image": png_data_url(320, 240)}, width=320, height=240
    )
    for n, x in enumerate((40, 44)):
        annotation_submit(
            item=item,
            annotator=UserFactory(username=f"boxer{n}"),
            result={"objects": [{"x": x, "y": 40, "width": 120, "height": 80, "label": "car"}]},
        )
    login(page, "lee")
    page.goto(f"/projects/{project.pk}/review/")
    wait_for_item(page, item.pk)
    shapes = page.locator("svg .rv-shape")
    assert shapes.count() == 2
    colours = {shapes.nth(i).get_attribute("stroke") for i in range(2)}
    assert len(colours) == 2
    assert page.locator('#rv-answers tr[data-control="objects"].disagree').count() == 1
    # The final answer starts from the proposal: one box at the mean of the two.
    page.get_by_text("As JSON").click()
    proposal = json.loads(page.locator("#rv-draft").input_value())
    assert proposal == {"objects": [{"x": 42, "y": 40, "width": 120, "height": 80, "label": "car"}]}
    screenshot(page, "review-boxes-overlay")
    page.get_by_role("button", name="Save final answer").click()
    page.get_by_text("Nothing waiting for review in this project.").wait_for()
    assert item.resolutions.get(is_current=True).result == proposal


def test_lead_sees_the_quality_dashboard_pictures(page):
    project = ProjectFactory(name="Quality", label_schema=SCHEMA, overlap=2, review_policy="none")
    MembershipFactory(project=project, user=UserFactory(username="dora"), role="lead")
    annotators = [UserFactory(username="ann-a"), UserFactory(username="ann-b")]
    for n, pair in enumerate((("pos", "pos"), ("neg", "neg"), ("neu", "pos"), ("neg", "neg"))):
        item = ItemFactory(project=project, external_id=f"q{n}", data={"text": TEXT})
        for user, label in zip(annotators, pair, strict=True):
            annotation_submit(item=item, annotator=user, result={"sentiment": label})
    login(page, "dora")
    page.goto(f"/projects/{project.pk}/dashboard/")
    assert page.locator("svg.chart").count() >= 3
    assert page.get_by_role("img", name="Progress over time").count() == 1
    rows = page.locator("#annotator-table tbody tr")
    assert rows.count() == 2 and "ann-a" in rows.first.inner_text()
    screenshot(page, "quality-dashboard")
