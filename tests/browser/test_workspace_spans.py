"""Text spans in Chromium: mouse and keyboard selection, offsets in code points, overlap rules."""

import pytest

from labeling.models import Annotation
from tests.browser.conftest import screenshot
from tests.browser.workspace_support import (
    project_with_annotator,
    wait_for_next_item,
    workspace_open,
)
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db(transaction=True)

# Astral characters (emoji, a ZWJ sequence, a flag) and accents before the spans: UTF-16 offsets
# and code point offsets differ from the first emoji on.
TEXT = "Zoë 👩‍🔬 met Ana in Zürich 🇨🇭 today, near the Rhône."
LABELS = [
    {"value": "PER", "color": "#1f77b4", "hotkey": "1"},
    {"value": "LOC", "color": "#2ca02c", "hotkey": "2"},
    {"value": "ORG", "color": "#d62728", "hotkey": "3"},
]

# Screen box of code points [start, end) of the span control's text (read from the live page).
CHAR_BOX_JS = """([start, end]) => {
  const box = document.querySelector('.span-text');
  const walker = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
  const nodes = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) nodes.push(n);
  const locate = (point) => {
    let seen = 0;
    for (const node of nodes) {
      const chars = [...node.data];
      if (point < seen + chars.length) {
        return [node, chars.slice(0, point - seen).join('').length, chars[point - seen].length];
      }
      seen += chars.length;
    }
  };
  const rectOf = (point) => {
    const [node, offset, width] = locate(point);
    const range = document.createRange();
    range.setStart(node, offset);
    range.setEnd(node, offset + width);
    return range.getBoundingClientRect();
  };
  const first = rectOf(start), last = rectOf(end - 1);
  return [first.left, first.top + first.height / 2, last.right, last.top + last.height / 2];
}"""


def span_of(word: str, label: str) -> dict:
    start = TEXT.index(word)  # Python indexes code points, as the label contract does
    return {"start": start, "end": start + len(word), "label": label}


def drag_select(page, word: str) -> None:
    start = TEXT.index(word)
    left, top, right, bottom = page.evaluate(CHAR_BOX_JS, [start, start + len(word)])
    page.mouse.move(left + 1, top)
    page.mouse.down()
    page.mouse.move((left + right) / 2, top, steps=3)
    page.mouse.move(right - 1, bottom, steps=3)
    page.mouse.up()


def keyboard_select(page, word: str) -> None:
    page.locator(".span-text").focus()
    page.keyboard.press("Home")
    for _ in range(TEXT.index(word)):
        page.keyboard.press("ArrowRight")
    for _ in range(len(word)):
        page.keyboard.press("Shift+ArrowRight")


def click_span(page, word: str) -> None:
    start = TEXT.index(word)
    left, top, right, _ = page.evaluate(CHAR_BOX_JS, [start, start + len(word)])
    page.mouse.click((left + right) / 2, top)


def spans_schema(allow_overlap: bool = True) -> dict:
    return {
        "controls": [
            {
                "name": "entities",
                "kind": "spans",
                "source": "text",
                "labels": LABELS,
                "allow_overlap": allow_overlap,
            }
        ]
    }


def test_spans_by_mouse_and_keyboard_store_code_point_offsets(page, page_errors):
    project, annotator = project_with_annotator(spans_schema())
    item = ItemFactory(project=project, data={"text": TEXT})
    workspace_open(page, project)

    drag_select(page, "Ana")
    assert "Ana" in page.locator(".span-status").inner_text()
    page.keyboard.press("1")  # PER, by hotkey
    keyboard_select(page, "Zürich")
    page.get_by_role("button", name="LOC").click()  # by click on the label
    keyboard_select(page, "Rhône")
    page.keyboard.press("2")
    # Overlap is allowed here: "Ana in Zürich" as ORG covers two spans.
    drag_select(page, "Ana in Zürich")
    page.keyboard.press("3")
    assert page.locator(".span-list li").count() == 4
    screenshot(page, "workspace-spans")

    # Click a span to select it, then relabel it with a hotkey; click another and delete it.
    click_span(page, "Rhône")
    assert "Rhône" in page.locator(".span-status").inner_text()
    page.keyboard.press("Delete")
    page.get_by_role("button", name="ORG: “Ana in Zürich”").click()
    page.keyboard.press("2")
    assert page.locator(".span-list li").count() == 3

    page.keyboard.press("Enter")
    wait_for_next_item(page, item.pk)
    stored = Annotation.objects.get(item=item, annotator=annotator).result
    assert stored == {
        "entities": [
            span_of("Ana", "PER"),
            span_of("Ana in Zürich", "LOC"),
            span_of("Zürich", "LOC"),
        ]
    }
    assert page_errors == []


def test_overlapping_span_is_refused_when_the_schema_says_so(page, page_errors):
    project, annotator = project_with_annotator(spans_schema(allow_overlap=False))
    item = ItemFactory(project=project, data={"text": TEXT})
    workspace_open(page, project)

    drag_select(page, "Zürich")
    page.keyboard.press("2")
    drag_select(page, "Ana in Zürich")
    page.keyboard.press("3")
    alert = page.locator(".control-spans [role=alert]")
    assert "overlap" in alert.inner_text()
    assert page.locator(".span-list li").count() == 1
    # Relabel by clicking the span itself.
    click_span(page, "Zürich")
    page.keyboard.press("1")
    # Select a word with the keyboard: move the caret to it, then Ctrl+Shift+Right.
    page.locator(".span-text").focus()
    page.keyboard.press("Home")
    for _ in range(TEXT.index("Ana")):
        page.keyboard.press("ArrowRight")
    assert "before “A” (position 12)" in page.locator(".span-status").inner_text()
    page.keyboard.press("Control+Shift+ArrowRight")
    page.keyboard.press("3")
    page.keyboard.press("Enter")
    wait_for_next_item(page, item.pk)
    stored = Annotation.objects.get(item=item, annotator=annotator).result
    assert stored == {"entities": [span_of("Ana", "ORG"), span_of("Zürich", "PER")]}
    assert page_errors == []
