"""COCO writer: boxes and polygons as COCO instances, images referenced or bundled.

One JSON file (`images`, `annotations`, `categories`) when the images are referenced and there is
no split; otherwise a zip with `annotations/instances_<split>.json` per split (or
`annotations/instances.json`) and, when bundled, `images/<item id>-<name>`. Image ids are item ids;
categories are the box and polygon labels in schema order, numbered from 1. Images and annotations
stream to scratch files so memory stays flat however many items there are.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import BinaryIO

import orjson

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
from exports.writers.shapes import result_shapes, shape_categories

INFO = {"description": "Quorum export", "version": "1.0", "contributor": "Quorum"}


class _Parts:
    """The images and annotations of one output JSON, written as they come."""

    def __init__(self, folder: Path, name: str):
        self.images_path = folder / f"{name}.images"
        self.annotations_path = folder / f"{name}.annotations"
        self.images = self.images_path.open("wb")
        self.annotations = self.annotations_path.open("wb")
        self.image_count = 0
        self.annotation_count = 0

    def image_add(self, image: dict) -> None:
        self.images.write((b",\n" if self.image_count else b"") + orjson.dumps(image))
        self.image_count += 1

    def annotation_add(self, annotation: dict) -> None:
        self.annotations.write(
            (b",\n" if self.annotation_count else b"") + orjson.dumps(annotation)
        )
        self.annotation_count += 1

    def join(self, out: BinaryIO, categories: list[dict]) -> None:
        self.images.close()
        self.annotations.close()
        out.write(b'{"info": ' + orjson.dumps(INFO) + b',\n"licenses": [],\n"categories": ')
        out.write(orjson.dumps(categories) + b',\n"images": [\n')
        _copy(self.images_path, out)
        out.write(b'\n],\n"annotations": [\n')
        _copy(self.annotations_path, out)
        out.write(b"\n]}\n")


def _copy(path: Path, out: BinaryIO) -> None:
    with path.open("rb") as source:
        while chunk := source.read(1024 * 1024):
            out.write(chunk)


def coco_write(batches: Batches, out: BinaryIO, context: WriteContext) -> None:
    options = context.options
    names = shape_categories(context.schema)
    category_ids = {name: i + 1 for i, name in enumerate(names)}
    categories = [{"id": i + 1, "name": name, "supercategory": ""} for i, name in enumerate(names)]
    field = image_field(context.schema)
    split_names = SPLIT_NAMES if options.split else ("instances",)
    parts = {name: _Parts(context.scratch, name) for name in split_names}
    as_zip = bool(options.split or options.bundle_images)
    archive = zipfile.ZipFile(out, "w", allowZip64=True) if as_zip else None
    annotation_id = 0
    for batch in batches:
        for record in batch:
            reference = image_reference(record, field)
            content = image_read(reference, media=context.media) if options.bundle_images else None
            if options.bundle_images and content is None:
                context.report_count("images_not_bundled")
            width, height = image_size(record, content)
            name = image_name(record, reference)
            if archive is not None and content is not None:
                zip_bytes_add(archive, f"images/{name}", content, compress=False)
            part = parts[record.split if options.split else "instances"]
            part.image_add(
                {
                    "id": record.item_id,
                    # Bundled images by their path in the zip; the others by their reference.
                    "file_name": f"images/{name}" if content is not None else reference,
                    "width": width,
                    "height": height,
                    "external_id": record.external_id,
                }
            )
            for shape in result_shapes(context.schema, record.result):
                annotation_id += 1
                annotation = {
                    "id": annotation_id,
                    "image_id": record.item_id,
                    "category_id": category_ids[shape.label],
                    "bbox": [shape.x, shape.y, shape.width, shape.height],
                    "area": shape.area,
                    "segmentation": (
                        [[c for point in shape.points for c in point]] if shape.points else []
                    ),
                    "iscrowd": 0,
                }
                part.annotation_add(annotation)
    if archive is None:
        parts["instances"].join(out, categories)
        return
    for name, part in parts.items():
        joined = context.scratch / f"{name}.json"
        with joined.open("wb") as stream:
            part.join(stream, categories)
        zip_file_add(
            archive,
            f"annotations/instances_{name}.json"
            if name != "instances"
            else "annotations/instances.json",
            joined,
        )
    archive.close()
