// Free text: a text area. Escape leaves it so that the hotkeys work again; Ctrl+Enter submits.
import { controlFieldset, h } from "./common.js";

export function createText(control, ctx) {
  const fieldset = controlFieldset(control, "control-text");
  const id = `control-${control.name}`;
  const source = [].concat(control.source)[0];
  const area = h("textarea", { id, name: control.name, rows: "3", "aria-describedby": `${id}-help` });
  let typingTimer = null;
  area.addEventListener("input", () => {
    clearTimeout(typingTimer);
    typingTimer = setTimeout(() => ctx.onChange(), 400);
  });
  area.addEventListener("change", () => ctx.onChange());
  area.addEventListener("keydown", (event) => {
    if (event.key === "Escape") area.blur();
  });
  fieldset.append(
    h("label", { for: id, class: "visually-hidden" }, `${control.name} (about ${source})`),
    area,
    h("p", { id: `${id}-help`, class: "helptext" }, "Type your answer. ", h("kbd", {}, "Esc"), " leaves the box; ", h("kbd", {}, "Ctrl+Enter"), " submits."),
  );
  ctx.container.append(fieldset);
  return {
    name: control.name,
    root: fieldset,
    getValue() {
      return area.value.trim() ? area.value : null;
    },
    setValue(value) {
      area.value = value || "";
    },
    handleKey() {
      return false;
    },
    keys: [["Esc", `${control.name}: leave the text box`]],
  };
}
