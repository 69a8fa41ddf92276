"""Label Studio label configs (`<View>` XML) to and from Quorum's label schema.

`label_studio_config_from_schema(schema)` writes the config Label Studio needs to read our
exports; `label_studio_config_to_schema(xml)` reads a pasted or uploaded config, naming every tag
Quorum cannot hold. Object tags (`<Text>`, `<Image>`) carry the data field (`value="$text"`)
that becomes a control's `source`; in our configs an object tag is named after its field, which is
the `to_name` our Label Studio export writes.

Mapping: Choices (single) <-> choice, Choices (multiple) <-> multi, Labels over Text <-> spans,
RectangleLabels <-> boxes, PolygonLabels <-> polygons, TextArea <-> text, Pairwise <-> pairwise;
Rating is read as a single choice of "1".."maxRating". Label `background` is the colour,
`hotkey` the hotkey. Label Studio has no `required` on region tags, so a required region control
is written without it (and read back with our default, not required).

The XML is parsed with defusedxml: no DTDs, no entity expansion, no external references.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import defusedxml
from defusedxml.ElementTree import fromstring as defused_fromstring

from projects import label_schema as ls

# Tags that only lay out the page: read through, never a problem.
LAYOUT_TAGS = frozenset({"View", "Header", "Style", "Filter", "Collapse", "Panel", "Shortcut"})
OBJECT_TAGS = {"Text": "text", "Image": "image"}
# Label Studio tags Quorum has no control or data type for, with what to say about each.
UNSUPPORTED_TAGS = {
    "HyperText": "Quorum shows plain text only",
    "Paragraphs": "Quorum has no dialogue/paragraphs data type",
    "Audio": "Quorum has no audio data type",
    "AudioPlus": "Quorum has no audio data type",
    "Video": "Quorum has no video data type",
    "TimeSeries": "Quorum has no time-series data type",
    "Table": "Quorum has no table data type",
    "List": "Quorum has no list data type",
    "Ranker": "Quorum has no ranking control",
    "Relations": "Quorum has no relations between regions",
    "Relation": "Quorum has no relations between regions",
    "Taxonomy": "Quorum has no taxonomy control (use Choices)",
    "Number": "Quorum has no number control",
    "DateTime": "Quorum has no date-time control",
    "KeyPointLabels": "Quorum has no key-point control",
    "KeyPoint": "Quorum has no key-point control",
    "BrushLabels": "Quorum has no brush (mask) control",
    "Brush": "Quorum has no brush (mask) control",
    "EllipseLabels": "Quorum has no ellipse control",
    "Ellipse": "Quorum has no ellipse control",
    "Rectangle": "Quorum's boxes need labels (use RectangleLabels)",
    "Polygon": "Quorum's polygons need labels (use PolygonLabels)",
    "HyperTextLabels": "Quorum shows plain text only",
    "ParagraphLabels": "Quorum has no dialogue/paragraphs data type",
    "TimeSeriesLabels": "Quorum has no time-series data type",
    "VideoRectangle": "Quorum has no video data type",
    "MagicWand": "Quorum has no mask control",
    "Vector": "Quorum has no vector control",
    "VectorLabels": "Quorum has no vector control",
    "BitmaskLabels": "Quorum has no mask control",
}
LABEL_TAGS = {
    "Labels": ls.SPANS,
    "RectangleLabels": ls.BOXES,
    "PolygonLabels": ls.POLYGONS,
}
KIND_TAGS = {
    ls.CHOICE: "Choices",
    ls.MULTI: "Choices",
    ls.SPANS: "Labels",
    ls.BOXES: "RectangleLabels",
    ls.POLYGONS: "PolygonLabels",
    ls.TEXT: "TextArea",
    ls.PAIRWISE: "Pairwise",
}
# Region tags in Label Studio take no `required`; the others do.
TAGS_WITH_REQUIRED = frozenset({"Choices", "TextArea", "Rating"})
DEFAULT_MAX_RATING = 5
FIELD_VARIABLE = re.compile(r"^\$([A-Za-z_][\w-]*)$")
IMAGE_FIELD_NAME = re.compile(r"im(a)?g|photo|picture|frame", re.IGNORECASE)


class LabelStudioConfigError(ValueError):
    """The config cannot be read, or holds tags Quorum cannot hold. `problems` lists each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def _tag_label(element: ET.Element) -> str:
    name = element.get("name")
    return f'<{element.tag} name="{name}">' if name else f"<{element.tag}>"


