// A zoomable, pannable image with an SVG layer for shapes, both in ORIGINAL image pixels.
// The image and the SVG sit in one "world" element moved by a single CSS transform, so zooming
// and panning a large image never re-renders the shapes; pointer positions are converted back to
// image pixels from the image's on-screen box, whatever the zoom or the screen size.
import { clamp, h, kbd } from "./common.js";

const SVG = "http://www.w3.org/2000/svg";
// Zoom steps of one even ratio (2^(1/3), about 26 %), through 100 %: 50, 63, 79, 100, 126, 159,
// 200 % ... From any zoom (fit to screen is seldom a step) + and - go to the next step.
const ZOOM_STEPS = Array.from({ length: 25 }, (_, k) => 2 ** ((k - 12) / 3));

export function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) {
    // Through the CSSOM: a style attribute is inline style, which the CSP refuses.
    if (key === "style") node.style.cssText = value;
    else node.setAttribute(key, value);
  }
  return node;
}

export function createImageStage({ src, width, height, label, onReady, signal }) {
  const image = h("img", { src, alt: label, draggable: "false", decoding: "async" });
  // Hidden from assistive technology: each control lists its shapes as buttons instead.
  const layer = svg("svg", { class: "stage-layer", "aria-hidden": "true" });
  const world = h("div", { class: "stage-world" }, image, layer);
  const viewport = h("div", { class: "stage", tabindex: "0", role: "application", "aria-label": label }, world);
  const zoomText = h("span", { class: "zoom-text", "aria-live": "polite" });
  const toolbar = h(
    "div",
    { class: "stage-toolbar" },
    h("button", { type: "button", onclick: () => stage.zoomStep(1), "aria-label": "Zoom in" }, "Zoom in ", kbd("+")),
    h("button", { type: "button", onclick: () => stage.zoomStep(-1), "aria-label": "Zoom out" }, "Zoom out ", kbd("-")),
    h("button", { type: "button", onclick: () => stage.fit(), "aria-label": "Fit to screen" }, "Fit to screen ", kbd("0")),
    h("button", { type: "button", onclick: () => stage.zoomTo(1), "aria-label": "Actual size (1:1)" }, "1:1 ", kbd("Shift+0")),
    zoomText,
    h("span", { class: "helptext" }, "Pan: ", kbd("Space"), "+drag or the wheel with ", kbd("Shift"), "; zoom: the wheel."),
  );
  const listeners = new Set();
  let spaceHeld = false;
  let userMoved = false; // after a zoom or pan by hand, a resize keeps the view as it is

  const stage = {
    viewport,
    toolbar,
    layer,
    image,
    width: width || 0,
    height: height || 0,
    scale: 1,
    tx: 0,
    ty: 0,
    ready: false,
    onZoom(listener) {
      listeners.add(listener);
    },
    apply() {
      world.style.transform = `translate(${this.tx}px, ${this.ty}px) scale(${this.scale})`;
      viewport.dataset.scale = String(this.scale);
      zoomText.textContent = `Zoom ${Math.round(this.scale * 100)}%`;
      for (const listener of listeners) listener(this.scale);
    },
    fit() {
      const box = viewport.getBoundingClientRect();
      const scale = Math.min(box.width / this.width, box.height / this.height) || 1;
      this.scale = scale;
      this.tx = Math.round((viewport.clientWidth - this.width * scale) / 2);
      this.ty = Math.round((viewport.clientHeight - this.height * scale) / 2);
      userMoved = false;
      this.apply();
    },
    // Zoom about a point of the viewport (its centre by default), keeping that point still.
    zoomTo(scale, anchorX = viewport.clientWidth / 2, anchorY = viewport.clientHeight / 2) {
      const next = clamp(scale, ZOOM_STEPS[0], ZOOM_STEPS[ZOOM_STEPS.length - 1]);
      const imageX = (anchorX - this.tx) / this.scale;
      const imageY = (anchorY - this.ty) / this.scale;
      this.scale = next;
      userMoved = true;
      this.tx = Math.round(anchorX - imageX * next);
      this.ty = Math.round(anchorY - imageY * next);
      this.apply();
    },
    zoomStep(direction, anchorX, anchorY) {
      const next =
        direction > 0
          ? ZOOM_STEPS.find((step) => step > this.scale * 1.0001)
          : [...ZOOM_STEPS].reverse().find((step) => step < this.scale * 0.9999);
      if (next) this.zoomTo(next, anchorX, anchorY);
    },
    panBy(dx, dy) {
      this.tx = Math.round(this.tx + dx);
      this.ty = Math.round(this.ty + dy);
      userMoved = true;
      this.apply();
    },
    // Pointer position -> original image pixels (clamped to the image).
    toImage(event) {
      const box = image.getBoundingClientRect();
      const x = ((event.clientX - box.left) * this.width) / box.width;
      const y = ((event.clientY - box.top) * this.height) / box.height;
      return [clamp(x, 0, this.width), clamp(y, 0, this.height)];
    },
    isPanGesture(event) {
      return spaceHeld || event.button === 1;
    },
    handleKey(event) {
      if (event.key === "+" || event.key === "=") this.zoomStep(1);
      else if (event.key === "-") this.zoomStep(-1);
      else if (event.key === "0") this.fit();
      else if (event.key === ")") this.zoomTo(1); // Shift+0
      else return false;
      return true;
    },
    panKey(event) {
      const moves = { ArrowLeft: [40, 0], ArrowRight: [-40, 0], ArrowUp: [0, 40], ArrowDown: [0, -40] };
      if (!(event.key in moves)) return false;
      this.panBy(...moves[event.key]);
      return true;
    },
  };

  function sized() {
    stage.width = stage.width || image.naturalWidth;
    stage.height = stage.height || image.naturalHeight;
    image.style.width = `${stage.width}px`;
    image.style.height = `${stage.height}px`;
    layer.setAttribute("viewBox", `0 0 ${stage.width} ${stage.height}`);
    layer.setAttribute("width", stage.width);
    layer.setAttribute("height", stage.height);
    stage.ready = true;
    stage.fit();
    viewport.dataset.ready = "true";
    onReady?.(stage);
  }
  if (stage.width && stage.height) {
    // The item says how big the original is: lay out at once, even before the image arrives.
    queueMicrotask(sized);
  } else if (image.complete && image.naturalWidth) {
    queueMicrotask(sized);
  } else {
    image.addEventListener("load", sized, { once: true });
  }
  image.addEventListener("error", () => {
    viewport.dataset.error = "true";
    viewport.prepend(h("p", { class: "error" }, `The image could not be loaded: ${src}`));
  });

  viewport.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      if (event.shiftKey) {
        stage.panBy(-event.deltaX || -event.deltaY, 0);
        return;
      }
      const box = viewport.getBoundingClientRect();
      stage.zoomStep(event.deltaY < 0 ? 1 : -1, event.clientX - box.left, event.clientY - box.top);
    },
    { passive: false },
  );
  // Space + drag (or the middle button) pans.
  viewport.addEventListener("keydown", (event) => {
    if (event.key === " ") {
      spaceHeld = true;
      viewport.classList.add("panning");
      event.preventDefault();
    }
  });
  viewport.addEventListener("keyup", (event) => {
    if (event.key === " ") {
      spaceHeld = false;
      viewport.classList.remove("panning");
    }
  });
  let panFrom = null;
  viewport.addEventListener("pointerdown", (event) => {
    if (!stage.isPanGesture(event)) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    panFrom = [event.clientX, event.clientY];
    viewport.setPointerCapture(event.pointerId);
  }, true);
  viewport.addEventListener("pointermove", (event) => {
    if (!panFrom) return;
    stage.panBy(event.clientX - panFrom[0], event.clientY - panFrom[1]);
    panFrom = [event.clientX, event.clientY];
  });
  viewport.addEventListener("pointerup", () => {
    panFrom = null;
  });
  const resizes = new ResizeObserver(() => stage.ready && !userMoved && stage.fit());
  resizes.observe(viewport);
  signal?.addEventListener("abort", () => resizes.disconnect());
  return stage;
}
