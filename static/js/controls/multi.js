// Multiple choice: checkboxes; each label's hotkey toggles it.
import { createChoice } from "./choice.js";

export function createMulti(control, ctx) {
  return createChoice(control, ctx, { inputType: "checkbox", kindClass: "control-multi" });
}
