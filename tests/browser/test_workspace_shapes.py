"""Boxes and polygons in Chromium: drawn with the mouse at a known zoom, stored in image pixels."""

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

SCREEN_POINT_JS = """([name, x, y]) => {
  const stage = document.querySelector(`[data-control="${name}"] .stage`);
  const box = stage.querySelector('img').getBoundingClientRect();
  const scale = Number(stage.dataset.scale);
  return [box.left + x * scale, box.top + y * scale];
}"""


def screen_point(page, control: str, x: float, y: float) -> tuple[float, float]:
    """Where original image pixel (x, y) is on screen right now (read from the live page)."""
    return tuple(page.evaluate(SCREEN_POINT_JS, [control, x, y]))


def drag(page, control: str, start: tuple, end: tuple) -> None:
    page.mouse.move(*screen_point(page, control, *start))
    page.mouse.down()
    page.mouse.move(*screen_point(page, control, *end), steps=6)
    page.mouse.up()


def click(page, control: str, x: float, y: float, modifiers=()) -> None:
    for key in modifiers:
        page.keyboard.down(key)
    page.mouse.click(*screen_point(page, control, x, y))
    for key in modifiers:
        page.keyboard.up(key)


def stage_scale(page, control: str) -> float:
    return float(page.locator(f'[data-control="{control}"] .stage').get_attribute("data-scale"))


def wait_stage_ready(page, control: str) -> None:
    page.locator(f'[data-control="{control}"] .stage[data-ready="true"]').wait_for()


def test_boxes_draw_select_move_resize_delete_at_two_zooms(page, media_served, page_errors):
    schema = {
        "controls": [
            {
                "name": "objects",
                "kind": "boxes",
                "source": "image",
                "labels": [
                    {"value": "car", "color": "#d62728", "hotkey": "1"},
                    {"value": "person", "color": "#1f77b4", "hotkey": "2"},
                ],
            }
        ]
    }
    project, annotator = project_with_annotator(schema)
    url = png_create("street.png", 1600, 1000)
    item = ItemFactory(project=project, data={"image": url}, width=1600, height=1000)
    workspace_open(page, project)
    wait_stage_ready(page, "objects")
    fit = stage_scale(page, "objects")
    assert fit < 0.5  # the whole 1600 px image fits a stage well under 800 px wide

    # Zoom to 100 % with the keyboard (Shift+0: 1:1).
    page.keyboard.press(")")
    assert stage_scale(page, "objects") == 1
    drag(page, "objects", (600, 400), (800, 550))  # draws a "car" (the first label)
    click(page, "objects", 700, 475)  # select the box just drawn ...
    page.keyboard.press("2")  # ... then a label relabels it "person"
    drag(page, "objects", (700, 475), (730, 495))  # move by (30, 20)
    drag(page, "objects", (830, 570), (880, 600))  # resize by the bottom-right handle
    assert page.locator(".shape-list li").count() == 1

    # Zoom out to 50 % and pan; the next boxes are still stored in original pixels.
    page.keyboard.press("Escape")
    for _ in range(3):  # even steps of 2^(1/3): 79 %, 63 %, 50 %
        page.keyboard.press("-")
    assert stage_scale(page, "objects") == 0.5
    page.keyboard.press("ArrowRight")  # pans the view when no box is selected
    page.keyboard.press("1")  # the label for new boxes: car
    drag(page, "objects", (300, 200), (500, 360))
    drag(page, "objects", (1000, 700), (1100, 800))
    page.keyboard.press("Delete")  # deletes the selected (last drawn) box
    assert page.locator(".shape-list li").count() == 2
    page.keyboard.press("Control+z")  # undo brings it back
    assert page.locator(".shape-list li").count() == 3
    page.keyboard.press("Control+Shift+z")  # redo deletes it again
    assert page.locator(".shape-list li").count() == 2
    screenshot(page, "workspace-boxes")

    page.keyboard.press("Enter")
    wait_for_next_item(page, item.pk)
    stored = Annotation.objects.get(item=item, annotator=annotator).result
    assert stored == {
        "objects": [
            {"x": 630, "y": 420, "width": 250, "height": 180, "label": "person"},
            {"x": 300, "y": 200, "width": 200, "height": 160, "label": "car"},
        ]
    }
    assert page_errors == []


def test_polygons_click_close_and_edit_points(page, media_served, page_errors):
    schema = {
        "controls": [
            {
                "name": "regions",
                "kind": "polygons",
                "source": "image",
                "labels": [
                    {"value": "road", "color": "#7f7f7f", "hotkey": "1"},
                    {"value": "lake", "color": "#1f77b4", "hotkey": "2"},
                ],
            }
        ]
    }
    project, annotator = project_with_annotator(schema)
    url = png_create("field.png", 900, 600)
    # No width/height on the item: the image's natural size is the coordinate space.
    item = ItemFactory(project=project, data={"image": url})
    workspace_open(page, project)
    wait_stage_ready(page, "regions")
    page.keyboard.press(")")  # 1:1
    assert stage_scale(page, "regions") == 1

    for point in ((300, 150), (500, 170), (450, 350)):
        click(page, "regions", *point)
    click(page, "regions", 300, 150)  # clicking the first point closes the polygon
    assert page.locator(".shape-list li").count() == 1
    drag(page, "regions", (500, 170), (520, 190))  # the closed polygon is selected: move a point
    # Double-click just inside the closing edge (5 px from it): a point is inserted there.
    page.mouse.dblclick(*screen_point(page, "regions", 379, 247))

    page.keyboard.press("Escape")
    page.keyboard.press("2")  # label for the next polygon: lake
    for point in ((200, 300), (260, 300), (260, 380), (230, 400), (200, 380)):
        click(page, "regions", *point)
    page.keyboard.press("c")  # closes the polygon being drawn
    click(page, "regions", 230, 400, modifiers=["Alt"])  # Alt+click removes a point
    screenshot(page, "workspace-polygons")

    page.keyboard.press("Enter")
    wait_for_next_item(page, item.pk)
    stored = Annotation.objects.get(item=item, annotator=annotator).result
    assert stored == {
        "regions": [
            {"points": [[300, 150], [520, 190], [450, 350], [379, 247]], "label": "road"},
            {"points": [[200, 300], [260, 300], [260, 380], [200, 380]], "label": "lake"},
        ]
    }
    assert page_errors == []


