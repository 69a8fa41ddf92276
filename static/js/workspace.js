// The annotator workspace: fetch the next item, render each control, submit or skip, repeat.
import { apiRequest } from "./api.js";
import { createChoice } from "./controls/choice.js";

const root = document.getElementById("workspace");
const config = JSON.parse(root.dataset.config);
const CONTROL_FACTORIES = { choice: createChoice };

const state = { assignment: null, item: null, controls: [], startedAt: 0, busy: false };
const el = (id) => document.getElementById(id);

function showError(message) {
  const box = el("ws-error");
  box.textContent = message || "";
  box.hidden = !message;
}

function renderItem(item) {
  const view = el("ws-item");
  view.replaceChildren();
  const sources = new Set(config.schema.controls.flatMap((c) => [].concat(c.source)));
  for (const field of sources) {
    const block = document.createElement("div");
    block.className = "ws-field";
    block.dataset.field = field;
    block.textContent = item.data[field] ?? "";
    view.append(block);
  }
}

function renderControls() {
  const form = el("ws-form");
  form.replaceChildren();
  state.controls = config.schema.controls.map((control) => {
    const factory = CONTROL_FACTORIES[control.kind];
    if (!factory) {
      const note = document.createElement("p");
      note.textContent = `The ${control.kind} control is not available in this workspace yet.`;
      form.append(note);
      return null;
    }
    return factory(control, form);
  }).filter(Boolean);
}

async function loadNext() {
  showError("");
  const response = await apiRequest("GET", `/api/projects/${config.projectId}/next/`);
  if (response.status === 204) {
    state.item = null;
    el("ws-item").replaceChildren();
    el("ws-form").replaceChildren();
    el("ws-empty").hidden = false;
    el("ws-submit").disabled = el("ws-skip").disabled = true;
    el("ws-status").textContent = "All done";
    return;
  }
  if (!response.ok) {
    showError(response.data?.detail || `Could not load the next item (${response.status}).`);
    return;
  }
  state.assignment = response.data.assignment;
  state.item = response.data.item;
  state.startedAt = performance.now();
  renderItem(state.item);
  renderControls();
  root.dataset.itemId = String(state.item.id);
  el("ws-status").textContent = `Item ${state.item.external_id}`;
}

function collectResult() {
  const result = {};
  for (const control of state.controls) {
    const value = control.getValue();
    if (value !== null && value !== undefined && !(Array.isArray(value) && !value.length)) {
      result[control.name] = value;
    }
  }
  return result;
}

async function submit() {
  if (!state.item || state.busy) return;
  const missing = config.schema.controls.filter(
    (c) => c.required !== false && !(c.name in collectResult()),
  );
  if (missing.length) {
    showError(`Please answer: ${missing.map((c) => c.name).join(", ")}.`);
    return;
  }
  state.busy = true;
  try {
    const leadTime = (performance.now() - state.startedAt) / 1000;
    const response = await apiRequest("POST", `/api/items/${state.item.id}/annotations/`, {
      result: collectResult(),
      lead_time: Math.round(leadTime * 1000) / 1000,
    });
    if (!response.ok) {
      const errors = response.data?.result;
      showError(
        errors
          ? Object.entries(errors).map(([name, message]) => `${name}: ${message}`).join("; ")
          : response.data?.detail || `Could not submit (${response.status}).`,
      );
      return;
    }
    await loadNext();
  } finally {
    state.busy = false;
  }
}

async function skip() {
  if (!state.assignment || state.busy) return;
  state.busy = true;
  try {
    await apiRequest("POST", `/api/assignments/${state.assignment.id}/skip/`, { reason: "" });
    await loadNext();
  } finally {
    state.busy = false;
  }
}

document.addEventListener("keydown", (event) => {
  if (event.target.matches("input[type=text], textarea") || event.ctrlKey || event.metaKey) return;
  if (event.key === "Enter") {
    event.preventDefault();
    submit();
  } else if (event.key === "s" || event.key === "S") {
    event.preventDefault();
    skip();
  } else if (state.controls.some((control) => control.handleKey(event.key))) {
    event.preventDefault();
  }
});
el("ws-submit").addEventListener("click", submit);
el("ws-skip").addEventListener("click", skip);
loadNext();
