// Pairwise preference: two responses side by side; the answer is "a", "b" or "tie".
import { keyMatches } from "../hotkeys.js";
import { controlFieldset, h, kbd } from "./common.js";

const ANSWERS = [
  { value: "a", text: "A is better", wanted: "a" },
  { value: "tie", text: "Tie", wanted: "t" },
  { value: "b", text: "B is better", wanted: "b" },
];

export function createPairwise(control, ctx) {
  const [sourceA, sourceB] = control.source;
  const fieldset = controlFieldset(control, "control-pairwise");
  const panel = (title, field) =>
    h("section", { class: "pair-panel", "aria-label": title }, h("h3", {}, title), h("div", { class: "pair-text" }, String(ctx.data[field] ?? "")));
  fieldset.append(h("div", { class: "pair" }, panel("Response A", sourceA), panel("Response B", sourceB)));
  const group = h("div", { class: "choices pair-answers", role: "radiogroup", "aria-label": control.name });
  const inputs = ANSWERS.map((answer) => {
    const hotkey = ctx.registry.claim(answer.wanted);
    const input = h("input", { type: "radio", name: control.name, value: answer.value, onchange: () => ctx.onChange() });
    input.dataset.hotkey = hotkey;
    group.append(h("label", { class: "choice" }, input, ` ${answer.text} `, kbd(hotkey)));
    return input;
  });
  fieldset.append(group);
  ctx.container.append(fieldset);
  return {
    name: control.name,
    root: fieldset,
    getValue() {
      return inputs.find((input) => input.checked)?.value ?? null;
    },
    setValue(value) {
      for (const input of inputs) input.checked = input.value === value;
    },
    handleKey(event) {
      const input = inputs.find((candidate) => keyMatches(event, candidate.dataset.hotkey));
      if (!input) return false;
      input.checked = true;
      ctx.onChange();
      return true;
    },
    keys: inputs.map((input, i) => [input.dataset.hotkey, `${control.name}: ${ANSWERS[i].text}`]),
  };
}