def _is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in {"true", "1", "yes"}


def _labels_of(control: ET.Element, child_tag: str) -> list[Any]:
    labels: list[Any] = []
    for child in control.iter(child_tag):
        value = child.get("value") or child.get("alias")
        if value is None:
            continue
        color = child.get("background") or ""
        hotkey = child.get("hotkey") or ""
        labels.append(
            {"value": value, "color": color, "hotkey": hotkey} if color or hotkey else value
        )
    return labels


def _parse(xml: str) -> ET.Element:
    if not isinstance(xml, str) or not xml.strip():
        raise LabelStudioConfigError(["the config is empty"])
    try:
        return defused_fromstring(xml.strip(), forbid_dtd=True)
    except defusedxml.DefusedXmlException as exc:
        raise LabelStudioConfigError(
            [f"the config may not declare a DTD or entities ({type(exc).__name__})"]
        ) from exc
    except ET.ParseError as exc:
        raise LabelStudioConfigError([f"the config is not well-formed XML: {exc}"]) from exc


def label_studio_config_to_schema(xml: str) -> dict[str, Any]:
    """A Label Studio `<View>` config as a Quorum label schema (checked by LabelSchema).

    Raises LabelStudioConfigError listing every tag Quorum cannot hold and every reference that
    does not resolve, so the lead sees all problems at once.
    """
    root = _parse(xml)
    if root.tag != "View":
        raise LabelStudioConfigError([f"the config's root tag is <{root.tag}>, not <View>"])
    problems: list[str] = []
    objects: dict[str, str] = {}  # object tag name -> data field
    controls: list[ET.Element] = []
    inner_tags = {"Choice", "Label"}
    for element in root.iter():
        tag = element.tag
        if tag in LAYOUT_TAGS or tag in inner_tags:
            continue
        if tag in OBJECT_TAGS:
            name, value = element.get("name"), element.get("value") or ""
            match = FIELD_VARIABLE.match(value.strip())
            if not name:
                problems.append(f"<{tag}> has no name")
            elif not match:
                problems.append(
                    f'{_tag_label(element)}: value must name one data field like "$text", '
                    f'not "{value}"'
                )
            else:
                objects[name] = match.group(1)
        elif tag in LABEL_TAGS or tag in {"Choices", "TextArea", "Pairwise", "Rating"}:
            controls.append(element)
        elif tag in UNSUPPORTED_TAGS:
            problems.append(f"{_tag_label(element)}: {UNSUPPORTED_TAGS[tag]}")
        else:
            problems.append(f"{_tag_label(element)}: Quorum has no such tag")
    out: list[dict[str, Any]] = []
    for element in controls:
        control = _control_from_tag(element, objects, root, problems)
        if control is not None:
            out.append(control)
    if not controls and not problems:
        problems.append("the config has no control tag (Choices, Labels, TextArea...)")
    if problems:
        raise LabelStudioConfigError(problems)
    schema = {"controls": out}
    try:
        ls.LabelSchema(schema)
    except ls.SchemaError as exc:
        raise LabelStudioConfigError([str(exc)]) from exc
    return schema


def _object_tag(root: ET.Element, name: str) -> ET.Element | None:
    return next((e for e in root.iter() if e.tag in OBJECT_TAGS and e.get("name") == name), None)