def test_box_coordinates_follow_the_item_size_not_the_picture_or_the_window(
    page, media_served, page_errors
):
    """The picture served is a half-size preview; the item says the original is 1600x1000."""
    schema = {
        "controls": [{"name": "objects", "kind": "boxes", "source": "image", "labels": ["car"]}]
    }
    project, annotator = project_with_annotator(schema)
    url = png_create("preview.png", 800, 500)
    item = ItemFactory(project=project, data={"image": url}, width=1600, height=1000)
    page.set_viewport_size({"width": 1024, "height": 640})
    workspace_open(page, project)
    wait_stage_ready(page, "objects")
    page.keyboard.press(")")  # 1:1
    assert stage_scale(page, "objects") == 1
    drag(page, "objects", (700, 420), (900, 580))
    for _ in range(6):  # two halvings in even steps of 2^(1/3)
        page.keyboard.press("-")
    assert stage_scale(page, "objects") == 0.25
    drag(page, "objects", (100, 100), (1500, 900))
    page.keyboard.press("Enter")
    wait_for_next_item(page, item.pk)
    assert Annotation.objects.get(item=item, annotator=annotator).result == {
        "objects": [
            {"x": 700, "y": 420, "width": 200, "height": 160, "label": "car"},
            {"x": 100, "y": 100, "width": 1400, "height": 800, "label": "car"},
        ]
    }
    assert page_errors == []


def test_boxes_with_a_choice_about_the_same_image_show_it_once(page, media_served, page_errors):
    schema = {
        "controls": [
            {"name": "objects", "kind": "boxes", "source": "image", "labels": ["car", "bus"]},
            {"name": "weather", "kind": "choice", "source": "image", "labels": ["sun", "rain"]},
            {"name": "caption", "kind": "text", "source": "image", "required": False},
        ]
    }
    project, annotator = project_with_annotator(schema)
    url = png_create("road.png", 1000, 600)
    item = ItemFactory(project=project, data={"image": url}, width=1000, height=600)
    workspace_open(page, project)
    wait_stage_ready(page, "objects")
    assert page.locator("#workspace img").count() == 1  # only the stage shows the image

    page.keyboard.press("2")  # bus, for the boxes (hotkeys 1-2 there, 3-4 for the choice)
    scale = stage_scale(page, "objects")
    drag(page, "objects", (100, 100), (100 + 40 / scale, 100 + 30 / scale))
    page.keyboard.press("4")  # rain
    screenshot(page, "workspace-image-several-controls")
    page.keyboard.press("Enter")
    wait_for_next_item(page, item.pk)
    result = Annotation.objects.get(item=item, annotator=annotator).result
    assert result["weather"] == "rain"
    [box] = result["objects"]
    assert box["label"] == "bus"
    # At the fit zoom a screen pixel is several image pixels: the box is where it was drawn,
    # to within that one screen pixel.
    assert abs(box["x"] - 100) <= 1 / scale and abs(box["y"] - 100) <= 1 / scale
    assert abs(box["width"] - 40 / scale) <= 1 / scale
    assert page_errors == []


VIEW_IN_IMAGE_JS = """(name) => {
  const stage = document.querySelector(`[data-control="${name}"] .stage`);
  const view = stage.getBoundingClientRect();
  const image = stage.querySelector('img').getBoundingClientRect();
  const scale = Number(stage.dataset.scale);
  return [(view.left - image.left) / scale, (view.top - image.top) / scale,
          view.width / scale, view.height / scale];
}"""


def test_boxes_drawn_moved_and_resized_with_the_keyboard_only(page, media_served, page_errors):
    schema = {
        "controls": [
            {"name": "objects", "kind": "boxes", "source": "image", "labels": ["car", "bus"]}
        ]
    }
    project, annotator = project_with_annotator(schema)
    url = png_create("keys.png", 1600, 1000)
    item = ItemFactory(project=project, data={"image": url}, width=1600, height=1000)
    workspace_open(page, project)
    wait_stage_ready(page, "objects")
    page.keyboard.press(")")  # 1:1
    assert stage_scale(page, "objects") == 1
    left, top, width, height = page.evaluate(VIEW_IN_IMAGE_JS, "objects")

    page.keyboard.press("2")  # bus
    page.keyboard.press("n")  # a new box in the middle quarter of the view
    page.keyboard.press("Shift+ArrowRight")  # 10 px right
    page.keyboard.press("ArrowDown")  # 1 px down
    page.keyboard.press(">")  # 10 screen px (= 10 image px at 100 %) wider
    page.keyboard.press("}")  # and taller
    page.keyboard.press("}")
    page.keyboard.press("Enter")
    wait_for_next_item(page, item.pk)
    box_width, box_height = round(width / 4, 2), round(height / 4, 2)
    assert Annotation.objects.get(item=item, annotator=annotator).result == {
        "objects": [
            {
                "x": round(round(left + 1.5 * width / 4, 2) + 10, 2),
                "y": round(round(top + 1.5 * height / 4, 2) + 1, 2),
                "width": round(box_width + 10, 2),
                "height": round(box_height + 20, 2),
                "label": "bus",
            }
        ]
    }
    assert page_errors == []
