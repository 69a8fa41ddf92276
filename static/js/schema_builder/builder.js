// The schema builder on the project create and settings pages: a template gallery, control
// cards, a live preview through the workspace's own rendering, the JSON (kept in the form's
// schema_json field, which is what the form posts) and Label Studio config import. Every change
// is checked by the server (POST /api/label-schema/check/), so the messages are those of saving.
import { apiRequest } from "../api.js";
import { h } from "../controls/common.js";
import { KIND_TITLES, KINDS_WITH_LABELS, controlCard } from "./control_card.js";
import { Preview, sampleItem } from "./preview.js";

const config = JSON.parse(document.getElementById("schema-builder-config").textContent);
const el = (id) => document.getElementById(id);
const jsonField = document.querySelector("[name=schema_json]");
const lsField = document.querySelector("[name=label_studio_config]");
const lsFile = document.querySelector("[name=label_studio_file]");
const renamesField = document.querySelector("[name=label_renames]");
const SAMPLE_IMAGE = (() => {
  const template = config.templates.find((t) => t.size);
  return { url: template?.sample.image || "", size: template?.size || null };
})();

const state = { controls: [], template: null, checkTimer: null, checkSeq: 0 };

// `saved`: the schema stored for the project, whose labels remember their stored value, so
// that editing one in place is a rename (stored answers move) rather than a removal.
// After a refused save the page comes back with the edited schema and the renames posted:
// a label renamed then still remembers its stored value.
function normalise(schema, { saved = false, renames = {} } = {}) {
  const stored = Object.fromEntries((config.schema?.controls || []).map((c) => [
    c.name, new Set((c.labels || []).map((lb) => (typeof lb === "string" ? lb : lb.value))),
  ]));
  return (schema?.controls || []).map((c) => {
    const renamedFrom = Object.fromEntries(Object.entries(renames[c.name] || {}).map(([from, to]) => [to, from]));
    return {
      ...c,
      // Unsaid, a control takes its kind's default: region controls and free text optional.
      required: c.required ?? config.requiredByDefault.includes(c.kind),
      labels: c.labels
        ? c.labels.map((lb) => {
            const label = typeof lb === "string" ? { value: lb, color: "", hotkey: "" } : { color: "", hotkey: "", ...lb };
            const from = renamedFrom[label.value] ?? (stored[c.name]?.has(label.value) ? label.value : undefined);
            if (saved && from !== undefined) label.storedValue = from;
            return label;
          })
        : undefined,
    };
  });
}

// {control: {stored label: new value}} for the saved labels edited in place.
function renamesOut() {
  const renames = {};
  for (const control of state.controls) {
    for (const label of control.labels || []) {
      const value = label.value.trim();
      if (label.storedValue && value && value !== label.storedValue) {
        (renames[control.name.trim()] ||= {})[label.storedValue] = value;
      }
    }
  }
  return renames;
}

function showRenames(renames) {
  const box = el("sb-renames");
  const parts = Object.entries(renames).flatMap(([control, mapping]) =>
    Object.entries(mapping).map(([from, to]) => `${control}: ${from} → ${to}`));
  box.textContent = parts.length ? `Renamed labels (stored answers move with them): ${parts.join(", ")}` : "";
  box.hidden = !parts.length;
  if (renamesField) renamesField.value = parts.length ? JSON.stringify(renames) : "";
}

// The schema as posted: empty colours and hotkeys left out, labels as objects.
function schemaOut() {
  return {
    controls: state.controls.map((c) => {
      const out = { name: c.name.trim(), kind: c.kind, source: c.source };
      if (KINDS_WITH_LABELS.has(c.kind)) {
        out.labels = (c.labels || []).map((lb) => {
          const label = { value: lb.value.trim() };
          if (lb.color) label.color = lb.color;
          if (lb.hotkey) label.hotkey = lb.hotkey;
          return label;
        });
      }
      out.required = c.required !== false;
      if (c.kind === "spans") out.allow_overlap = c.allow_overlap !== false;
      return out;
    }),
  };
}

function newName(kind) {
  const base = { choice: "label", multi: "tags", spans: "entities", boxes: "objects", polygons: "regions", text: "comment", pairwise: "preference" }[kind];
  let name = base;
  for (let n = 2; state.controls.some((c) => c.name === name); n++) name = `${base}_${n}`;
  return name;
}

