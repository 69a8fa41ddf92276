// The reviewer's page: every annotator's answer side by side (spans and boxes overlaid in one
// colour per annotator), disagreements highlighted; accept one answer, save an edited/merged
// answer, or send the item back. Posts to the same API scripts use.
import { apiRequest } from "./api.js";
import { CONTROL_FACTORIES } from "./controls/index.js";
import { HotkeyRegistry } from "./hotkeys.js";

const root = document.getElementById("review");
const config = JSON.parse(root.dataset.config);
// Annotators' colours: dark, saturated tones kept apart from every label colour of the project
// (labels get the workspace's palette, hotkeys.js), so an overlay never reads as a label.
const ANNOTATOR_PALETTE = [
  "#000000", "#6a3d9a", "#b15928", "#01665e", "#c51b7d", "#4d4d4d", "#8c6d31", "#084594",
  "#7f2704", "#00441b", "#49006a", "#3f007d", "#67000d", "#525252",
];
let COLOURS = ANNOTATOR_PALETTE;

function rgb(hex) {
  const value = parseInt(hex.replace("#", "").padEnd(6, "0").slice(0, 6), 16);
  return [(value >> 16) & 255, (value >> 8) & 255, value & 255];
}

function annotatorColours(controls) {
  const registry = new HotkeyRegistry(controls);
  const labelColours = controls.flatMap((control) => registry.labelsFor(control).map((l) => l.color)).filter(Boolean).map(rgb);
  const far = (colour) => labelColours.every((label) => Math.hypot(...colour.map((c, i) => c - label[i])) > 90);
  const chosen = ANNOTATOR_PALETTE.filter((colour) => far(rgb(colour)));
  return chosen.length >= 2 ? chosen : ANNOTATOR_PALETTE;
}
const el = (id) => document.getElementById(id);
const state = { packet: null, widgets: {} };
let editorLifetime = new AbortController();

function node(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") element.className = value;
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    // Through the CSSOM: a style attribute is inline style, which the CSP refuses.
    else if (key === "style") element.style.cssText = value;
    else element.setAttribute(key, value);
  }
  element.append(...children.filter((c) => c !== null && c !== undefined));
  return element;
}

function showError(message) {
  el("rv-error").textContent = message || "";
  el("rv-error").hidden = !message;
}

function covered(text, span) {
  const piece = Array.from(text).slice(span.start, span.end).join("");
  return piece.length > 40 ? `${piece.slice(0, 39)}…` : piece;
}

function describe(control, value, data = {}) {
  const kind = control.kind;
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) return "—";
  if (kind === "multi") return value.join(", ");
  if (kind === "spans") {
    const text = String(data[[].concat(control.source)[0]] ?? "");
    return value.map((s) => `${s.label} “${covered(text, s)}” [${s.start}–${s.end})`).join("; ");
  }
  if (kind === "boxes") return value.map((b) => `${b.label} (${Math.round(b.x)}, ${Math.round(b.y)}, ${Math.round(b.width)}×${Math.round(b.height)})`).join("; ");
  if (kind === "polygons") return value.map((p) => `${p.label} (${p.points.length} points)`).join("; ");
  return String(value);
}

function canonical(value) {
  if (value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length)) return "";
  if (Array.isArray(value)) return JSON.stringify(value.map(canonical).sort());
  if (typeof value === "object") return JSON.stringify(Object.keys(value).sort().map((k) => [k, value[k]]));
  return JSON.stringify(value);
}

// Spans of every annotator over one text: each annotator's spans are an underline at its own depth.
function spansOverlay(text, answers, controlName) {
  const chars = Array.from(text);
  const cover = chars.map(() => []);
  answers.forEach((answer, n) => {
    for (const span of answer.result[controlName] || []) {
      for (let i = span.start; i < Math.min(span.end, chars.length); i += 1) cover[i].push([n, span.label]);
    }
  });
  const box = node("div", { class: "rv-text", "data-control": controlName });
  let i = 0;
  while (i < chars.length) {
    const key = JSON.stringify(cover[i]);
    let j = i + 1;
    while (j < chars.length && JSON.stringify(cover[j]) === key) j += 1;
    const piece = node("span", {}, chars.slice(i, j).join(""));
    if (cover[i].length) {
      piece.style.boxShadow = cover[i].map(([n], depth) => `inset 0 -${3 * (depth + 1)}px 0 ${COLOURS[n % COLOURS.length]}`).join(", ");
      piece.title = cover[i].map(([n, label]) => `${answers[n].annotator}: ${label}`).join("\n");
      piece.className = "rv-covered";
    }
    box.append(piece);
    i = j;
  }
  return box;
}

