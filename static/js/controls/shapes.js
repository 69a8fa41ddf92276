// What boxes and polygons share: the stage, a label bar, a list of shapes, selection, pointer
// dragging with one re-render per animation frame, and the keys common to both.
//
// Controls that read the same image share ONE stage (ctx.stages, one per item): every control's
// shapes are drawn on it, and a row of tool buttons says which control draws next. A pointer on a
// control's own shape goes to that control; on the bare image, to the active tool.
import { keyMatches } from "../hotkeys.js";
import { colorOf, controlFieldset, h, kbd, labelBar } from "./common.js";
import { createImageStage, svg } from "./image_stage.js";

function sharedStage(ctx, source, control) {
  const src = String(ctx.data[source] ?? "");
  const stages = ctx.stages || new Map();
  let shared = stages.get(src);
  if (!shared) {
    const tools = [];
    const toolBar = h("div", { class: "stage-tools", role: "toolbar", "aria-label": `Draw on ${source}`, hidden: true }, h("span", { class: "muted" }, "Draw: "));
    const stage = createImageStage({
      src,
      width: ctx.item.width,
      height: ctx.item.height,
      label: `Image to draw on (${source})`,
      onReady: () => tools.forEach((tool) => tool.render()),
      signal: ctx.signal,
    });
    stage.toolbar.prepend(toolBar);
    shared = { stage, tools, toolBar, owner: control.name, active: null };
    shared.activate = (tool) => {
      if (shared.active === tool) return;
      shared.active = tool;
      for (const other of tools) {
        if (other !== tool && other.selected >= 0) other.select(-1);
        other.toolButton.setAttribute("aria-pressed", String(other === tool));
        other.fieldset.classList.toggle("drawing-tool", other === tool);
      }
      stage.viewport.dataset.tool = tool.control.name;
    };
    stages.set(src, shared);
  }
  return shared;
}

