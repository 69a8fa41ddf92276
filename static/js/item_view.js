// The data manager's item page: the item through the annotators' own rendering
// (workspace_view.js), with any stored result (resolution, an answer, a prediction, gold)
// shown in the widgets. Nothing shown here is sent anywhere.
import { workspaceView } from "./workspace_view.js";

const config = JSON.parse(document.getElementById("item-view").textContent);
const itemEl = document.getElementById("dm-view-item");
const formEl = document.getElementById("dm-view-form");
const select = document.getElementById("dm-view-shown");

const view = workspaceView(config.controls);
view.renderItemFields(itemEl, config.item);
const widgets = view.renderControlWidgets(formEl, config.item, {
  signal: new AbortController().signal,
  onChange: () => {},
});

config.shown.forEach((entry, index) => {
  const option = document.createElement("option");
  option.value = String(index);
  option.textContent = entry.label;
  select.append(option);
});

function show(result) {
  for (const widget of widgets) widget.setValue(result?.[widget.name] ?? null);
}

select.addEventListener("change", () => {
  show(select.value === "" ? null : config.shown[Number(select.value)].result);
});
if (config.shown.length) {
  select.value = "0";
  show(config.shown[0].result);
}
formEl.addEventListener("submit", (event) => event.preventDefault());
// Keys pressed over the page go to its widgets, as in the workspace (zoom, shape tools).
document.addEventListener("keydown", (event) => {
  if (event.target.closest?.("input, textarea, select")) return;
  if (widgets.some((widget) => widget.handleKey(event))) event.preventDefault();
});