// Boxes and polygons of every annotator over the image, one colour per annotator.
function shapesOverlay(item, answers, controls) {
  const source = [].concat(controls[0].source)[0];
  const stage = node("div", { class: "rv-stage" });
  stage.append(node("img", { src: item.data[source], alt: `Image of ${state.packet?.title || `item ${item.id}`}` }));
  const svgNS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(svgNS, "svg");
  svg.setAttribute("viewBox", `0 0 ${item.width || 100} ${item.height || 100}`);
  svg.setAttribute("preserveAspectRatio", "none");
  answers.forEach((answer, n) => {
    const colour = COLOURS[n % COLOURS.length];
    for (const control of controls) {
      for (const shape of answer.result[control.name] || []) {
        const element = control.kind === "boxes" ? document.createElementNS(svgNS, "rect") : document.createElementNS(svgNS, "polygon");
        if (control.kind === "boxes") {
          for (const key of ["x", "y", "width", "height"]) element.setAttribute(key, shape[key]);
        } else {
          element.setAttribute("points", shape.points.map((p) => p.join(",")).join(" "));
        }
        element.setAttribute("fill", "none");
        element.setAttribute("stroke", colour);
        element.setAttribute("stroke-width", "3");
        element.setAttribute("vector-effect", "non-scaling-stroke");
        element.setAttribute("class", "rv-shape");
        element.setAttribute("data-annotator", answer.annotator);
        const title = document.createElementNS(svgNS, "title");
        title.textContent = `${answer.annotator}: ${shape.label}`;
        element.append(title);
        svg.append(element);
      }
    }
  });
  stage.append(svg);
  return stage;
}

function renderItem(packet) {
  const { item, answers } = packet;
  const controls = packet.label_schema.controls;
  const view = el("rv-item");
  view.replaceChildren();
  const shown = new Set();
  for (const control of controls) {
    const source = [].concat(control.source)[0];
    if (control.kind === "spans") {
      view.append(node("h3", {}, `${control.name} (spans of all annotators)`), spansOverlay(String(item.data[source] ?? ""), answers, control.name));
      shown.add(source);
    }
  }
  const shapeControls = controls.filter((c) => c.kind === "boxes" || c.kind === "polygons");
  if (shapeControls.length) {
    view.append(node("h3", {}, "Shapes of all annotators"), shapesOverlay(item, answers, shapeControls));
    shapeControls.forEach((c) => shown.add([].concat(c.source)[0]));
  }
  for (const control of controls) {
    for (const source of [].concat(control.source)) {
      if (shown.has(source)) continue;
      shown.add(source);
      view.append(node("div", { class: "ws-field", "data-field": source }, String(item.data[source] ?? "")));
    }
  }
}

function renderTable(packet) {
  const controls = packet.label_schema.controls;
  const table = el("rv-answers");
  table.replaceChildren();
  const head = node("tr", {}, node("th", {}, "Control"));
  packet.answers.forEach((answer, n) => {
    head.append(node("th", { scope: "col" },
      node("span", { class: "rv-swatch", style: `background:${COLOURS[n % COLOURS.length]}` }), answer.annotator, " ",
      node("button", { type: "button", class: "rv-accept", "data-annotation": answer.annotation, onclick: () => decide({ action: "accept", annotation: answer.annotation }) }, "Accept")));
  });
  head.append(node("th", { scope: "col" }, "Proposal"));
  table.append(node("thead", {}, head));
  const body = node("tbody");
  const proposal = packet.proposal ? packet.proposal.result : {};
  for (const control of controls) {
    const values = packet.answers.map((a) => a.result[control.name]);
    const keys = values.map(canonical);
    const counts = keys.reduce((m, k) => m.set(k, (m.get(k) || 0) + 1), new Map());
    const top = Math.max(...counts.values());
    const disagree = packet.disagreements.includes(control.name);
    const row = node("tr", { class: disagree ? "disagree" : "", "data-control": control.name }, node("th", { scope: "row" }, control.name, disagree ? node("div", { class: "rv-meta" }, "disagreement") : null));
    values.forEach((value, n) => {
      const differs = disagree && counts.get(keys[n]) < top;
      row.append(node("td", { class: differs ? "differs" : "" }, describe(control, value, packet.item.data), " ",
        node("button", { type: "button", class: "link", onclick: () => useValue(control.name, value) }, "Use")));
    });
    row.append(node("td", {}, describe(control, proposal[control.name], packet.item.data)));
    body.append(row);
  }
  table.append(body);
}

