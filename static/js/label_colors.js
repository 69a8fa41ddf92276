// Server-rendered label chips carry their colour as data-label-color; the page's policy allows
// no style attributes, so the colour is set here through the CSSOM.
for (const node of document.querySelectorAll("[data-label-color]")) {
  node.style.setProperty("--label-color", node.dataset.labelColor);
}
