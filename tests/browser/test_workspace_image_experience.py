"""Issue 15, images: one stage per image, labels for the next region, even zoom steps with fit
and 1:1, and an accessible name on every control."""

import re

import pytest

from labeling.models import Annotation
from tests.browser.conftest import screenshot
from tests.browser.test_workspace_shapes import click, drag, stage_scale, wait_stage_ready
from tests.browser.workspace_support import (
    png_create,
    project_with_annotator,
    wait_for_next_item,
    workspace_open,
)
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db(transaction=True)

OBJECTS = {
    "name": "objects",
    "kind": "boxes",
    "source": "image",
    "labels": [
        {"value": "car", "color": "#d62728", "hotkey": "1"},
        {"value": "person", "color": "#1f77b4", "hotkey": "2"},
    ],
}
REGIONS = {
    "name": "regions",
    "kind": "polygons",
    "source": "image",
    "labels": [{"value": "road", "color": "#7f7f7f", "hotkey": "3"}],
}


def open_image_item(page, schema, name="street.png", size=(600, 360)):
    """By default small enough to be seen whole at 1:1 (the stage is under 400 px high)."""
    project, annotator = project_with_annotator(schema)
    url = png_create(name, *size)
    item = ItemFactory(project=project, data={"image": url}, width=size[0], height=size[1])
    workspace_open(page, project)
    wait_stage_ready(page, "objects")
    return project, annotator, item


def test_boxes_and_polygons_on_one_image_share_its_stage(page, media_served, page_errors):
    _, annotator, item = open_image_item(page, {"controls": [OBJECTS, REGIONS]})
    assert page.locator("#workspace .stage").count() == 1
    assert page.locator("#workspace img").count() == 1
    tools = page.get_by_role("toolbar", name="Draw on image")
    assert tools.get_by_role("button", name="objects (boxes)").get_attribute("aria-pressed") == (
        "true"
    )
    page.keyboard.press(")")  # 1:1
    drag(page, "objects", (100, 100), (300, 250))  # a box: objects is the tool at first

    # Choosing a polygon label (its key) makes regions the tool, as does its button under
    # "Draw"; the box stays in view while drawing.
    page.keyboard.press("3")
    assert tools.get_by_role("button", name="regions (polygons)").get_attribute("aria-pressed") == (
        "true"
    )
    tools.get_by_role("button", name="objects (boxes)").click()
    # Its label bar, below the image, makes it the tool too and scrolls the image back in view.
    page.locator('[data-control="regions"]').get_by_role("button", name="road").click()
    assert tools.get_by_role("button", name="regions (polygons)").get_attribute("aria-pressed") == (
        "true"
    )
    for point in ((400, 100), (550, 120), (500, 300), (400, 100)):
        click(page, "objects", *point)
    shapes = page.locator(".stage-layer .shape")
    screenshot(page, "i15-shared-stage")
    assert shapes.count() == 2
    assert page.locator('.stage-layer g[data-shapes-of="objects"] .shape').is_visible()
    assert page.locator('.stage-layer g[data-shapes-of="regions"] .shape').is_visible()
    screenshot(page, "i15-shared-stage")

    # A click on the box while drawing polygons selects the box (its control takes over).
    click(page, "objects", 200, 200)
    assert tools.get_by_role("button", name="objects (boxes)").get_attribute("aria-pressed") == (
        "true"
    )
    assert "Selected box 1" in page.locator('[data-control="objects"]').inner_text()
    page.keyboard.press("Enter")
    wait_for_next_item(page, item.pk)
    result = Annotation.objects.get(item=item, annotator=annotator).result
    assert result == {
        "objects": [{"x": 100, "y": 100, "width": 200, "height": 150, "label": "car"}],
        "regions": [{"points": [[400, 100], [550, 120], [500, 300]], "label": "road"}],
    }
    assert page_errors == []


def test_a_label_is_for_the_next_region_unless_one_was_selected(page, media_served, page_errors):
    _, annotator, item = open_image_item(page, {"controls": [OBJECTS]}, "labels.png")
    page.keyboard.press(")")
    drag(page, "objects", (100, 100), (300, 250))  # car
    bar = page.locator('[data-control="objects"] .label-bar')
    bar.get_by_role("button", name="person").click()  # right after drawing: for the next box
    assert "Next box: person" in page.locator('[data-control="objects"]').inner_text()
    drag(page, "objects", (400, 200), (500, 300))  # person
    click(page, "objects", 200, 200)  # the annotator selects the first box ...
    bar.get_by_role("button", name="person").click()  # ... and relabels it
    screenshot(page, "i15-label-next-region")
    page.keyboard.press("Enter")
    wait_for_next_item(page, item.pk)
    assert [b["label"] for b in Annotation.objects.get(item=item).result["objects"]] == [
        "person",
        "person",
    ]
    assert page_errors == []


def test_zoom_goes_in_even_steps_with_fit_and_one_to_one(page, media_served, page_errors):
    open_image_item(page, {"controls": [OBJECTS]}, "zoom.png", size=(1600, 1000))
    fit = stage_scale(page, "objects")
    scales = [fit]
    for _ in range(8):
        page.get_by_role("button", name="Zoom in").click()
        scales.append(stage_scale(page, "objects"))
    ratios = [b / a for a, b in zip(scales, scales[1:], strict=False)]
    assert all(1.0 < r <= 2 ** (1 / 3) + 1e-9 for r in ratios), scales
    assert 1 in scales  # 100 % is one of the steps
    assert page.locator(".zoom-text").inner_text() == f"Zoom {round(scales[-1] * 100)}%"
    page.get_by_role("button", name="Actual size (1:1)").click()
    assert stage_scale(page, "objects") == 1
    assert page.locator(".zoom-text").inner_text() == "Zoom 100%"
    page.get_by_role("button", name="Fit to screen").click()
    assert stage_scale(page, "objects") == pytest.approx(fit)
    screenshot(page, "i15-zoom")
    assert page_errors == []


UNNAMED = re.compile(
    r"^\s*- (button|textbox|radio|checkbox|img|application|list|group|radiogroup|toolbar)"
    r"(\s*\[[^\]]*\])?\s*(:|$)"
)


def test_every_control_has_an_accessible_name(page, media_served, page_errors):
    schema = {
        "controls": [
            OBJECTS,
            REGIONS,
            {"name": "weather", "kind": "choice", "source": "image", "labels": ["sun", "rain"]},
            {"name": "caption", "kind": "text", "source": "image", "required": False},
        ]
    }
    open_image_item(page, schema, "names.png")
    tree = page.locator("#ws-form").aria_snapshot()
    unnamed = [line for line in tree.splitlines() if UNNAMED.match(line)]
    assert unnamed == [], tree
    assert "boxs" not in tree
    form = page.locator("#ws-form")
    assert form.get_by_role("list", name="objects: boxes").count() == 1
    assert form.get_by_role("list", name="regions: polygons").count() == 1
    assert form.get_by_role("application", name="Image to draw on (image)").count() == 1
    assert form.get_by_role("textbox", name="caption (about image)").count() == 1
    assert form.get_by_role("radiogroup", name="weather").count() == 1
    screenshot(page, "i15-accessible-names")
    assert page_errors == []
