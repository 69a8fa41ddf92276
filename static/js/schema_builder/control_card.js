// One control of the schema in the builder: name, kind, source, labels (colour, hotkey),
// required. Edits call onChange(); the card never validates, the server's check does.
import { h } from "../controls/common.js";

export const KIND_TITLES = {
  choice: "Single choice",
  multi: "Multiple choice",
  spans: "Text spans (NER)",
  boxes: "Bounding boxes",
  polygons: "Polygons",
  text: "Free text",
  pairwise: "Pairwise preference",
};
export const KINDS_WITH_LABELS = new Set(["choice", "multi", "spans", "boxes", "polygons"]);
const PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"];

let uid = 0;

function labelRow(control, index, { onChange, rerender }) {
  const label = control.labels[index];
  const id = `sb-${++uid}`;
  const named = () => label.value || `label ${index + 1}`;
  const color = h("input", {
    type: "color", value: label.color || PALETTE[index % PALETTE.length], class: "sb-label-color",
    oninput: (e) => { label.color = e.target.value; onChange(); },
  });
  const hotkey = h("input", {
    type: "text", value: label.hotkey || "", maxlength: "1", size: "2", class: "sb-label-hotkey",
    placeholder: "key",
    oninput: (e) => { label.hotkey = e.target.value; onChange(); },
  });
  const remove = h("button", {
    type: "button", class: "link",
    onclick: () => { control.labels.splice(index, 1); rerender(); onChange(); },
  }, "Remove");
  // The colour, hotkey and remove controls are named after the label, as it is typed.
  const name = () => {
    color.setAttribute("aria-label", `Colour of ${named()}`);
    hotkey.setAttribute("aria-label", `Hotkey of ${named()}`);
    remove.setAttribute("aria-label", `Remove label ${named()}`);
  };
  name();
  const value = h("input", {
    id: `${id}-value`, type: "text", value: label.value, class: "sb-label-value",
    placeholder: "label", "aria-label": `Label ${index + 1} of ${control.name}`,
    oninput: (e) => { label.value = e.target.value; name(); onChange(); },
  });
  return h("li", { class: "sb-label" }, value, color, hotkey, remove);
}

function sourceInput(control, fields, { onChange }, part = 0) {
  const sources = [].concat(control.source);
  const listId = `sb-fields-${++uid}`;
  const value = sources[part] || "";
  const input = h("input", {
    type: "text", value, list: listId, class: "sb-source", required: true,
    "aria-label": control.kind === "pairwise" ? `Source ${part === 0 ? "A" : "B"} of ${control.name}` : `Source field of ${control.name}`,
    oninput: (e) => {
      if (control.kind === "pairwise") {
        const both = [].concat(control.source);
        both[part] = e.target.value;
        control.source = both;
      } else {
        control.source = e.target.value;
      }
      onChange();
    },
  });
  // The project's item fields, offered as a list; any name may still be typed.
  const options = h("datalist", { id: listId }, ...fields.map((f) => h("option", { value: f })));
  if (!fields.length) return [input, options];
  const select = h(
    "select",
    {
      class: "sb-source-pick",
      "aria-label": `Pick a field for ${control.name}`,
      onchange: (e) => { if (e.target.value) { input.value = e.target.value; input.dispatchEvent(new Event("input")); } },
    },
    h("option", { value: "" }, "item field…"),
    ...fields.map((f) => h("option", { value: f, selected: f === value }, f)),
  );
  return [input, options, select];
}

export function controlCard(control, index, total, { fields, onChange, onMove, onRemove }) {
  const card = h("li", { class: "sb-control card", "data-control-index": String(index) });
  const rerender = () => card.replaceWith(controlCard(control, index, total, { fields, onChange, onMove, onRemove }));
  const id = `sb-${++uid}`;
  const kindSelect = h(
    "select",
    {
      id: `${id}-kind`,
      onchange: (e) => {
        const kind = e.target.value;
        control.kind = kind;
        if (KINDS_WITH_LABELS.has(kind) && !control.labels?.length) control.labels = [{ value: "", color: "", hotkey: "" }];
        if (!KINDS_WITH_LABELS.has(kind)) delete control.labels;
        if (kind === "pairwise") control.source = [].concat(control.source, "").slice(0, 2);
        else control.source = [].concat(control.source)[0] || "text";
        control.required = ["choice", "multi", "pairwise"].includes(kind);
        rerender();
        onChange();
      },
    },
    ...Object.entries(KIND_TITLES).map(([kind, title]) => h("option", { value: kind, selected: kind === control.kind }, title)),
  );
  const head = h(
    "div",
    { class: "sb-control-head" },
    h("label", { for: `${id}-name` }, "Name"),
    h("input", {
      id: `${id}-name`, type: "text", value: control.name, class: "sb-name", required: true,
      oninput: (e) => { control.name = e.target.value; onChange(); },
    }),
    h("label", { for: `${id}-kind` }, "Kind"),
    kindSelect,
    h("span", { class: "sb-move" },
      h("button", { type: "button", disabled: index === 0, "aria-label": `Move ${control.name} up`, onclick: () => onMove(index, -1) }, "↑"),
      h("button", { type: "button", disabled: index === total - 1, "aria-label": `Move ${control.name} down`, onclick: () => onMove(index, 1) }, "↓"),
      h("button", { type: "button", class: "sb-remove", "aria-label": `Remove ${control.name}`, onclick: () => onRemove(index) }, "Remove"),
    ),
  );
  const sourceRow = h(
    "div",
    { class: "sb-row" },
    h("span", { class: "sb-row-title" }, control.kind === "pairwise" ? "Compares fields" : "Reads field"),
    ...sourceInput(control, fields, { onChange }, 0),
    ...(control.kind === "pairwise" ? [" and ", ...sourceInput(control, fields, { onChange }, 1)] : []),
  );
  const required = h(
    "label",
    { class: "sb-required" },
    h("input", {
      type: "checkbox", checked: control.required !== false,
      onchange: (e) => { control.required = e.target.checked; onChange(); },
    }),
    ["spans", "boxes", "polygons"].includes(control.kind) ? " Required (at least one region)" : " Required",
  );
  card.append(head, sourceRow);
  if (KINDS_WITH_LABELS.has(control.kind)) {
    const list = h("ol", { class: "sb-labels", "aria-label": `Labels of ${control.name}` },
      ...control.labels.map((_, i) => labelRow(control, i, { onChange, rerender })));
    card.append(
      h("div", { class: "sb-row" }, h("span", { class: "sb-row-title" }, "Labels (value, colour, hotkey)")),
      list,
      h("button", {
        type: "button", class: "sb-add-label", "aria-label": `Add a label to ${control.name}`,
        onclick: () => { control.labels.push({ value: "", color: PALETTE[control.labels.length % PALETTE.length], hotkey: "" }); rerender(); onChange(); },
      }, "+ Label"),
    );
  }
  const options = h("div", { class: "sb-row" }, required);
  if (control.kind === "spans") {
    options.append(h("label", {}, h("input", {
      type: "checkbox", checked: control.allow_overlap !== false,
      onchange: (e) => { control.allow_overlap = e.target.checked; onChange(); },
    }), " Spans may overlap"));
  }
  card.append(options);
  return card;
}
