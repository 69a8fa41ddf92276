// The annotator workspace: fetch the next item, render every control of the schema, keep undo
// history and a server-side draft, submit or skip, and load the next item without a page reload.
import { apiRequest, csrfToken } from "./api.js";
import { h, kbd } from "./controls/common.js";
import { DraftSaver } from "./drafts.js";
import { UndoHistory } from "./undo.js";
import { workspaceView } from "./workspace_view.js";

const root = document.getElementById("workspace");
const config = JSON.parse(root.dataset.config);
const controlsSchema = config.schema.controls;
// Keys that act on one control (the one last used), never on all at once.
const LOCAL_KEYS = new Set([
  "ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Delete", "Backspace", "Escape",
  "[", "]", "+", "=", "-", "0", ")", "<", ">", "{", "}",
]);

const state = {
  assignment: null,
  item: null,
  controls: [],
  active: null,
  busy: false,
  applying: false,
  visibleSince: 0,
  spentBefore: 0,
};
const history = new UndoHistory();
const el = (id) => document.getElementById(id);
const drafts = new DraftSaver({
  onState(draftState) {
    root.dataset.draftState = draftState;
    el("ws-draft").textContent =
      { pending: "", saving: "Saving draft…", saved: "Draft saved", failed: "Draft NOT saved" }[draftState] || "";
  },
});

// ---------- time spent: only while the page is visible ----------
function secondsSpent() {
  const running = state.visibleSince ? (performance.now() - state.visibleSince) / 1000 : 0;
  return Math.round((state.spentBefore + running) * 1000) / 1000;
}

function startClock(spentBefore = 0) {
  state.spentBefore = spentBefore;
  state.visibleSince = document.hidden ? 0 : performance.now();
}

document.addEventListener("visibilitychange", () => {
  if (document.hidden) {
    state.spentBefore = secondsSpent();
    state.visibleSince = 0;
    drafts.flush();
  } else {
    state.visibleSince = performance.now();
  }
});

// ---------- messages ----------
function showError(message) {
  if (!message) state.missingShown = false;
  const box = el("ws-error");
  box.textContent = message || "";
  box.hidden = !message;
}

function showNotice(message) {
  el("ws-notice").textContent = message || "";
  el("ws-notice").hidden = !message;
}

// ---------- rendering ----------
const view = workspaceView(controlsSchema);

function renderItem(item) {
  view.renderItemFields(el("ws-item"), item);
}

let controlsLifetime = new AbortController();

function renderControls(item) {
  // Listeners the previous item's controls put on the document go away with them.
  controlsLifetime.abort();
  controlsLifetime = new AbortController();
  state.controls = view.renderControlWidgets(el("ws-form"), item, {
    signal: controlsLifetime.signal,
    onChange: onControlChange,
    onWidget(widget) {
      widget.root.addEventListener("pointerdown", () => { state.active = widget; }, true);
      widget.root.addEventListener("focusin", () => { state.active = widget; });
    },
  });
  state.active =
    state.controls.find((c) => ["spans", "boxes", "polygons"].includes(c.root.dataset.kind)) ||
    state.controls[0] ||
    null;
  renderKeys();
}

function keyRows() {
  const rows = [
    ["Enter", "submit the answer"],
    ["Ctrl+Enter", "submit, even from a text box"],
    ["S", "skip this item"],
    ["Ctrl+Z", "undo"],
    ["Ctrl+Shift+Z / Ctrl+Y", "redo"],
    ["?", "show or hide this list"],
  ];
  for (const control of state.controls) rows.push(...control.keys.filter(([key]) => key));
  return rows;
}

function renderKeys() {
  const rows = keyRows();
  el("ws-help-rows").replaceChildren(
    ...rows.map(([key, action]) => h("tr", {}, h("td", {}, kbd(key)), h("td", {}, action))),
  );
  el("ws-keys").replaceChildren(...rows.map(([key, action]) => h("li", {}, kbd(key), " ", action)));
}

function toggleHelp(show = el("ws-help").hidden) {
  el("ws-help").hidden = !show;
  if (show) el("ws-help-close").focus();
}

// ---------- values, undo, drafts ----------
function values() {
  return Object.fromEntries(state.controls.map((control) => [control.name, control.getValue()]));
}

