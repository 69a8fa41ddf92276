// Hotkeys for every label of every control, unique across the schema. The schema's own hotkeys
// win; labels without one get the next free key. Keys the workspace itself uses are never given.
// projects/label_schema.py RESERVED_HOTKEYS refuses the same keys in a schema.
export const WORKSPACE_KEYS = new Set(["s", "S", "?", "+", "=", "-", "0", ")", "[", "]", " "]);
// "a", "b" and "t" are left for pairwise answers.
const POOL = [..."123456789qweryuiopdfghjklxcvnm"];
const PALETTE = [
  "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e",
  "#17becf", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
];

export function normaliseLabel(label) {
  return typeof label === "string" ? { value: label, color: "", hotkey: "" } : { ...label };
}

export class HotkeyRegistry {
  constructor(controls) {
    this.taken = new Set();
    for (const control of controls) {
      for (const label of control.labels || []) {
        const hotkey = normaliseLabel(label).hotkey;
        if (hotkey) this.taken.add(hotkey.toLowerCase());
      }
    }
  }

  // Prefer `wanted` when free; otherwise the next free key of the pool ("" when none is left).
  claim(wanted = "") {
    const options = wanted ? [wanted, ...POOL] : POOL;
    const key = options.find((k) => !this.taken.has(k.toLowerCase()) && !WORKSPACE_KEYS.has(k));
    if (!key) return "";
    this.taken.add(key.toLowerCase());
    return key;
  }

  labelsFor(control) {
    return (control.labels || []).map((raw, index) => {
      const label = normaliseLabel(raw);
      label.color = label.color || PALETTE[index % PALETTE.length];
      label.hotkey = label.hotkey || this.claim();
      return label;
    });
  }
}

export function keyMatches(event, hotkey) {
  if (!hotkey || event.ctrlKey || event.metaKey || event.altKey) return false;
  return event.key === hotkey || event.key.toLowerCase() === hotkey.toLowerCase();
}