function defaultSource(kind) {
  const fields = config.fields;
  if (kind === "pairwise") return fields.length >= 2 ? fields.slice(0, 2) : ["response_a", "response_b"];
  const image = fields.find((f) => /im(a)?g|photo|picture|url/i.test(f));
  if (["boxes", "polygons"].includes(kind)) return image || "image";
  return fields.find((f) => f !== image) || fields[0] || "text";
}

// ---------- rendering ----------
function renderCards() {
  const list = el("sb-controls");
  list.replaceChildren(
    ...state.controls.map((control, index) =>
      controlCard(control, index, state.controls.length, {
        fields: config.fields,
        onChange: changed,
        onMove(i, step) {
          const [moved] = state.controls.splice(i, 1);
          state.controls.splice(i + step, 0, moved);
          renderCards();
          changed();
        },
        onRemove(i) {
          state.controls.splice(i, 1);
          renderCards();
          changed();
        },
      }),
    ),
  );
  el("sb-empty").hidden = state.controls.length > 0;
}

function renderGallery() {
  el("sb-gallery").replaceChildren(
    ...config.templates.map((template) =>
      h("li", {},
        h("button", {
          type: "button", class: "sb-template", "data-template": template.id,
          "aria-pressed": String(state.template?.id === template.id),
          onclick: () => useTemplate(template),
        },
        h("strong", {}, template.title),
        h("span", { class: "muted" }, template.description),
        h("span", { class: "sb-template-kinds" }, template.schema.controls.map((c) => KIND_TITLES[c.kind]).join(" + ")))),
    ),
  );
}

const preview = new Preview({ itemEl: el("sb-preview-item"), formEl: el("sb-preview-form"), resultEl: el("sb-preview-result") });

function renderPreview() {
  const schema = schemaOut();
  const templateSample = state.template ? { data: state.template.sample, size: state.template.size } : null;
  preview.render(schema, sampleItem(schema, { projectSample: config.sample, templateSample, sampleImage: SAMPLE_IMAGE }));
}

function showError(message) {
  el("sb-error").textContent = message || "";
  el("sb-error").hidden = !message;
  el("sb-ok").textContent = message || !state.controls.length ? "" : "The schema is valid.";
}

// ---------- sync: builder -> JSON field, checked by the server ----------
function changed() {
  const schema = schemaOut();
  const renames = renamesOut();
  jsonField.value = state.controls.length ? JSON.stringify(schema, null, 2) : "";
  el("sb-json-error").hidden = true;
  showRenames(renames);
  renderPreview();
  clearTimeout(state.checkTimer);
  state.checkTimer = setTimeout(() => check(schema, renames), 250);
}

// On a project's settings the check also counts the stored answers a change would orphan.
async function check(schema, renames = {}) {
  if (!schema.controls.length) {
    showError("");
    return null;
  }
  const seq = ++state.checkSeq;
  const response = config.projectId
    ? await apiRequest("POST", `/api/projects/${config.projectId}/schema-check/`, { label_schema: schema, label_renames: renames })
    : await apiRequest("POST", "/api/label-schema/check/", { label_schema: schema });
  if (seq !== state.checkSeq) return null;  // a newer edit is being checked
  const errors = response.data || {};
  const message = response.ok ? "" : [...(errors.label_schema || []), ...(errors.label_renames || [])].join(" ") || "The schema could not be checked.";
  showError(message);
  return response;
}

function load(schema, { template = null, saved = false, renames = {} } = {}) {
  state.controls = normalise(schema, { saved, renames });
  state.template = template;
  renderGallery();
  renderCards();
  changed();
}

function useTemplate(template) {
  if (state.controls.length && !window.confirm(`Replace the ${state.controls.length} control(s) with the "${template.title}" template?`)) return;
  const schema = structuredClone(template.schema);
  // A template reads the project's own fields when it has items: text controls the first text
  // field, image controls the first image-like one.
  if (config.fields.length) {
    for (const control of schema.controls) {
      const sources = [].concat(control.source);
      if (sources.every((s) => config.fields.includes(s))) continue;
      control.source = control.kind === "pairwise" ? defaultSource("pairwise") : defaultSource(["boxes", "polygons"].includes(control.kind) || /image/.test(sources[0]) ? "boxes" : control.kind);
    }
  }
  load(schema, { template });
}