function isEmpty(value) {
  return value === null || value === undefined || value === "" || (Array.isArray(value) && !value.length);
}

function collectResult() {
  return Object.fromEntries(Object.entries(values()).filter(([, value]) => !isEmpty(value)));
}

function applyValues(result) {
  state.applying = true;
  try {
    for (const control of state.controls) control.setValue(result?.[control.name] ?? null);
  } finally {
    state.applying = false;
  }
}

function updateUndoButtons() {
  el("ws-undo").disabled = history.position === 0;
  el("ws-redo").disabled = history.position >= history.states.length - 1;
}

function saveDraftSoon() {
  if (!state.item || config.edit?.canEdit === false) return;
  drafts.schedule(state.item.id, () => ({ result: collectResult(), lead_time: secondsSpent() }));
}

// The "Please answer" message names what is still missing, and goes once all of it is answered.
function refreshMissing() {
  if (!state.missingShown) return;
  const missing = missingControls(collectResult());
  for (const control of state.controls) {
    control.root.classList.toggle("missing", missing.some((c) => c.name === control.name));
  }
  if (missing.length) {
    showError(`Please answer: ${missing.map((c) => c.name).join(", ")}.`);
  } else {
    state.missingShown = false;
    showError("");
  }
}

function onControlChange() {
  if (state.applying) return;
  refreshMissing();
  if (history.record(JSON.stringify(values()))) saveDraftSoon();
  updateUndoButtons();
}

function undoOrRedo(step) {
  const snapshot = step < 0 ? history.undo() : history.redo();
  if (snapshot === null) return;
  applyValues(JSON.parse(snapshot));
  refreshMissing();
  updateUndoButtons();
  saveDraftSoon();
}

// ---------- loading items ----------
async function showItem(item, { result = null, draft = null, prediction = null } = {}) {
  state.item = item;
  root.dataset.itemId = String(item.id);
  renderItem(item);
  renderControls(item);
  showNotice("");
  let spentBefore = 0;
  if (draft) {
    applyValues(draft.result);
    spentBefore = draft.lead_time || 0;
    showNotice("Your unfinished answer to this item was restored.");
  } else if (result) {
    applyValues(result);
  } else if (prediction && config.prefillPredictions) {
    applyValues(prediction.result);
    const score = prediction.score === null || prediction.score === undefined ? "" : `, score ${prediction.score}`;
    showNotice(`Pre-filled by the model ${prediction.model_version || ""}${score}: check and correct it.`);
    root.dataset.prefilled = "true";
  }
  history.reset(JSON.stringify(values()));
  updateUndoButtons();
  startClock(spentBefore);
  root.dataset.ready = "true";
}

function showEmpty() {
  state.item = null;
  state.assignment = null;
  state.controls = [];
  el("ws-item").replaceChildren();
  el("ws-form").replaceChildren();
  el("ws-empty").hidden = false;
  // Nothing to submit, skip or undo: only the keys list stays.
  for (const id of ["ws-submit", "ws-skip", "ws-undo", "ws-redo"]) {
    el(id).hidden = true;
    el(id).disabled = true;
  }
  history.reset("{}");
  el("ws-status").textContent = "All done for now";
  delete root.dataset.itemId;
  root.dataset.ready = "true";
}

function showWorking() {
  el("ws-empty").hidden = true;
  for (const id of ["ws-submit", "ws-skip", "ws-undo", "ws-redo"]) el(id).hidden = false;
  el("ws-submit").disabled = el("ws-skip").disabled = false;
}

async function loadNext() {
  delete root.dataset.titled;
  showError("");
  hideSkipBox();
  root.dataset.ready = "false";
  delete root.dataset.prefilled;
  const response = await apiRequest("GET", `/api/projects/${config.projectId}/next/`);
  if (response.status === 204) {
    showEmpty();
    return;
  }
  if (!response.ok) {
    showError(response.data?.detail || `Could not load the next item (${response.status}).`);
    return;
  }
  state.assignment = response.data.assignment;
  const item = response.data.item;
  showWorking();
  const draft = await drafts.load(item.id);
  await showItem(item, { draft, prediction: response.data.prediction || null });
  el("ws-status").textContent = "";
  showTitle(item); // not awaited: the item is ready for answers before its title arrives
}

