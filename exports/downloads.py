"""Direct streamed downloads of a project's labeled set (JSONL, CSV): the page's quick links.

No job and no snapshot: the current final results, streamed as they are read.
"""

from collections.abc import Iterator
from dataclasses import dataclass

from exports.records import export_records
from exports.writers import csv as csv_writer
from exports.writers import jsonl as jsonl_writer
from projects.label_schema import LabelSchema
from projects.models import Project

DIRECT_FORMATS = ("jsonl", "csv")


@dataclass(frozen=True)
class Download:
    chunks: Iterator[bytes]
    content_type: str
    filename: str


def download_open(
    *, project: Project, format: str, only_resolved: bool = True, csv_raw: bool = False
) -> Download:
    if format not in DIRECT_FORMATS:
        raise ValueError(f"format must be one of {', '.join(DIRECT_FORMATS)}")
    records = export_records(project=project, only_resolved=only_resolved)
    filename = f"project-{project.pk}.{format}"
    if format == "jsonl":
        return Download(jsonl_writer.jsonl_lines(records), jsonl_writer.CONTENT_TYPE, filename)
    schema = LabelSchema(project.label_schema)
    lines = csv_writer.csv_lines(
        records, schema=schema, data_fields=sorted(schema.source_fields), raw=csv_raw
    )
    return Download(lines, csv_writer.CONTENT_TYPE, filename)