def _control_from_tag(
    element: ET.Element, objects: dict[str, str], root: ET.Element, problems: list[str]
) -> dict[str, Any] | None:
    tag, label = element.tag, _tag_label(element)
    name = element.get("name")
    if not name:
        problems.append(f"<{tag}> has no name")
        return None
    targets = [t.strip() for t in (element.get("toName") or "").split(",") if t.strip()]
    if not targets:
        problems.append(f"{label}: toName names no object tag")
        return None
    missing = [t for t in targets if t not in objects]
    if missing:
        problems.append(f'{label}: toName "{missing[0]}" is not a Text or Image tag of this config')
        return None
    if _is_true(element.get("perRegion")):
        problems.append(f"{label}: per-region answers (perRegion) are not supported")
        return None
    target_tags = [_object_tag(root, t).tag for t in targets]
    sources = [objects[t] for t in targets]
    control: dict[str, Any] = {"name": name}
    if tag == "Pairwise":
        if len(sources) != 2:
            problems.append(f'{label}: Pairwise compares two objects (toName="a,b")')
            return None
        control.update(kind=ls.PAIRWISE, source=sources)
    else:
        if len(sources) != 1:
            problems.append(f"{label}: Quorum controls read one object, toName has {len(sources)}")
            return None
        control.update(source=sources[0])
        if tag == "Choices":
            multiple = (element.get("choice") or "single").strip() == "multiple"
            control["kind"] = ls.MULTI if multiple else ls.CHOICE
            control["labels"] = _labels_of(element, "Choice")
        elif tag == "Rating":
            try:
                top = int(element.get("maxRating") or DEFAULT_MAX_RATING)
            except ValueError:
                top = 0
            if not 1 <= top <= 100:
                problems.append(f"{label}: maxRating must be a whole number from 1 to 100")
                return None
            control["kind"] = ls.CHOICE
            control["labels"] = [str(n) for n in range(1, top + 1)]
        elif tag == "TextArea":
            control["kind"] = ls.TEXT
        else:
            kind = LABEL_TAGS[tag]
            wanted = "Text" if kind == ls.SPANS else "Image"
            if target_tags[0] != wanted:
                problems.append(
                    f"{label}: Quorum reads {tag} over <{wanted}>, not <{target_tags[0]}>"
                )
                return None
            control["kind"] = kind
            control["labels"] = _labels_of(element, "Label")
        if control["kind"] in ls.KINDS_WITH_LABELS and not control["labels"]:
            problems.append(f"{label}: has no labels")
            return None
    if element.get("required") is not None:
        control["required"] = _is_true(element.get("required"))
    return control


def _image_sources(schema: ls.LabelSchema) -> set[str]:
    shapes = {s for c in schema.controls if c.kind in ls.SHAPE_KINDS for s in c.source}
    named = {s for s in schema.source_fields if IMAGE_FIELD_NAME.search(s)}
    spans = {c.source[0] for c in schema.controls if c.kind == ls.SPANS}
    return shapes | (named - spans)


def label_studio_config_from_schema(
    schema: dict[str, Any], *, image_fields: set[str] | None = None
) -> str:
    """The Label Studio `<View>` config for a Quorum schema.

    A field is an `<Image>` when shapes are drawn on it, it is named like an image, or it is in
    `image_fields`; else a `<Text>`. Raises SchemaError for a bad schema and
    LabelStudioConfigError when a control is named like a data field (Label Studio tag names
    share one namespace).
    """
    parsed = ls.LabelSchema(schema)
    images = _image_sources(parsed) | set(image_fields or ())
    clashes = sorted({c.name for c in parsed.controls} & parsed.source_fields)
    if clashes:
        raise LabelStudioConfigError(
            [
                f"control '{n}' has the name of a data field; Label Studio needs them distinct"
                for n in clashes
            ]
        )
    view = ET.Element("View")
    written: set[str] = set()
    for control in parsed.controls:
        for source in control.source:
            if source not in written:
                tag = "Image" if source in images else "Text"
                ET.SubElement(view, tag, {"name": source, "value": f"${source}"})
                written.add(source)
        view.append(_tag_for_control(control))
    ET.indent(view, space="  ")
    return ET.tostring(view, encoding="unicode") + "\n"


def _tag_for_control(control: ls.Control) -> ET.Element:
    tag = KIND_TAGS[control.kind]
    attrs = {"name": control.name, "toName": ",".join(control.source)}
    if control.kind in (ls.CHOICE, ls.MULTI):
        attrs["choice"] = "multiple" if control.kind == ls.MULTI else "single"
    if tag in TAGS_WITH_REQUIRED:
        attrs["required"] = "true" if control.required else "false"
    element = ET.Element(tag, attrs)
    child_tag = "Choice" if tag == "Choices" else "Label"
    for label in control.labels:
        child = {"value": label.value}
        if label.color:
            child["background"] = label.color
        if label.hotkey:
            child["hotkey"] = label.hotkey
        ET.SubElement(element, child_tag, child)
    return element