// The title ("Item 12 (review-0042)") comes apart from the item: counting its number is not
// the queue's work.
async function showTitle(item) {
  if (!item.title) {
    const response = await apiRequest("GET", `/api/items/${item.id}/title/`);
    if (response.ok) item.title = response.data.title;
  }
  if (state.item === item && !config.edit) el("ws-status").textContent = item.title || `Item ${item.id}`;
  root.dataset.titled = "true";
}

async function loadForEdit() {
  const { item, result, canEdit } = config.edit;
  const draft = canEdit ? await drafts.load(item.id) : null;
  await showItem(item, { result, draft });
  el("ws-skip").hidden = true;
  el("ws-status").textContent = `Changing your answer to ${(item.title || `item ${item.id}`).replace(/^Item/, "item")}`;
  if (!canEdit) {
    el("ws-submit").disabled = true;
    showError("This item is resolved; its answers can no longer change.");
  }
}

async function loadStats() {
  const response = await apiRequest("GET", `/api/projects/${config.projectId}/my-stats/`);
  const list = el("ws-stats");
  if (!response.ok || !response.data) {
    list.replaceChildren(h("dt", {}, "Not available"));
    return;
  }
  const stats = response.data;
  if ("annotated" in stats) {
    const accuracy = stats.gold_accuracy;
    list.replaceChildren(
      h("dt", {}, "Answered"), h("dd", {}, String(stats.annotated)),
      h("dt", {}, "Skipped"), h("dd", {}, String(stats.skipped ?? 0)),
      h("dt", {}, "Gold items"), h("dd", {}, String(stats.gold_answered ?? 0)),
      h("dt", {}, "Gold score"),
      h("dd", {}, accuracy === null || accuracy === undefined ? "not yet" : `${Math.round(accuracy * 100)}%`),
    );
    return;
  }
  const rows = [];
  const add = (key, value) => {
    if (value !== null && typeof value === "object") {
      for (const [inner, innerValue] of Object.entries(value)) add(`${key} ${inner}`, innerValue);
      return;
    }
    const shown = typeof value === "number" && !Number.isInteger(value) ? value.toFixed(2) : String(value ?? "–");
    rows.push(h("dt", {}, key.replaceAll("_", " ")), h("dd", {}, shown));
  };
  for (const [key, value] of Object.entries(response.data)) add(key, value);
  list.replaceChildren(...rows);
}

// ---------- submit and skip ----------
function missingControls(result) {
  return controlsSchema.filter((c) => c.required !== false && !(c.name in result));
}

async function submit() {
  if (!state.item || state.busy || el("ws-submit").disabled) return;
  const result = collectResult();
  const missing = missingControls(result);
  for (const control of state.controls) {
    control.root.classList.toggle("missing", missing.some((c) => c.name === control.name));
  }
  if (missing.length) {
    state.missingShown = true;
    showError(`Please answer: ${missing.map((c) => c.name).join(", ")}.`);
    state.controls.find((c) => c.root.classList.contains("missing"))?.root.scrollIntoView({ block: "nearest" });
    return;
  }
  state.busy = true;
  try {
    await drafts.settle();
    const response = await apiRequest("POST", `/api/items/${state.item.id}/annotations/`, {
      result,
      lead_time: secondsSpent(),
    });
    if (!response.ok) {
      const errors = response.data?.result;
      showError(
        errors && typeof errors === "object"
          ? Object.entries(errors).map(([name, message]) => `${name}: ${message}`).join("; ")
          : response.data?.detail || `Could not submit (${response.status}).`,
      );
      saveDraftSoon();
      return;
    }
    if (config.edit) {
      el("ws-status").textContent = "Answer saved";
      window.location.assign(config.historyUrl);
      return;
    }
    await loadNext();
    loadStats();
  } finally {
    state.busy = false;
  }
}

// Skip asks first: an optional reason (the lead's presets or free text), then confirms.
function openSkipBox() {
  if (!state.assignment || state.busy || config.edit || !state.item) return;
  const reasons = config.skipReasons || [];
  el("ws-skip-reasons").replaceChildren(
    ...reasons.map((reason, n) =>
      h("label", {}, h("input", { type: "radio", name: "ws-skip-reason", value: reason, id: `ws-skip-reason-${n}` }), ` ${reason}`),
    ),
  );
  el("ws-skip-other").value = "";
  el("ws-skip-box").hidden = false;
  root.dataset.skipping = "true";
  (el("ws-skip-reasons").querySelector("input") || el("ws-skip-other")).focus();
}

