// Image class: a single choice about an image, shown above its labels.
import { createChoice } from "./choice.js";
import { h } from "./common.js";

export function createImageClass(control, ctx) {
  const source = [].concat(control.source)[0];
  const figure = h(
    "figure",
    { class: "image-class" },
    h("img", { src: ctx.data[source] || "", alt: `Image to classify (${source})`, decoding: "async" }),
  );
  const widget = createChoice(control, ctx, { kindClass: "control-choice control-image-class" });
  widget.root.insertBefore(figure, widget.root.children[1]);
  return widget;
}
