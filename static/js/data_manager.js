// The data manager's table: tick a whole page, count the ticked items, show the inputs the
// chosen bulk action takes. Everything else is plain forms and htmx.
const selection = document.getElementById("dm-selection");

function ticked() {
  return selection.querySelectorAll('input[name="ids"]:checked').length;
}

function refreshCount() {
  const count = document.getElementById("dm-checked-count");
  if (count) count.textContent = String(ticked());
}

function showActionInputs() {
  const action = document.getElementById("dm-action");
  if (!action) return;
  for (const label of document.querySelectorAll("[data-for-action]")) {
    label.hidden = label.dataset.forAction !== action.value;
  }
}

selection.addEventListener("change", (event) => {
  const target = event.target;
  if (target.id === "dm-check-page") {
    for (const box of selection.querySelectorAll('input[name="ids"]')) box.checked = target.checked;
  }
  if (target.id === "dm-action") showActionInputs();
  refreshCount();
});

selection.addEventListener("submit", (event) => {
  const scope = selection.querySelector('input[name="scope"]:checked');
  const action = document.getElementById("dm-action");
  if (scope && scope.value === "checked" && ticked() === 0) {
    event.preventDefault();
    event.stopImmediatePropagation();
    document.getElementById("dm-job").textContent = "Tick some items first, or choose all that match.";
    return;
  }
  if (action && action.value === "delete" && !window.confirm("Delete the selected items?")) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }
}, true);

document.body.addEventListener("htmx:afterSwap", refreshCount);
showActionInputs();
refreshCount();