function hideSkipBox() {
  el("ws-skip-box").hidden = true;
  delete root.dataset.skipping;
}

function skipReason() {
  const other = el("ws-skip-other").value.trim();
  if (other) return other;
  return el("ws-skip-reasons").querySelector("input:checked")?.value || "";
}

async function skip() {
  if (!state.assignment || state.busy || config.edit || !state.item) return;
  const reason = skipReason();
  const title = state.item.title || `Item ${state.item.id}`;
  state.busy = true;
  try {
    await drafts.settle();
    await apiRequest("DELETE", `/api/items/${state.item.id}/draft/`);
    const response = await apiRequest("POST", `/api/assignments/${state.assignment.id}/skip/`, { reason });
    if (!response.ok) {
      showError(response.data?.detail || `Could not skip (${response.status}).`);
      return;
    }
    hideSkipBox();
    await loadNext();
    showNotice(`Skipped ${title}${reason ? `: ${reason}` : ""}.`);
    await loadStats();
  } finally {
    state.busy = false;
  }
}

// ---------- keys ----------
function dispatchToControls(event) {
  if (LOCAL_KEYS.has(event.key)) return Boolean(state.active?.handleKey(event));
  if (state.active?.handleKey(event)) return true;
  return state.controls.some((control) => control !== state.active && control.handleKey(event));
}

document.addEventListener("keydown", (event) => {
  const inText = event.target.matches("input[type=text], textarea, select");
  if (!el("ws-help").hidden) {
    if (event.key === "Escape" || event.key === "?") {
      event.preventDefault();
      toggleHelp(false);
    }
    return;
  }
  if (event.ctrlKey || event.metaKey) {
    const key = event.key.toLowerCase();
    if (key === "enter") {
      event.preventDefault();
      submit();
    } else if (!inText && key === "z") {
      event.preventDefault();
      undoOrRedo(event.shiftKey ? 1 : -1);
    } else if (!inText && key === "y") {
      event.preventDefault();
      undoOrRedo(1);
    }
    return;
  }
  if (!el("ws-skip-box").hidden) {
    if (event.key === "Escape") {
      event.preventDefault();
      hideSkipBox();
    } else if (event.key === "Enter" && !event.target.matches("button")) {
      event.preventDefault();
      skip();
    }
    return; // other keys type the reason or pick one
  }
  if (inText || event.altKey || !state.item) return;
  if (event.target.matches("button, a") && (event.key === "Enter" || event.key === " ")) return;
  if (event.key === "?") {
    event.preventDefault();
    toggleHelp(true);
  } else if (event.key === "Enter") {
    event.preventDefault();
    submit();
  } else if (event.key === "s" || event.key === "S") {
    event.preventDefault();
    openSkipBox();
  } else if (dispatchToControls(event)) {
    event.preventDefault();
  }
});

el("ws-form").addEventListener("submit", (event) => event.preventDefault());
// A button clicked with the mouse gives focus back, so that Enter submits rather than clicking it
// again; a button pressed from the keyboard (detail 0) keeps focus for the next Tab.
root.addEventListener("click", (event) => {
  const button = event.target.closest("button");
  if (button && event.detail > 0) button.blur();
});
el("ws-submit").addEventListener("click", submit);
el("ws-skip").addEventListener("click", openSkipBox);
el("ws-skip-box").addEventListener("submit", (event) => {
  event.preventDefault();
  skip();
});
el("ws-skip-cancel").addEventListener("click", hideSkipBox);
el("ws-check-again").addEventListener("click", () => loadNext());
el("ws-undo").addEventListener("click", () => undoOrRedo(-1));
el("ws-redo").addEventListener("click", () => undoOrRedo(1));
el("ws-help-open").addEventListener("click", () => toggleHelp(true));
el("ws-help-close").addEventListener("click", () => toggleHelp(false));
window.addEventListener("pagehide", () => drafts.flushOnExit(csrfToken()));

if (config.edit) loadForEdit();
else loadNext();
loadStats();
