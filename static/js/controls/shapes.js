// What boxes and polygons share: the stage, a label bar, a list of shapes, selection, pointer
// dragging with one re-render per animation frame, and the keys common to both.
import { keyMatches } from "../hotkeys.js";
import { colorOf, controlFieldset, h, kbd, labelBar } from "./common.js";
import { createImageStage, svg } from "./image_stage.js";

export function createShapeEditor(control, ctx, { kindClass, noun, describe, drawShape, help }) {
  const source = [].concat(control.source)[0];
  const editor = {
    control,
    shapes: [],
    selected: -1,
    activeLabel: ctx.labels[0]?.value,
    ctx,
  };
  const fieldset = controlFieldset(control, kindClass);
  const bar = labelBar(ctx.labels, (label) => editor.pickLabel(label), { pressed: editor.activeLabel });
  const stage = createImageStage({
    src: String(ctx.data[source] ?? ""),
    width: ctx.item.width,
    height: ctx.item.height,
    label: `${control.name}: image ${source}`,
    onReady: () => editor.render(),
    signal: ctx.signal,
  });
  const group = svg("g", { class: "shapes" });
  const overlay = svg("g", { class: "overlay" });
  stage.layer.append(group, overlay);
  const list = h("ol", { class: "shape-list", "aria-label": `${control.name} ${noun}s` });
  const status = h("p", { class: "helptext", "aria-live": "polite" });
  fieldset.append(bar, stage.toolbar, stage.viewport, status, list, h("p", { class: "helptext" }, ...help));
  ctx.container.append(fieldset);
  Object.assign(editor, { fieldset, bar, stage, group, overlay, list, status });

  let frame = 0;
  editor.scheduleRender = () => {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; editor.render(); });
  };
  stage.onZoom(() => editor.scheduleRender());

  editor.colorOf = (value) => colorOf(ctx.labels, value);
  editor.render = () => {
    if (!stage.ready) return;
    const unit = 1 / stage.scale; // one screen pixel in image pixels
    group.replaceChildren(
      ...editor.shapes.map((shape, index) => {
        const color = editor.colorOf(shape.label);
        const node = svg("g", { class: `shape${index === editor.selected ? " selected" : ""}`, "data-index": index, style: `--c: ${color}` });
        drawShape(node, shape, { unit, selected: index === editor.selected, editor });
        return node;
      }),
    );
    editor.renderOverlay?.(unit);
    list.replaceChildren(
      ...editor.shapes.map((shape, index) =>
        h(
          "li",
          {},
          h("button", { type: "button", class: "span-chip", style: `--label-color: ${editor.colorOf(shape.label)}`, "aria-pressed": String(index === editor.selected), onclick: () => editor.select(index) }, h("span", { class: "swatch", "aria-hidden": "true" }), `${shape.label}: ${describe(shape)}`),
          h("button", { type: "button", class: "link", "aria-label": `Delete ${noun} ${index + 1} (${shape.label})`, onclick: () => editor.remove(index) }, "Delete"),
        ),
      ),
    );
    stage.viewport.dataset.count = String(editor.shapes.length);
    const chosen = editor.shapes[editor.selected];
    if (chosen) status.textContent = `Selected ${noun} ${editor.selected + 1}: ${chosen.label}, ${describe(chosen)}.`;
  };

  editor.label = (text, x, y, color, unit) => {
    const size = 13 * unit;
    const tag = svg("g", { class: "shape-tag" });
    const width = (text.length * 7.5 + 8) * unit;
    tag.append(
      svg("rect", { x, y: y - size - 4 * unit, width, height: size + 4 * unit, fill: color }),
      svg("text", { x: x + 4 * unit, y: y - 4 * unit, "font-size": size }),
    );
    tag.lastChild.textContent = text;
    return tag;
  };

  editor.handle = (x, y, name, unit) =>
    svg("rect", { class: "handle", "data-handle": name, x: x - 5 * unit, y: y - 5 * unit, width: 10 * unit, height: 10 * unit });

  editor.select = (index) => {
    editor.selected = index;
    const shape = editor.shapes[index];
    if (shape) {
      editor.activeLabel = shape.label;
      bar.setPressed(shape.label);
    } else {
      status.textContent = "";
    }
    editor.render();
  };

  editor.add = (shape) => {
    editor.shapes.push(shape);
    editor.select(editor.shapes.length - 1);
    ctx.onChange();
  };

  editor.remove = (index) => {
    editor.shapes.splice(index, 1);
    editor.select(-1);
    ctx.onChange();
  };

  editor.pickLabel = (label) => {
    editor.activeLabel = label.value;
    bar.setPressed(label.value);
    if (editor.selected >= 0) {
      editor.shapes[editor.selected] = { ...editor.shapes[editor.selected], label: label.value };
      editor.render();
      ctx.onChange();
    }
  };

  editor.startDrag = (event, onMove, onEnd) => {
    event.preventDefault();
    stage.viewport.focus({ preventScroll: true });
    stage.layer.setPointerCapture(event.pointerId);
    const move = (e) => {
      onMove(e);
      editor.scheduleRender();
    };
    const up = (e) => {
      stage.layer.removeEventListener("pointermove", move);
      stage.layer.removeEventListener("pointerup", up);
      stage.layer.removeEventListener("pointercancel", up);
      onEnd(e);
      editor.render();
    };
    stage.layer.addEventListener("pointermove", move);
    stage.layer.addEventListener("pointerup", up);
    stage.layer.addEventListener("pointercancel", up);
  };

  editor.handleCommonKey = (event) => {
    const label = ctx.labels.find((candidate) => keyMatches(event, candidate.hotkey));
    if (label) {
      editor.pickLabel(label);
      return true;
    }
    if (stage.handleKey(event)) return true;
    if ((event.key === "Delete" || event.key === "Backspace") && editor.selected >= 0) {
      editor.remove(editor.selected);
      return true;
    }
    if (event.key === "Escape" && editor.selected >= 0) {
      editor.select(-1);
      return true;
    }
    if ((event.key === "]" || event.key === "[") && editor.shapes.length) {
      const count = editor.shapes.length;
      const step = event.key === "]" ? 1 : -1;
      editor.select(editor.selected < 0 ? (step > 0 ? 0 : count - 1) : (editor.selected + step + count) % count);
      return true;
    }
    return false;
  };

  editor.commonKeys = [
    ...ctx.labels.map((label) => [label.hotkey, `${control.name}: label ${label.value} (new or selected ${noun})`]),
    ["[ / ]", `${control.name}: select previous / next ${noun}`],
    ["Del", `${control.name}: delete the selected ${noun}`],
    ["Esc", `${control.name}: deselect`],
    ["+ / - / 0", `${control.name}: zoom in / out / fit`],
    ["Space+drag", `${control.name}: pan`],
  ];
  editor.kbd = kbd;
  return editor;
}
