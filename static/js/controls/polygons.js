// Polygons: click to place points; click the first point or press Enter to close (Backspace
// removes the last point, Esc cancels). Select a polygon to drag its points; Alt+click a point
// removes it. Coordinates are original image pixels.
import { clamp, h, round2 } from "./common.js";
import { svg } from "./image_stage.js";
import { createShapeEditor } from "./shapes.js";

function describe(polygon) {
  return `${polygon.points.length} points, ${polygon.points.map(([x, y]) => `(${x}, ${y})`).join(" ")}`;
}

function drawPolygon(node, polygon, { unit, selected, editor }) {
  node.append(svg("polygon", { class: "body", points: polygon.points.map((p) => p.join(",")).join(" ") }));
  const [x, y] = polygon.points.reduce((a, b) => (b[1] < a[1] ? b : a));
  node.append(editor.label(polygon.label, x, y, y < 20 * unit));
  if (selected) {
    polygon.points.forEach(([px, py], index) => node.append(editor.handle(px, py, String(index), unit)));
  }
}

function distanceToSegment([px, py], [ax, ay], [bx, by]) {
  const [dx, dy] = [bx - ax, by - ay];
  const length = dx * dx + dy * dy;
  const t = length ? clamp(((px - ax) * dx + (py - ay) * dy) / length, 0, 1) : 0;
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy));
}