export function createShapeEditor(control, ctx, { kindClass, noun, nouns, describe, drawShape, help }) {
  const source = [].concat(control.source)[0];
  const editor = {
    control,
    shapes: [],
    selected: -1,
    // The selection came from drawing (the new shape), not from the annotator picking a shape:
    // a label chosen now is for the next shape, and relabels nothing.
    selectedByDrawing: false,
    activeLabel: ctx.labels[0]?.value,
    ctx,
  };
  const fieldset = controlFieldset(control, kindClass);
  const bar = labelBar(ctx.labels, (label) => editor.pickLabel(label), { pressed: editor.activeLabel });
  const shared = sharedStage(ctx, source, control);
  const { stage } = shared;
  const group = svg("g", { class: "shapes", "data-shapes-of": control.name });
  const overlay = svg("g", { class: "overlay" });
  stage.layer.append(group, overlay);
  const list = h("ol", { class: "shape-list", "aria-label": `${control.name}: ${nouns}` });
  const status = h("p", { class: "helptext", "aria-live": "polite" });
  const toolButton = h(
    "button",
    { type: "button", class: "tool-button", "aria-pressed": "false", onclick: () => shared.activate(editor) },
    `${control.name} (${nouns})`,
  );
  shared.toolBar.append(toolButton);
  shared.tools.push(editor);
  shared.toolBar.hidden = shared.tools.length < 2;
  if (shared.tools.length === 1) {
    fieldset.append(bar, stage.toolbar, stage.viewport, status, list, h("p", { class: "helptext" }, ...help));
  } else {
    const owner = shared.owner;
    fieldset.append(bar, h("p", { class: "helptext" }, `Draws on the image of ${owner} above: choose ${control.name} under "Draw", or one of its labels.`), status, list, h("p", { class: "helptext" }, ...help));
  }
  ctx.container.append(fieldset);
  Object.assign(editor, { fieldset, bar, stage, group, overlay, list, status, toolButton, shared });
  if (!shared.active) shared.activate(editor);

  // Whether a pointer event on the stage is this control's to handle.
  editor.isDrawing = () => false;
  editor.wants = (event) => {
    const drawingTool = shared.tools.find((tool) => tool.isDrawing());
    if (drawingTool) return drawingTool === editor;
    if (group.contains(event.target) || overlay.contains(event.target)) return true;
    if (shared.tools.some((tool) => tool !== editor && (tool.group.contains(event.target) || tool.overlay.contains(event.target)))) return false;
    return shared.active === editor;
  };
  editor.activate = () => shared.activate(editor);

  // Drags redraw only the shape being dragged, once per animation frame; zooming redraws only
  // the selected shape (its handles keep their screen size): a large image with hundreds of
  // shapes stays responsive. Label text keeps its screen size through the --unit variable.
  let frame = 0;
  editor.dragging = -1;
  editor.scheduleRender = () => {
    if (frame) return;
    frame = requestAnimationFrame(() => {
      frame = 0;
      if (editor.dragging >= 0) editor.renderShape(editor.dragging);
      editor.renderOverlay?.(1 / stage.scale);
    });
  };
  stage.onZoom((scale) => {
    stage.layer.style.setProperty("--unit", String(1 / scale));
    if (!stage.ready) return;
    if (editor.selected >= 0) editor.renderShape(editor.selected);
    editor.renderOverlay?.(1 / scale);
  });

  editor.colorOf = (value) => colorOf(ctx.labels, value);
  editor.shapeNode = (index) => {
    const shape = editor.shapes[index];
    const selected = index === editor.selected;
    const node = svg("g", { class: `shape${selected ? " selected" : ""}`, "data-index": index, style: `--c: ${editor.colorOf(shape.label)}` });
    drawShape(node, shape, { unit: 1 / stage.scale, selected, editor });
    return node;
  };
  editor.renderShape = (index) => {
    const old = group.children[index];
    if (old && editor.shapes[index]) old.replaceWith(editor.shapeNode(index));
  };
  editor.render = () => {
    if (!stage.ready) return;
    group.replaceChildren(...editor.shapes.map((_, index) => editor.shapeNode(index)));
    editor.renderOverlay?.(1 / stage.scale);
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

  // The label's name in its colour, drawn above (or, at the top edge, inside) the shape.
  editor.label = (text, x, y, inside = false) => {
    const tag = svg("text", { class: "shape-tag", x, y, dy: inside ? "1.1em" : "-0.35em" });
    tag.textContent = text;
    return tag;
  };

  editor.handle = (x, y, name, unit) =>
    svg("rect", { class: "handle", "data-handle": name, x: x - 5 * unit, y: y - 5 * unit, width: 10 * unit, height: 10 * unit });

  // The annotator picks a shape (click, list, [ ]): a label chosen next relabels it.
  editor.select = (index) => {
    editor.selected = index;
    editor.selectedByDrawing = false;
    const shape = editor.shapes[index];
    if (shape) {
      editor.activate();
      editor.activeLabel = shape.label;
      bar.setPressed(shape.label);
    } else {
      status.textContent = "";
    }
    editor.render();
  };

  // A new shape is selected (Delete, arrows act on it) but keeps its label when another label
  // is chosen: that label is for the next shape.
  editor.add = (shape) => {
    editor.shapes.push(shape);
    editor.select(editor.shapes.length - 1);
    editor.selectedByDrawing = true;
    ctx.onChange();
  };

  editor.remove = (index) => {
    editor.shapes.splice(index, 1);
    editor.select(-1);
    ctx.onChange();
  };

  editor.pickLabel = (label) => {
    editor.activate();
    // This control's labels sit below the shared stage: bring the image back into view.
    if (shared.tools[0] !== editor) stage.viewport.scrollIntoView({ block: "nearest" });
    editor.activeLabel = label.value;
    bar.setPressed(label.value);
    if (editor.selected >= 0 && !editor.selectedByDrawing) {
      editor.shapes[editor.selected] = { ...editor.shapes[editor.selected], label: label.value };
      editor.render();
      ctx.onChange();
      status.textContent = `Relabelled ${noun} ${editor.selected + 1}: ${label.value}.`;
    } else {
      status.textContent = `Next ${noun}: ${label.value}. To relabel a ${noun}, select it first.`;
    }
  };

  editor.startDrag = (event, onMove, onEnd, index = -1) => {
    event.preventDefault();
    editor.dragging = index;
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
      editor.dragging = -1;
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
    ...ctx.labels.map((label) => [label.hotkey, `${control.name}: ${label.value} for the next ${noun}, or relabel the one selected`]),
    ["[ / ]", `${control.name}: select previous / next ${noun}`],
    ["Del", `${control.name}: delete the selected ${noun}`],
    ["Esc", `${control.name}: deselect`],
    ["+ / - / 0 / Shift+0", `${control.name}: zoom in / out / fit to screen / 1:1`],
    ["Space+drag", `${control.name}: pan`],
  ];
  editor.kbd = kbd;
  return editor;
}
