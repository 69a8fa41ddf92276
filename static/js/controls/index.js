// One widget factory per control kind of the label contract; the workspace and the review page
// both build their controls from this map.
import { createBoxes } from "./boxes.js";
import { createChoice } from "./choice.js";
import { createMulti } from "./multi.js";
import { createPairwise } from "./pairwise.js";
import { createPolygons } from "./polygons.js";
import { createSpans } from "./spans.js";
import { createText } from "./text.js";

export const CONTROL_FACTORIES = {
  choice: createChoice,
  multi: createMulti,
  spans: createSpans,
  boxes: createBoxes,
  polygons: createPolygons,
  text: createText,
  pairwise: createPairwise,
};
