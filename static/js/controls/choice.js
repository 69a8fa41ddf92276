// Single choice: radio buttons with colour, text and hotkey.
import { keyMatches } from "../hotkeys.js";
import { controlFieldset, h, kbd } from "./common.js";

export function createChoice(control, ctx, { inputType = "radio", kindClass = "control-choice" } = {}) {
  const fieldset = controlFieldset(control, kindClass);
  const group = h("div", { class: "choices", role: inputType === "radio" ? "radiogroup" : "group", "aria-label": control.name });
  const inputs = [];
  for (const label of ctx.labels) {
    const input = h("input", {
      type: inputType,
      name: control.name,
      value: label.value,
      onchange: () => ctx.onChange(),
    });
    input.dataset.hotkey = label.hotkey || "";
    const wrapper = h(
      "label",
      { class: "choice", style: `--label-color: ${label.color}` },
      input,
      h("span", { class: "swatch", "aria-hidden": "true" }),
      ` ${label.value} `,
      kbd(label.hotkey),
    );
    group.append(wrapper);
    inputs.push(input);
  }
  fieldset.append(group);
  ctx.container.append(fieldset);
  const single = inputType === "radio";
  return {
    name: control.name,
    root: fieldset,
    getValue() {
      const checked = inputs.filter((input) => input.checked).map((input) => input.value);
      return single ? (checked[0] ?? null) : checked;
    },
    setValue(value) {
      const chosen = new Set(single ? [value] : value || []);
      for (const input of inputs) input.checked = chosen.has(input.value);
    },
    handleKey(event) {
      const input = inputs.find((candidate) => keyMatches(event, candidate.dataset.hotkey));
      if (!input) return false;
      input.checked = single ? true : !input.checked;
      ctx.onChange();
      return true;
    },
    keys: ctx.labels.map((label) => [label.hotkey, `${control.name}: ${single ? "choose" : "toggle"} ${label.value}`]),
  };
}
