"""The export formats: one writer module each, and what each needs from the schema."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from exports.options import ExportOptions, OptionsError
from exports.writers import coco, conll, csv, jsonl, label_studio, parquet, voc, yolo
from exports.writers.base import Writer
from projects import label_schema as ls
from projects.label_schema import LabelSchema

ZIP = ("zip", "application/zip")


@dataclass(frozen=True)
class ExportFormat:
    name: str
    title: str
    write: Writer
    # (extension, content type) of the file, which may depend on the options (a split or
    # bundled images turn a single file into a zip).
    output: Callable[[ExportOptions], tuple[str, str]]
    needs_kinds: frozenset[str] = frozenset()  # the schema must have a control of one of these

    def check(self, schema: LabelSchema, options: ExportOptions) -> None:
        if self.needs_kinds and not any(c.kind in self.needs_kinds for c in schema.controls):
            kinds = " or ".join(sorted(self.needs_kinds))
            raise OptionsError({"format": f"{self.title} needs a {kinds} control in the schema"})


def _single(extension: str, content_type: str) -> Callable[[ExportOptions], tuple[str, str]]:
    return lambda options: (extension, content_type)


def _zip_when(predicate: Callable[[ExportOptions], bool], extension: str, content_type: str):
    return lambda options: ZIP if predicate(options) else (extension, content_type)


FORMATS: dict[str, ExportFormat] = {
    f.name: f
    for f in (
        ExportFormat(
            "jsonl", "JSONL", jsonl.jsonl_write, _single(jsonl.EXTENSION, jsonl.CONTENT_TYPE)
        ),
        ExportFormat("csv", "CSV", csv.csv_write, _single(csv.EXTENSION, csv.CONTENT_TYPE)),
        ExportFormat(
            "parquet",
            "Parquet",
            parquet.parquet_write,
            _single(parquet.EXTENSION, parquet.CONTENT_TYPE),
        ),
        ExportFormat(
            "coco",
            "COCO",
            coco.coco_write,
            _zip_when(lambda o: bool(o.split or o.bundle_images), "json", "application/json"),
            frozenset({ls.BOXES, ls.POLYGONS}),
        ),
        ExportFormat(
            "yolo", "YOLO", yolo.yolo_write, _single(*ZIP), frozenset({ls.BOXES, ls.POLYGONS})
        ),
        ExportFormat(
            "voc", "Pascal VOC", voc.voc_write, _single(*ZIP), frozenset({ls.BOXES, ls.POLYGONS})
        ),
        ExportFormat(
            "conll",
            "CoNLL-2003",
            conll.conll_write,
            _zip_when(lambda o: bool(o.split), "conll", "text/plain; charset=utf-8"),
            frozenset({ls.SPANS}),
        ),
        ExportFormat(
            "label_studio",
            "Label Studio JSON",
            label_studio.label_studio_write,
            _single("json", "application/json"),
        ),
    )
}


def export_format_get(name: str) -> ExportFormat:
    if name not in FORMATS:
        raise OptionsError({"format": f"must be one of {', '.join(FORMATS)}"})
    return FORMATS[name]


def export_formats_for(schema: LabelSchema) -> list[tuple[str, str]]:
    """(name, title) of the formats this schema can be exported to."""
    usable = []
    for name, export_format in FORMATS.items():
        try:
            export_format.check(schema, ExportOptions())
        except OptionsError:
            continue
        usable.append((name, export_format.title))
    return usable
