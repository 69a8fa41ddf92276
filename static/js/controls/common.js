// Small DOM helpers shared by the control modules.
//
// The control contract (workspace.js and review.js rely on it): each module exports
//   createX(control, ctx) -> { name, root, getValue(), setValue(value), handleKey(event), keys }
// where `control` is one entry of the label schema and ctx is
//   { container, data, item, labels, registry, signal, onChange }:
// the form to append to, the item's data and JSON (width/height), the control's labels with
// their assigned hotkeys, the HotkeyRegistry (for keys of its own), an AbortSignal that ends
// the widget's document listeners, and the callback to call after every user change (never
// from setValue). getValue() returns the control's part of the result in the label contract's
// shape; handleKey returns true when it used the key; keys lists [key, what it does] rows.
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "style") node.style.cssText = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node && typeof value !== "string") node[key] = value;
    else node.setAttribute(key, value === true ? "" : value);
  }
  node.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return node;
}

export function kbd(key) {
  return key ? h("kbd", {}, key === " " ? "Space" : key) : null;
}

// The fieldset every control lives in: a legend with the name and whether it is required.
export function controlFieldset(control, kindClass) {
  const fieldset = h("fieldset", {
    class: `control ${kindClass}`,
    "data-control": control.name,
    "data-kind": control.kind,
  });
  fieldset.append(
    h("legend", {}, control.name, control.required === false ? h("span", { class: "muted" }, " (optional)") : h("span", { class: "req", title: "required" }, " *")),
  );
  return fieldset;
}

// A row of label buttons: colour swatch AND text AND hotkey, never colour alone.
export function labelBar(labels, onPick, { pressed = null } = {}) {
  const bar = h("div", { class: "label-bar", role: "toolbar", "aria-label": "Labels" });
  const buttons = labels.map((label) => {
    const button = h(
      "button",
      {
        type: "button",
        class: "label-button",
        "data-label": label.value,
        "aria-pressed": pressed ? String(pressed === label.value) : null,
        style: `--label-color: ${label.color}`,
        // Keep the text selection (spans) when a label is clicked.
        onmousedown: (event) => event.preventDefault(),
        onclick: () => onPick(label),
      },
      h("span", { class: "swatch", "aria-hidden": "true" }),
      label.value,
      kbd(label.hotkey),
    );
    return button;
  });
  bar.append(...buttons);
  bar.setPressed = (value) => {
    for (const button of buttons) button.setAttribute("aria-pressed", String(button.dataset.label === value));
  };
  return bar;
}

export function colorOf(labels, value) {
  return labels.find((label) => label.value === value)?.color || "#555";
}

export function round2(value) {
  return Math.round(value * 100) / 100;
}

export function clamp(value, low, high) {
  return Math.min(Math.max(value, low), high);
}
