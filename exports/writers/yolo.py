"""YOLO writer: a zip of images/, labels/ (one .txt per image) and data.yaml (Ultralytics layout).

Each label line is `class x_center y_center width height`, normalised to 0-1 by the image size.
YOLO detection has one shape kind, so a polygon goes in as its bounding box. With a split the
folders are images/<split>/ and labels/<split>/. Images that cannot be read (remote references)
still get their label file; the manifest counts them as missing.
"""

from __future__ import annotations

import json
import zipfile
from typing import BinaryIO

from exports.options import SPLIT_NAMES
from exports.writers.archive import zip_bytes_add
from exports.writers.base import Batches, WriteContext
from exports.writers.images import (
    image_field,
    image_name,
    image_read,
    image_reference,
    image_size,
)
from exports.writers.shapes import result_shapes, shape_categories

YAML_SPLIT_KEYS = {"train": "train", "validation": "val", "test": "test"}


def yolo_data_yaml(names: list[str], split: bool) -> str:
    # JSON strings are valid YAML scalars: names with colons or quotes stay intact.
    lines = ["path: ."]
    for name in SPLIT_NAMES:
        folder = f"images/{name}" if split else "images"
        lines.append(f"{YAML_SPLIT_KEYS[name]}: {folder}")
    lines.append(f"nc: {len(names)}")
    lines.append("names:")
    lines.extend(f"  {i}: {json.dumps(name, ensure_ascii=False)}" for i, name in enumerate(names))
    return "\n".join(lines) + "\n"


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


def yolo_lines(shapes, class_ids: dict[str, int], width: float, height: float) -> str:
    lines = []
    for shape in shapes:
        cx = (shape.x + shape.width / 2) / width
        cy = (shape.y + shape.height / 2) / height
        lines.append(
            f"{class_ids[shape.label]} {cx:.6f} {cy:.6f}"
            f" {shape.width / width:.6f} {shape.height / height:.6f}\n"
        )
    return "".join(lines)


def yolo_write(batches: Batches, out: BinaryIO, context: WriteContext) -> None:
    options = context.options
    names = shape_categories(context.schema)
    class_ids = {name: i for i, name in enumerate(names)}
    field = image_field(context.schema)
    with zipfile.ZipFile(out, "w", allowZip64=True) as archive:
        zip_bytes_add(archive, "data.yaml", yolo_data_yaml(names, bool(options.split)).encode())
        zip_bytes_add(archive, "classes.txt", "".join(f"{n}\n" for n in names).encode())
        for batch in batches:
            for record in batch:
                reference = image_reference(record, field)
                content = image_read(reference, media=context.media)
                if content is None:
                    context.report_count("images_not_bundled")
                width, height = image_size(record, content)
                name = image_name(record, reference)
                folder = f"/{record.split}" if options.split else ""
                if content is not None:
                    zip_bytes_add(archive, f"images{folder}/{name}", content, compress=False)
                shapes = list(result_shapes(context.schema, record.result))
                if shapes and not (width and height):
                    # Without the image's size the boxes cannot be normalised: leave the
                    # labels out rather than write wrong ones, and say so in the manifest.
                    context.report_count("items_without_image_size")
                    shapes = []
                text = yolo_lines(shapes, class_ids, width, height) if shapes else ""
                zip_bytes_add(archive, f"labels{folder}/{_stem(name)}.txt", text.encode())
