// Single choice (and image class): radio buttons with colour, text and hotkey.
export function labelsOf(control) {
  return (control.labels || []).map((label, index) =>
    typeof label === "string"
      ? { value: label, color: "", hotkey: index < 9 ? String(index + 1) : "" }
      : label,
  );
}

export function createChoice(control, container) {
  const fieldset = document.createElement("fieldset");
  fieldset.className = "control control-choice";
  const legend = document.createElement("legend");
  legend.textContent = control.name + (control.required === false ? " (optional)" : "");
  fieldset.append(legend);
  const inputs = [];
  for (const label of labelsOf(control)) {
    const wrapper = document.createElement("label");
    wrapper.className = "choice";
    if (label.color) wrapper.style.setProperty("--label-color", label.color);
    const input = document.createElement("input");
    input.type = "radio";
    input.name = control.name;
    input.value = label.value;
    input.dataset.hotkey = label.hotkey || "";
    wrapper.append(input, document.createTextNode(" " + label.value + " "));
    if (label.hotkey) {
      const kbd = document.createElement("kbd");
      kbd.textContent = label.hotkey;
      wrapper.append(kbd);
    }
    fieldset.append(wrapper);
    inputs.push(input);
  }
  container.append(fieldset);
  return {
    name: control.name,
    getValue() {
      const checked = inputs.find((input) => input.checked);
      return checked ? checked.value : null;
    },
    setValue(value) {
      for (const input of inputs) input.checked = input.value === value;
    },
    handleKey(key) {
      const input = inputs.find((candidate) => candidate.dataset.hotkey === key);
      if (!input) return false;
      input.checked = true;
      return true;
    },
  };
}
