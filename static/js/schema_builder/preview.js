// The live preview: the annotator workspace's own rendering (workspace_view.js) of the schema
// being built, on a sample item. Answers given in the preview are shown, never stored.
import { h } from "../controls/common.js";
import { workspaceView } from "../workspace_view.js";

const IMAGE_NAME = /im(a)?g|photo|picture/i;

// A sample item for the schema: the project's first item when it has one, else the chosen
// template's sample, else made-up values for each source field.
export function sampleItem(schema, { projectSample, templateSample, sampleImage }) {
  if (projectSample) return { id: 0, data: projectSample.data || {}, width: projectSample.width, height: projectSample.height };
  const data = { ...(templateSample?.data || {}) };
  let size = templateSample?.size;
  for (const control of schema.controls) {
    for (const field of [].concat(control.source)) {
      if (!field || field in data) continue;
      const image = ["boxes", "polygons"].includes(control.kind) || IMAGE_NAME.test(field);
      data[field] = image ? sampleImage.url : `Sample ${field}: Maria from Acme Corp wrote to the Paris office.`;
      if (image) size = sampleImage.size;
    }
  }
  return { id: 0, data, width: size?.[0] ?? null, height: size?.[1] ?? null };
}

export class Preview {
  constructor({ itemEl, formEl, resultEl }) {
    Object.assign(this, { itemEl, formEl, resultEl });
    this.lifetime = new AbortController();
    this.widgets = [];
  }

  render(schema, item) {
    this.lifetime.abort();
    this.lifetime = new AbortController();
    const controls = schema.controls.filter((c) => c.name && c.kind);
    if (!controls.length) {
      this.itemEl.replaceChildren(h("p", { class: "muted" }, "Add a control to see the workspace."));
      this.formEl.replaceChildren();
      this.widgets = [];
      this.showResult();
      return;
    }
    const view = workspaceView(controls);
    try {
      view.renderItemFields(this.itemEl, item);
      this.widgets = view.renderControlWidgets(this.formEl, item, {
        signal: this.lifetime.signal,
        onChange: () => this.showResult(),
      });
    } catch (error) {
      // A half-built control (no labels yet) cannot render: say so instead of breaking the page.
      this.formEl.replaceChildren(h("p", { class: "muted" }, `Preview waits for a complete schema (${error.message}).`));
      this.widgets = [];
    }
    // The preview sits inside the project form: its inputs answer to a form of their own, so
    // they are never posted with the project (a control may be called "name").
    for (const input of this.formEl.querySelectorAll("input, textarea, select")) input.setAttribute("form", "sb-preview-sink");
    this.showResult();
  }

  showResult() {
    const result = {};
    for (const widget of this.widgets) {
      const value = widget.getValue();
      if (value !== null && value !== undefined && value !== "" && !(Array.isArray(value) && !value.length)) result[widget.name] = value;
    }
    this.resultEl.textContent = JSON.stringify(result);
  }

  // Keys pressed over the preview go to its widgets, as in the workspace.
  handleKey(event) {
    return this.widgets.some((widget) => widget.handleKey(event));
  }
}