function isEmpty(value) {
  return value === undefined || value === null || value === "" || (Array.isArray(value) && !value.length);
}

// The widgets' answer, as the API wants it (empty controls left out).
function collectDraft() {
  const result = {};
  for (const [name, widget] of Object.entries(state.widgets)) {
    const value = widget.getValue();
    if (!isEmpty(value)) result[name] = value;
  }
  return result;
}

function syncJson() {
  el("rv-draft").value = JSON.stringify(collectDraft(), null, 2);
}

function setDraft(result) {
  for (const [name, widget] of Object.entries(state.widgets)) widget.setValue(result[name] ?? null);
  syncJson();
}

function renderEditor(packet) {
  editorLifetime.abort();
  editorLifetime = new AbortController();
  const form = el("rv-editor");
  form.replaceChildren();
  const controls = packet.label_schema.controls;
  const registry = new HotkeyRegistry(controls);
  const labels = controls.map((control) => registry.labelsFor(control));
  const stages = new Map();
  state.widgets = {};
  controls.forEach((control, index) => {
    const factory = CONTROL_FACTORIES[control.kind];
    if (!factory) return;
    const widget = factory(control, {
      container: form,
      data: packet.item.data,
      item: packet.item,
      labels: labels[index],
      registry,
      stages,
      signal: editorLifetime.signal,
      onChange: syncJson,
    });
    widget.root.addEventListener("pointerdown", () => { state.active = widget; }, true);
    widget.root.addEventListener("focusin", () => { state.active = widget; });
    state.widgets[control.name] = widget;
  });
  state.active = null;
  setDraft(packet.proposal ? packet.proposal.result : {});
}

// "Use": take one annotator's answer for one control into the final answer (merge).
function useValue(name, value) {
  state.widgets[name]?.setValue(value ?? null);
  syncJson();
}

function renderHistory(packet) {
  const table = el("rv-history");
  const head = node("tr", {}, ...["When", "State", "Method", "Agreement", "Reviewer", "Why", "Result"].map((h) => node("th", { scope: "col" }, h)));
  const rows = packet.history.map((r) => node("tr", { class: r.is_current ? "current" : "" },
    node("td", {}, new Date(r.created_at).toLocaleString()),
    node("td", {}, r.state + (r.is_current ? " (current)" : "")),
    node("td", {}, r.method),
    node("td", {}, r.agreement === null ? "—" : r.agreement.toFixed(2)),
    node("td", {}, r.reviewer || "—"),
    node("td", {}, r.reason || ""),
    node("td", {}, node("code", {}, JSON.stringify(r.result)))));
  table.replaceChildren(node("thead", {}, head), node("tbody", {}, ...rows));
}

// Send back: to anyone who has not answered, to one of them, or to a member added here; with
// nobody left, the reviewer is told so instead of sending the item into a queue nobody reads.
function renderSendBack(packet) {
  const eligible = packet.eligible_annotators || [];
  const choice = el("rv-send-to");
  choice.replaceChildren(
    node("option", { value: "" }, `anyone who has not answered (${eligible.length})`),
    ...eligible.map((name) => node("option", { value: name }, name)),
  );
  el("rv-send-back-box").hidden = !eligible.length;
  el("rv-nobody-left").hidden = Boolean(eligible.length);
  el("rv-send-back").disabled = !eligible.length;
}