// ---------- JSON field -> builder ----------
let jsonTimer = null;
jsonField.addEventListener("input", () => {
  clearTimeout(jsonTimer);
  jsonTimer = setTimeout(async () => {
    const box = el("sb-json-error");
    let parsed;
    try {
      parsed = JSON.parse(jsonField.value);
    } catch (error) {
      box.textContent = `Not JSON: ${error.message}`;
      box.hidden = false;
      return;
    }
    const response = await apiRequest("POST", "/api/label-schema/check/", { label_schema: parsed });
    if (!response.ok) {
      box.textContent = (response.data?.label_schema || ["The schema could not be checked."]).join(" ");
      box.hidden = false;
      return;
    }
    box.hidden = true;
    state.controls = normalise(parsed);
    renderCards();
    renderPreview();
    showError("");
  }, 400);
});

// ---------- Label Studio config -> builder ----------
async function convertLabelStudio() {
  const problems = el("sb-ls-problems");
  let text = lsField.value;
  if (lsFile?.files?.length) text = await lsFile.files[0].text();
  if (!text.trim()) {
    problems.replaceChildren(h("li", {}, "Paste a Label Studio config or choose its file."));
    problems.hidden = false;
    return;
  }
  const response = await apiRequest("POST", "/api/label-schema/from-label-studio/", { config: text });
  if (!response.ok) {
    const list = response.data?.config || response.data?.detail ? [].concat(response.data.config || response.data.detail) : ["The config could not be read."];
    problems.replaceChildren(...list.map((p) => h("li", {}, p)));
    problems.hidden = false;
    return;
  }
  problems.hidden = true;
  lsField.value = "";
  if (lsFile) lsFile.value = "";
  load(response.data.label_schema);
  el("sb-ok").textContent = `Imported ${response.data.label_schema.controls.length} control(s) from the Label Studio config.`;
}

// ---------- start ----------
function start() {
  document.querySelectorAll("#schema-builder .sb-js").forEach((node) => { node.hidden = false; });
  // The quick single-choice fields are for pages without JavaScript; the builder replaces them.
  document.querySelectorAll("#schema-builder .sb-plain").forEach((node) => { node.hidden = true; });
  el("sb-add-kind").replaceChildren(...Object.entries(KIND_TITLES).map(([kind, title]) => h("option", { value: kind }, title)));
  el("sb-add").addEventListener("click", () => {
    const kind = el("sb-add-kind").value;
    const control = { name: newName(kind), kind, source: defaultSource(kind), required: config.requiredByDefault.includes(kind) };
    if (KINDS_WITH_LABELS.has(kind)) control.labels = [{ value: "", color: "#1f77b4", hotkey: "" }];
    state.controls.push(control);
    renderCards();
    changed();
    el("sb-controls").lastElementChild?.querySelector(".sb-name")?.focus();
  });
  el("sb-ls-convert").addEventListener("click", convertLabelStudio);
  // Enter in a builder field must not submit the project form half-way through an edit.
  el("schema-builder").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target.matches("input")) event.preventDefault();
  });
  el("sb-preview-form").addEventListener("keydown", (event) => {
    if (!event.target.matches("input[type=text], textarea") && preview.handleKey(event)) event.preventDefault();
  });
  document.getElementById("project-form").addEventListener("submit", (event) => {
    // The Label Studio box wins on the server; the builder's JSON is what is meant otherwise.
    if (!state.controls.length && !lsField.value.trim() && !lsFile?.files?.length && !jsonField.value.trim()) {
      event.preventDefault();
      showError("Add at least one control (or pick a template).");
    }
  });
  let initial = config.schema;
  let renames = {};
  if (jsonField.value.trim()) {
    try { initial = JSON.parse(jsonField.value); } catch { /* the server's message is shown */ }
  }
  if (renamesField?.value.trim()) {
    try { renames = JSON.parse(renamesField.value); } catch { /* the server's message is shown */ }
  }
  renderGallery();
  if (initial?.controls?.length) load(initial, { saved: Boolean(config.projectId), renames });
  else { renderCards(); renderPreview(); }
}

start();
