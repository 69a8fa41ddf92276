// Bounding boxes: drag on the image to draw; drag a box to move it, its corner handles to resize
// it; arrows nudge the selected box (Shift: 10 px). Coordinates are original image pixels.
import { clamp, h, round2 } from "./common.js";
import { svg } from "./image_stage.js";
import { createShapeEditor } from "./shapes.js";

const CORNERS = { nw: [0, 0], ne: [1, 0], sw: [0, 1], se: [1, 1] };

function describe(box) {
  return `x ${box.x}, y ${box.y}, ${box.width}×${box.height}`;
}

function drawBox(node, box, { unit, selected, editor }) {
  node.append(svg("rect", { class: "body", x: box.x, y: box.y, width: box.width, height: box.height }));
  node.append(editor.label(box.label, box.x, box.y, box.y < 20 * unit));
  if (selected) {
    for (const [name, [fx, fy]] of Object.entries(CORNERS)) {
      node.append(editor.handle(box.x + fx * box.width, box.y + fy * box.height, name, unit));
    }
  }
}

function normalised(x1, y1, x2, y2) {
  const [left, right] = [Math.min(x1, x2), Math.max(x1, x2)];
  const [top, bottom] = [Math.min(y1, y2), Math.max(y1, y2)];
  return { x: round2(left), y: round2(top), width: round2(right - left), height: round2(bottom - top) };
}

export function createBoxes(control, ctx) {
  const newKey = ctx.registry.claim("n");
  const editor = createShapeEditor(control, ctx, {
    kindClass: "control-boxes",
    noun: "box",
    nouns: "boxes",
    describe,
    drawShape: drawBox,
    help: [
      "Drag on the image to draw a box with the chosen label; drag a box to move it, a corner to resize it. Keyboard: ",
      h("kbd", {}, newKey),
      " adds a box in the middle of the view, arrows move the selected box, ",
      h("kbd", {}, "Shift"),
      "+arrows by 10, ",
      h("kbd", {}, "<"), " ", h("kbd", {}, ">"),
      " narrow or widen it, ",
      h("kbd", {}, "{"), " ", h("kbd", {}, "}"),
      " make it shorter or taller.",
    ],
  });
  const { stage } = editor;
  let draft = null; // the box being drawn, in image pixels

  editor.renderOverlay = (unit) => {
    editor.overlay.replaceChildren();
    if (draft) {
      const box = normalised(...draft);
      editor.overlay.append(svg("rect", { class: "drawing", x: box.x, y: box.y, width: box.width, height: box.height, "stroke-width": 2 * unit }));
    }
  };

  stage.layer.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || !editor.wants(event)) return;
    editor.activate();
    const [x, y] = stage.toImage(event);
    const handle = event.target.closest("[data-handle]");
    const shape = event.target.closest(".shape");
    if (handle && editor.selected >= 0) {
      const index = editor.selected;
      const before = { ...editor.shapes[index] };
      const [fx, fy] = CORNERS[handle.dataset.handle];
      // The opposite corner stays where it is.
      const fixedX = before.x + (1 - fx) * before.width;
      const fixedY = before.y + (1 - fy) * before.height;
      editor.startDrag(event, (e) => {
        const [px, py] = stage.toImage(e);
        const box = normalised(fixedX, fixedY, px, py);
        if (box.width > 0 && box.height > 0) editor.shapes[index] = { ...box, label: before.label };
      }, () => ctx.onChange(), index);
    } else if (shape) {
      const index = Number(shape.dataset.index);
      editor.select(index);
      const before = { ...editor.shapes[index] };
      editor.startDrag(event, (e) => {
        const [px, py] = stage.toImage(e);
        editor.shapes[index] = {
          ...before,
          x: round2(clamp(before.x + px - x, 0, stage.width - before.width)),
          y: round2(clamp(before.y + py - y, 0, stage.height - before.height)),
        };
      }, () => ctx.onChange(), index);
    } else {
      draft = [x, y, x, y];
      editor.startDrag(event, (e) => {
        const [px, py] = stage.toImage(e);
        draft = [draft[0], draft[1], px, py];
      }, () => {
        const box = normalised(...draft);
        draft = null;
        // Anything smaller than 3 screen pixels is a click, not a box.
        if (box.width * stage.scale >= 3 && box.height * stage.scale >= 3) {
          editor.add({ ...box, label: editor.activeLabel });
        } else {
          editor.select(-1);
        }
      });
    }
  });

  // Keyboard drawing: a new box covering the middle of what is on screen.
  function addInView() {
    const view = stage.viewport.getBoundingClientRect();
    const [left, top] = stage.toImage({ clientX: view.left, clientY: view.top });
    const [right, bottom] = stage.toImage({ clientX: view.right, clientY: view.bottom });
    const [width, height] = [(right - left) / 4, (bottom - top) / 4];
    editor.add({
      x: round2(left + 1.5 * width),
      y: round2(top + 1.5 * height),
      width: round2(width),
      height: round2(height),
      label: editor.activeLabel,
    });
  }

  function resize(event) {
    const sizes = { "<": [-1, 0], ">": [1, 0], "{": [0, -1], "}": [0, 1] };
    if (!(event.key in sizes) || editor.selected < 0) return false;
    const box = editor.shapes[editor.selected];
    const [dw, dh] = sizes[event.key].map((d) => d * 10 / stage.scale);
    editor.shapes[editor.selected] = {
      ...box,
      width: round2(clamp(box.width + dw, 1, stage.width - box.x)),
      height: round2(clamp(box.height + dh, 1, stage.height - box.y)),
    };
    editor.render();
    ctx.onChange();
    return true;
  }

  function nudge(event) {
    const moves = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
    if (!(event.key in moves) || editor.selected < 0) return false;
    const step = event.shiftKey ? 10 : 1;
    const box = editor.shapes[editor.selected];
    editor.shapes[editor.selected] = {
      ...box,
      x: round2(clamp(box.x + moves[event.key][0] * step, 0, stage.width - box.width)),
      y: round2(clamp(box.y + moves[event.key][1] * step, 0, stage.height - box.height)),
    };
    editor.render();
    ctx.onChange();
    return true;
  }

  return {
    name: control.name,
    root: editor.fieldset,
    getValue() {
      return editor.shapes.map(({ x, y, width, height, label }) => ({ x, y, width, height, label }));
    },
    setValue(value) {
      editor.shapes = (Array.isArray(value) ? value : []).map((box) => ({ ...box }));
      editor.select(-1);
    },
    handleKey(event) {
      if (newKey && event.key.toLowerCase() === newKey && !event.ctrlKey && !event.metaKey) {
        addInView();
        return true;
      }
      return editor.handleCommonKey(event) || resize(event) || nudge(event) || stage.panKey(event);
    },
    keys: [
      [newKey, `${control.name}: add a box in the middle of the view`],
      ["Arrows", `${control.name}: move the selected box (Shift ×10), else pan`],
      ["< / >", `${control.name}: narrow / widen the selected box`],
      ["{ / }", `${control.name}: make the selected box shorter / taller`],
      ...editor.commonKeys,
    ],
  };
}