export function createPolygons(control, ctx) {
  const closeKey = ctx.registry.claim("c") || "Enter";
  const editor = createShapeEditor(control, ctx, {
    kindClass: "control-polygons",
    noun: "polygon",
    nouns: "polygons",
    describe,
    drawShape: drawPolygon,
    help: [
      "Click to place points; click the first point or press ",
      h("kbd", {}, closeKey),
      " to close; ",
      h("kbd", {}, "Backspace"),
      " removes the last point, ",
      h("kbd", {}, "Esc"),
      " cancels. Select a polygon to drag its points; double-click an edge to add a point; ",
      h("kbd", {}, "Alt"),
      "+click a point removes it.",
    ],
  });
  const { stage } = editor;
  let drawing = []; // points placed so far for a new polygon

  editor.renderOverlay = (unit) => {
    editor.overlay.replaceChildren();
    if (!drawing.length) return;
    editor.overlay.append(svg("polyline", { class: "drawing", points: drawing.map((p) => p.join(",")).join(" "), "stroke-width": 2 * unit }));
    drawing.forEach(([x, y], index) =>
      editor.overlay.append(svg("circle", { class: index === 0 ? "vertex first" : "vertex", "data-vertex": index, cx: x, cy: y, r: (index === 0 ? 7 : 4) * unit })),
    );
  };

  function close() {
    if (drawing.length < 3) {
      editor.status.textContent = "A polygon needs at least three points.";
      return;
    }
    const points = drawing;
    drawing = [];
    editor.add({ points, label: editor.activeLabel });
  }

  // Double-click near an edge of the selected polygon inserts a point there. Detected from two
  // pointerdowns: selecting re-renders the shapes, and the browser then fires no dblclick.
  let lastDown = { time: 0, x: 0, y: 0 };
  function insertPointNear(x, y) {
    const polygon = editor.shapes[editor.selected];
    const points = polygon.points;
    let best = 0;
    let bestDistance = Infinity;
    points.forEach((a, i) => {
      const distance = distanceToSegment([x, y], a, points[(i + 1) % points.length]);
      if (distance < bestDistance) [best, bestDistance] = [i, distance];
    });
    if (bestDistance > 12 / stage.scale) return false;
    const inserted = [...points.slice(0, best + 1), [round2(x), round2(y)], ...points.slice(best + 1)];
    editor.shapes[editor.selected] = { ...polygon, points: inserted };
    editor.render();
    ctx.onChange();
    return true;
  }

  editor.isDrawing = () => drawing.length > 0;

  stage.layer.addEventListener("pointerdown", (event) => {
    if (event.button !== 0 || !editor.wants(event)) return;
    editor.activate();
    const [x, y] = stage.toImage(event);
    const previous = lastDown;
    lastDown = { time: event.timeStamp, x: event.clientX, y: event.clientY };
    const isDouble =
      event.timeStamp - previous.time < 400 &&
      Math.hypot(event.clientX - previous.x, event.clientY - previous.y) < 5;
    const onHandle = Boolean(event.target.closest("[data-handle]"));
    if (isDouble && !onHandle && !drawing.length && editor.selected >= 0 && insertPointNear(x, y)) {
      event.preventDefault();
      lastDown = { time: 0, x: 0, y: 0 };
      return;
    }
    const handle = event.target.closest("[data-handle]");
    const shape = event.target.closest(".shape");
    if (drawing.length) {
      event.preventDefault();
      if (event.target.closest("[data-vertex='0']") && drawing.length >= 3) close();
      else {
        drawing.push([round2(x), round2(y)]);
        editor.render();
      }
      return;
    }
    if (handle && editor.selected >= 0) {
      const index = editor.selected;
      const vertex = Number(handle.dataset.handle);
      const polygon = editor.shapes[index];
      if (event.altKey) {
        event.preventDefault();
        if (polygon.points.length > 3) {
          editor.shapes[index] = { ...polygon, points: polygon.points.filter((_, n) => n !== vertex) };
          editor.render();
          ctx.onChange();
        }
        return;
      }
      editor.startDrag(event, (e) => {
        const [px, py] = stage.toImage(e);
        const points = editor.shapes[index].points.map((p) => [...p]);
        points[vertex] = [round2(px), round2(py)];
        editor.shapes[index] = { ...editor.shapes[index], points };
      }, () => ctx.onChange(), index);
    } else if (shape) {
      const index = Number(shape.dataset.index);
      editor.select(index);
      const before = editor.shapes[index].points.map((p) => [...p]);
      const xs = before.map((p) => p[0]);
      const ys = before.map((p) => p[1]);
      let moved = false;
      editor.startDrag(event, (e) => {
        const [px, py] = stage.toImage(e);
        const dx = clamp(px - x, -Math.min(...xs), stage.width - Math.max(...xs));
        const dy = clamp(py - y, -Math.min(...ys), stage.height - Math.max(...ys));
        moved = moved || dx !== 0 || dy !== 0;
        editor.shapes[index] = { ...editor.shapes[index], points: before.map(([a, b]) => [round2(a + dx), round2(b + dy)]) };
      }, () => moved && ctx.onChange(), index);
    } else {
      event.preventDefault();
      editor.select(-1);
      drawing = [[round2(x), round2(y)]];
      editor.status.textContent = `Drawing: click to add points; click the first point or press ${closeKey} to close.`;
      editor.render();
    }
  });

  return {
    name: control.name,
    root: editor.fieldset,
    get drawing() {
      return drawing.length > 0;
    },
    getValue() {
      return editor.shapes.map(({ points, label }) => ({ points: points.map((p) => [...p]), label }));
    },
    setValue(value) {
      drawing = [];
      editor.shapes = (Array.isArray(value) ? value : []).map((polygon) => ({ ...polygon, points: polygon.points.map((p) => [...p]) }));
      editor.select(-1);
    },
    handleKey(event) {
      if (drawing.length) {
        if (event.key.toLowerCase() === closeKey.toLowerCase()) {
          close();
          return true;
        }
        if (event.key === "Backspace" || event.key === "Delete") {
          drawing.pop();
          editor.render();
          return true;
        }
        if (event.key === "Escape") {
          drawing = [];
          editor.render();
          return true;
        }
      }
      return editor.handleCommonKey(event) || stage.panKey(event);
    },
    keys: [
      [closeKey, `${control.name}: close the polygon being drawn`],
      ["Backspace", `${control.name}: remove the last point while drawing`],
      ...editor.commonKeys,
    ],
  };
}
