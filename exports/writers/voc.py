"""Pascal VOC writer: a zip of Annotations/<image>.xml, ImageSets/Main/<split>.txt and, when
bundled, JPEGImages/<image>. Polygons go in as their bounding boxes (VOC has boxes only);
coordinates are pixels, as in the item."""

from __future__ import annotations

import zipfile
from typing import BinaryIO
from xml.etree import ElementTree

from exports.options import SPLIT_NAMES
from exports.writers.archive import zip_bytes_add, zip_file_add
from exports.writers.base import Batches, WriteContext
from exports.writers.images import (
    image_field,
    image_name,
    image_read,
    image_reference,
    image_size,
)
from exports.writers.shapes import result_shapes

IMAGE_SET_NAMES = {"train": "train", "validation": "val", "test": "test"}


def _number(value: float) -> str:
    return f"{round(value, 2):g}" if value != int(value) else str(int(value))


def _sub(parent: ElementTree.Element, tag: str, text: str) -> None:
    ElementTree.SubElement(parent, tag).text = text


def voc_xml(*, filename: str, width, height, shapes, source: str) -> bytes:
    root = ElementTree.Element("annotation")
    _sub(root, "folder", "JPEGImages")
    _sub(root, "filename", filename)
    _sub(root, "path", source)
    size = ElementTree.SubElement(root, "size")
    _sub(size, "width", str(width or 0))
    _sub(size, "height", str(height or 0))
    _sub(size, "depth", "3")
    _sub(root, "segmented", "0")
    for shape in shapes:
        obj = ElementTree.SubElement(root, "object")
        _sub(obj, "name", shape.label)
        _sub(obj, "pose", "Unspecified")
        _sub(obj, "truncated", "0")
        _sub(obj, "difficult", "0")
        box = ElementTree.SubElement(obj, "bndbox")
        _sub(box, "xmin", _number(shape.x))
        _sub(box, "ymin", _number(shape.y))
        _sub(box, "xmax", _number(shape.x + shape.width))
        _sub(box, "ymax", _number(shape.y + shape.height))
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def voc_write(batches: Batches, out: BinaryIO, context: WriteContext) -> None:
    options = context.options
    field = image_field(context.schema)
    image_sets = {
        name: (context.scratch / f"{name}.txt").open("w", encoding="utf-8") for name in SPLIT_NAMES
    }
    everything = (context.scratch / "default.txt").open("w", encoding="utf-8")
    with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
        for batch in batches:
            for record in batch:
                reference = image_reference(record, field)
                content = (
                    image_read(reference, media=context.media) if options.bundle_images else None
                )
                if options.bundle_images and content is None:
                    context.report_count("images_not_bundled")
                width, height = image_size(record, content)
                name = image_name(record, reference)
                stem = name.rsplit(".", 1)[0]
                if content is not None:
                    zip_bytes_add(archive, f"JPEGImages/{name}", content, compress=False)
                shapes = list(result_shapes(context.schema, record.result))
                xml = voc_xml(
                    filename=name, width=width, height=height, shapes=shapes, source=reference
                )
                zip_bytes_add(archive, f"Annotations/{stem}.xml", xml)
                everything.write(stem + "\n")
                if record.split:
                    image_sets[record.split].write(stem + "\n")
        everything.close()
        for handle in image_sets.values():
            handle.close()
        zip_file_add(archive, "ImageSets/Main/default.txt", context.scratch / "default.txt")
        if options.split:
            for name in SPLIT_NAMES:
                zip_file_add(
                    archive,
                    f"ImageSets/Main/{IMAGE_SET_NAMES[name]}.txt",
                    context.scratch / f"{name}.txt",
                )