function render(packet) {
  state.packet = packet;
  COLOURS = annotatorColours(packet.label_schema.controls);
  el("rv-empty").hidden = true;
  el("rv-body").hidden = false;
  el("rv-title").textContent = packet.title || `Item ${packet.item.id}`;
  el("rv-reason").textContent = packet.proposal?.reason ? `In review: ${packet.proposal.reason}` : "";
  renderSendBack(packet);
  el("rv-legend").replaceChildren(...packet.answers.map((a, n) => node("span", {}, node("span", { class: "rv-swatch", style: `background:${COLOURS[n % COLOURS.length]}` }), a.annotator)));
  renderItem(packet);
  renderTable(packet);
  renderHistory(packet);
  renderEditor(packet);
  root.dataset.itemId = String(packet.item.id);
  showError("");
}

async function loadNext(after) {
  el("rv-status").textContent = "";
  const query = after ? `?after=${after}` : "";
  const response = await apiRequest("GET", `/api/projects/${config.projectId}/review/next/${query}`);
  if (response.status === 204) {
    state.packet = null;
    el("rv-body").hidden = true;
    el("rv-empty").hidden = false;
    root.dataset.itemId = "";
    el("rv-status").textContent = "Review queue empty";
    return;
  }
  if (!response.ok) {
    el("rv-status").textContent = response.data?.detail || `Could not load the queue (${response.status}).`;
    return;
  }
  render(response.data);
}

function leftInQueue(count) {
  if (!count) return "The review queue is now empty.";
  return `${count} item${count === 1 ? "" : "s"} left in the review queue.`;
}

async function decide(body) {
  if (!state.packet) return;
  const title = state.packet.title || `Item ${state.packet.item.id}`;
  const response = await apiRequest("POST", `/api/items/${state.packet.item.id}/resolution/`, body);
  if (!response.ok) {
    const data = response.data || {};
    const detail = data.result && typeof data.result === "object"
      ? Object.entries(data.result).map(([k, v]) => `${k}: ${v}`).join("; ")
      : data.detail || data.annotator || JSON.stringify(data);
    showError(detail);
    return;
  }
  const accepted = state.packet.answers.find((a) => a.annotation === body.annotation)?.annotator;
  const done = {
    accept: `Accepted ${accepted}'s answer as the final answer to ${title}.`,
    edit: `Saved your final answer to ${title}.`,
    send_back: `Sent ${title} back for another annotation${body.annotator ? ` by ${body.annotator}` : ""}.`,
  }[body.action];
  await loadNext();
  el("rv-status").textContent = `${done} ${leftInQueue(response.data.review_left)}`;
}

async function addMemberAndSendBack() {
  const username = el("rv-new-member").value.trim();
  if (!username) {
    showError("Type the username of the member to add.");
    return;
  }
  const response = await apiRequest("POST", `/api/projects/${config.projectId}/members/`, { username, role: "annotator" });
  if (!response.ok) {
    const data = response.data || {};
    showError(data.detail || Object.entries(data).map(([k, v]) => `${k}: ${v}`).join("; ") || `Could not add ${username} (${response.status}).`);
    return;
  }
  await decide({ action: "send_back", annotator: username });
}

// Keys go to the control last used in the final-answer editor (label hotkeys, nudging ...),
// except while typing in a text field.
document.addEventListener("keydown", (event) => {
  const typing = event.target.closest?.("textarea, input[type=text], select");
  if (typing || !state.active?.handleKey) return;
  if (state.active.handleKey(event)) {
    event.preventDefault();
    syncJson();
  }
});

el("rv-save").addEventListener("click", () => decide({ action: "edit", result: collectDraft() }));
el("rv-apply-json").addEventListener("click", () => {
  let result;
  try { result = JSON.parse(el("rv-draft").value); } catch (error) { showError(`Not valid JSON: ${error.message}`); return; }
  showError("");
  setDraft(result && typeof result === "object" ? result : {});
});
el("rv-send-back").addEventListener("click", () => {
  const annotator = el("rv-send-to").value;
  decide(annotator ? { action: "send_back", annotator } : { action: "send_back" });
});
el("rv-add-member").addEventListener("click", addMemberAndSendBack);
el("rv-pass").addEventListener("click", () => loadNext(state.packet?.item.id));
loadNext(config.startAfter);
