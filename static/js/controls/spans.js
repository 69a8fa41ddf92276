// Text spans (NER): select text with the mouse or the keyboard, then press a label's key or click
// it. Click a span to select it; then a label relabels it and Delete removes it.
// Offsets are Unicode code points, end exclusive, whatever the text's script or emoji.
import { CodePointIndex } from "../codepoints.js";
import { keyMatches } from "../hotkeys.js";
import { colorOf, controlFieldset, h, kbd, labelBar } from "./common.js";

const WHITESPACE = /\s/u;

export function createSpans(control, ctx) {
  const source = [].concat(control.source)[0];
  const text = String(ctx.data[source] ?? "");
  const index = new CodePointIndex(text);
  const points = [...text]; // one entry per code point
  const allowOverlap = control.allow_overlap !== false;
  let spans = [];
  let selected = -1;
  let pending = null; // {start, end} in code points: the text selected and not yet labelled
  const caret = { anchor: 0, focus: 0 };

  const fieldset = controlFieldset(control, "control-spans");
  const bar = labelBar(ctx.labels, (label) => applyLabel(label));
  const textBox = h("div", {
    class: "span-text",
    tabindex: "0",
    role: "group",
    "aria-label": `${source}: select a passage with the mouse, or with Shift and the arrow keys, then press a label key`,
  });
  const status = h("p", { class: "span-status helptext", "aria-live": "polite" });
  const message = h("p", { class: "error", role: "alert", hidden: true });
  const list = h("ol", { class: "span-list", "aria-label": `${control.name} spans` });
  fieldset.append(
    bar,
    textBox,
    status,
    message,
    list,
    h("p", { class: "helptext" }, "Keys: ", kbd("Shift+←/→"), " select, ", kbd("Ctrl+Shift+←/→"), " by word, ", kbd("Del"), " delete the selected span, ", kbd("["), kbd("]"), " previous/next span, ", kbd("Esc"), " deselect.", allowOverlap ? " Spans may overlap." : " Spans may not overlap."),
  );
  ctx.container.append(fieldset);

  function showMessage(text) {
    message.textContent = text;
    message.hidden = !text;
  }

  // ---- from the DOM to code points and back ----
  function pointAt(node, offset) {
    const range = document.createRange();
    range.setStart(textBox, 0);
    range.setEnd(node, offset);
    return index.toPoint(range.toString().length);
  }

  function domPosition(point) {
    let remaining = index.toUnit(point);
    const walker = document.createTreeWalker(textBox, NodeFilter.SHOW_TEXT);
    let node = walker.nextNode();
    let last = null;
    while (node) {
      if (remaining <= node.data.length) return [node, remaining];
      remaining -= node.data.length;
      last = node;
      node = walker.nextNode();
    }
    return last ? [last, last.data.length] : [textBox, 0];
  }

  function trimmed(start, end) {
    while (start < end && WHITESPACE.test(points[start])) start += 1;
    while (end > start && WHITESPACE.test(points[end - 1])) end -= 1;
    return start < end ? { start, end } : null;
  }

  function readSelection() {
    const selection = document.getSelection();
    if (!selection.rangeCount) return undefined;
    const range = selection.getRangeAt(0);
    if (!textBox.contains(range.startContainer) || !textBox.contains(range.endContainer)) {
      return undefined; // the selection is elsewhere on the page
    }
    if (selection.anchorNode && textBox.contains(selection.anchorNode)) {
      caret.anchor = pointAt(selection.anchorNode, selection.anchorOffset);
      caret.focus = pointAt(selection.focusNode, selection.focusOffset);
    }
    if (range.collapsed) return null;
    return trimmed(pointAt(range.startContainer, range.startOffset), pointAt(range.endContainer, range.endOffset));
  }

  function selectPoints(anchor, focus) {
    caret.anchor = anchor;
    caret.focus = focus;
    const selection = document.getSelection();
    const [anchorNode, anchorOffset] = domPosition(anchor);
    const [focusNode, focusOffset] = domPosition(focus);
    selection.setBaseAndExtent(anchorNode, anchorOffset, focusNode, focusOffset);
  }

  document.addEventListener(
    "selectionchange",
    () => {
      const found = readSelection();
      if (found === undefined) return;
      pending = found;
      describe();
    },
    { signal: ctx.signal },
  );

  // ---- rendering ----
  function excerpt(span) {
    const piece = index.slice(span.start, span.end);
    return piece.length > 40 ? `${piece.slice(0, 37)}…` : piece;
  }

  function render() {
    const bounds = new Set([0, index.length]);
    for (const span of spans) bounds.add(span.start).add(span.end);
    const cuts = [...bounds].sort((a, b) => a - b);
    const nodes = [];
    for (let i = 0; i < cuts.length - 1; i += 1) {
      const [from, to] = [cuts[i], cuts[i + 1]];
      const piece = index.slice(from, to);
      const covering = spans.map((s, n) => n).filter((n) => spans[n].start <= from && spans[n].end >= to);
      if (!covering.length) {
        nodes.push(document.createTextNode(piece));
        continue;
      }
      // The innermost (shortest) span colours the text; the others show as underlines.
      const inner = covering.reduce((a, b) => (spans[b].end - spans[b].start < spans[a].end - spans[a].start ? b : a));
      const endingHere = spans.filter((s) => s.end === to).map((s) => s.label);
      const seg = h("span", {
        class: `seg${covering.includes(selected) ? " selected" : ""}${covering.length > 1 ? " overlap" : ""}`,
        "data-spans": covering.join(" "),
        "data-tags": endingHere.length ? endingHere.join(" · ") : null,
        title: covering.map((n) => spans[n].label).join(", "),
        style: `--c: ${colorOf(ctx.labels, spans[inner].label)}; --c2: ${colorOf(ctx.labels, spans[covering.find((n) => n !== inner) ?? inner].label)}`,
      });
      seg.textContent = piece;
      nodes.push(seg);
    }
    textBox.replaceChildren(...nodes);
    list.replaceChildren(
      ...spans.map((span, n) =>
        h(
          "li",
          { class: n === selected ? "selected" : "" },
          h("button", { type: "button", class: "span-chip", style: `--label-color: ${colorOf(ctx.labels, span.label)}`, "aria-pressed": String(n === selected), onclick: () => select(n) }, h("span", { class: "swatch", "aria-hidden": "true" }), `${span.label}: “${excerpt(span)}” `, h("span", { class: "muted" }, `${span.start}–${span.end}`)),
          h("button", { type: "button", class: "link", "aria-label": `Delete ${span.label} “${excerpt(span)}”`, onclick: () => remove(n) }, "Delete"),
        ),
      ),
    );
    describe();
  }

  function describe() {
    if (selected >= 0) {
      const span = spans[selected];
      status.textContent = `Selected span ${span.label} “${excerpt(span)}”: press a label key to relabel it, Del to delete it, Esc to deselect.`;
    } else if (pending) {
      status.textContent = `Selected text “${excerpt(pending)}” (${pending.start}–${pending.end}): press a label key or click a label.`;
    } else if (document.activeElement === textBox) {
      const next = points[caret.focus];
      const where = next === undefined ? "at the end" : `before “${next}”`;
      status.textContent = `Caret ${where} (position ${caret.focus}): hold Shift and use the arrows to select.`;
    } else {
      status.textContent = "Select text, then choose a label.";
    }
  }

  // ---- actions ----
  function overlaps(range, except = -1) {
    return spans.some((s, n) => n !== except && s.start < range.end && range.start < s.end);
  }

  function applyLabel(label) {
    showMessage("");
    // selectionchange arrives asynchronously: read the selection as it is now.
    const current = readSelection();
    if (current !== undefined) pending = current;
    if (pending) {
      const range = pending;
      if (!allowOverlap && overlaps(range)) {
        showMessage(`“${excerpt(range)}” overlaps a span; ${control.name} does not allow overlapping spans.`);
        pending = null;
        document.getSelection().removeAllRanges();
        describe();
        return;
      }
      const duplicate = spans.some((s) => s.start === range.start && s.end === range.end && s.label === label.value);
      if (!duplicate) spans.push({ start: range.start, end: range.end, label: label.value });
      spans.sort((a, b) => a.start - b.start || a.end - b.end);
      pending = null;
      selected = -1;
      document.getSelection().removeAllRanges();
      render();
      ctx.onChange();
    } else if (selected >= 0) {
      spans[selected] = { ...spans[selected], label: label.value };
      render();
      ctx.onChange();
    } else {
      showMessage("Select some text first, or click a span to relabel it.");
    }
  }

  function select(n) {
    selected = n;
    pending = null;
    document.getSelection().removeAllRanges();
    render();
  }

  function remove(n) {
    spans.splice(n, 1);
    selected = -1;
    render();
    ctx.onChange();
  }

  textBox.addEventListener("focus", () => describe());
  textBox.addEventListener("blur", () => describe());
  textBox.addEventListener("click", (event) => {
    const selection = document.getSelection();
    if (selection.rangeCount && !selection.isCollapsed) return; // a drag that selected text
    const seg = event.target.closest(".seg");
    if (!seg) {
      if (selected >= 0) select(-1);
      return;
    }
    const covering = seg.dataset.spans.split(" ").map(Number);
    // Clicking again where spans overlap steps through them.
    const position = covering.indexOf(selected);
    select(covering[(position + 1) % covering.length]);
  });

  function wordBoundary(from, step) {
    let point = from;
    const isWord = (p) => p >= 0 && p < points.length && !WHITESPACE.test(points[p]);
    if (step > 0) {
      while (point < points.length && !isWord(point)) point += 1;
      while (point < points.length && isWord(point)) point += 1;
    } else {
      while (point > 0 && !isWord(point - 1)) point -= 1;
      while (point > 0 && isWord(point - 1)) point -= 1;
    }
    return point;
  }

  // Keyboard selection inside the focused text: arrows move, Shift extends, Ctrl jumps words.
  textBox.addEventListener("keydown", (event) => {
    const moves = { ArrowLeft: -1, ArrowRight: 1 };
    let target = null;
    if (event.key in moves) {
      target = event.ctrlKey ? wordBoundary(caret.focus, moves[event.key]) : caret.focus + moves[event.key];
    } else if (event.key === "Home") target = 0;
    else if (event.key === "End") target = index.length;
    if (target === null) return;
    event.preventDefault();
    event.stopPropagation();
    target = Math.max(0, Math.min(index.length, target));
    if (selected >= 0) select(-1);
    selectPoints(event.shiftKey ? caret.anchor : target, target);
    pending = trimmed(Math.min(caret.anchor, caret.focus), Math.max(caret.anchor, caret.focus));
    describe();
  });

  render();
  return {
    name: control.name,
    root: fieldset,
    getValue() {
      return spans.map(({ start, end, label }) => ({ start, end, label }));
    },
    setValue(value) {
      spans = (Array.isArray(value) ? value : []).map(({ start, end, label }) => ({ start, end, label }));
      selected = -1;
      showMessage("");
      render();
    },
    handleKey(event) {
      const label = ctx.labels.find((candidate) => keyMatches(event, candidate.hotkey));
      if (label) {
        applyLabel(label);
        return true;
      }
      if ((event.key === "Delete" || event.key === "Backspace") && selected >= 0) {
        remove(selected);
        return true;
      }
      if (event.key === "Escape" && (selected >= 0 || pending)) {
        pending = null;
        document.getSelection().removeAllRanges();
        select(-1);
        return true;
      }
      if ((event.key === "]" || event.key === "[") && spans.length) {
        const step = event.key === "]" ? 1 : -1;
        select(selected < 0 ? (step > 0 ? 0 : spans.length - 1) : (selected + step + spans.length) % spans.length);
        return true;
      }
      return false;
    },
    keys: [
      ...ctx.labels.map((label) => [label.hotkey, `${control.name}: label the selected text ${label.value}`]),
      ["Shift+←/→", `${control.name}: select text (focus the text first)`],
      ["[ / ]", `${control.name}: previous / next span`],
      ["Del", `${control.name}: delete the selected span`],
    ],
  };
}
