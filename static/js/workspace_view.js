// How the workspace shows one item under a schema: the data fields no control shows itself,
// then every control's widget. The annotator workspace and the schema builder's live preview
// both render through here, so the preview is the workspace.
import { CONTROL_FACTORIES } from "./controls/index.js";
import { h } from "./controls/common.js";
import { createImageClass } from "./controls/image_class.js";
import { HotkeyRegistry } from "./hotkeys.js";

const IMAGE_URL = /^(data:image\/|(https?:\/\/|\/).+\.(png|jpe?g|gif|webp|bmp|svg|tiff?)(\?.*)?$)/i;
const SHOWS_ITS_SOURCE = ["spans", "boxes", "polygons", "pairwise"];

export function workspaceView(controlsSchema) {
  function usedByShapes(field) {
    return controlsSchema.some(
      (c) => (c.kind === "boxes" || c.kind === "polygons") && [].concat(c.source).includes(field),
    );
  }

  // An image is a field that shapes are drawn on, a URL with an image file extension, or a URL
  // in a field named like an image (object storage URLs often have no extension).
  function isImageField(field, value) {
    if (usedByShapes(field)) return true;
    if (typeof value !== "string") return false;
    return IMAGE_URL.test(value) || (/im(a)?g/i.test(field) && /^(https?:\/\/|\/)\S+$/.test(value));
  }

  function factoryFor(control, data) {
    const source = [].concat(control.source)[0];
    // A choice about an image shows it, unless a shape control already shows the same image.
    if (control.kind === "choice" && isImageField(source, data[source]) && !usedByShapes(source)) {
      return createImageClass;
    }
    return CONTROL_FACTORIES[control.kind];
  }

  // Fields that no control shows itself (spans, shapes, pairwise and image class show theirs).
  function plainFields(data) {
    const shown = new Set();
    for (const control of controlsSchema) {
      const sources = [].concat(control.source);
      const showsItself =
        SHOWS_ITS_SOURCE.includes(control.kind) || factoryFor(control, data) === createImageClass;
      if (showsItself) sources.forEach((s) => shown.add(s));
    }
    const fields = [];
    for (const control of controlsSchema) {
      for (const field of [].concat(control.source)) {
        if (!shown.has(field) && !fields.includes(field)) fields.push(field);
      }
    }
    return fields;
  }

  function renderItemFields(container, item) {
    container.replaceChildren(
      ...plainFields(item.data).map((field) => {
        const value = item.data[field];
        if (isImageField(field, value)) {
          return h("figure", { class: "ws-image", "data-field": field }, h("img", { src: value, alt: field }));
        }
        return h("div", { class: "ws-field", "data-field": field }, String(value ?? ""));
      }),
    );
  }

  // Builds every control's widget into `form`; answers the widgets (nulls dropped).
  function renderControlWidgets(form, item, { signal, onChange, onWidget = () => {} }) {
    form.replaceChildren();
    const registry = new HotkeyRegistry(controlsSchema);
    // Labels first, so that every label's hotkey is fixed before controls claim their own keys.
    const labels = controlsSchema.map((control) => registry.labelsFor(control));
    const stages = new Map(); // controls reading the same image share its stage
    return controlsSchema
      .map((control, index) => {
        const factory = factoryFor(control, item.data);
        if (!factory) {
          form.append(h("p", { class: "error" }, `Unknown control kind: ${control.kind}`));
          return null;
        }
        const widget = factory(control, {
          container: form,
          data: item.data,
          item,
          labels: labels[index],
          registry,
          stages,
          signal,
          onChange,
        });
        onWidget(widget);
        return widget;
      })
      .filter(Boolean);
  }

  return { isImageField, plainFields, renderItemFields, renderControlWidgets };
}
