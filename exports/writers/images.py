"""The image an item points at: its name inside an export, its bytes when bundled, its size.

An item's image reference is a file of the media storage (its stable path under MEDIA_URL, a URL
of the storage's bucket, or a bare storage path), read from the default storage; other references
(remote URLs) are exported by reference only.
"""

from __future__ import annotations

import io
import posixpath
from urllib.parse import unquote, urlsplit

from django.core.files.storage import default_storage
from PIL import Image

from exports.records import ExportRecord
from projects.label_schema import SHAPE_KINDS, LabelSchema
from projects.media import MediaLinks, media_name


def image_field(schema: LabelSchema) -> str | None:
    """The data field the first box or polygon control reads."""
    for control in schema.controls:
        if control.kind in SHAPE_KINDS:
            return control.source[0]
    return None


def image_reference(record: ExportRecord, field: str | None) -> str:
    value = record.data.get(field) if field else None
    return value if isinstance(value, str) else ""


def image_name(record: ExportRecord, reference: str) -> str:
    """A unique, stable file name inside the export: the item id, then the original name."""
    base = posixpath.basename(unquote(urlsplit(reference).path)) if reference else ""
    return f"{record.item_id}-{base}" if base else f"{record.item_id}.jpg"


def _storage_path(reference: str) -> str | None:
    if name := media_name(reference):
        return name
    path = unquote(urlsplit(reference).path)
    if reference and not urlsplit(reference).scheme and not path.startswith("/"):
        return path
    return None


def image_read(reference: str, *, media: MediaLinks | None) -> bytes | None:
    """The image's bytes from storage, or None when it is not the project's to read (`media`
    knows which imports are the project's: another project's image is never bundled)."""
    path = _storage_path(reference)
    if not path or media is None or not media.owns(path):
        return None
    try:
        with default_storage.open(path, "rb") as stream:
            return stream.read()
    except (FileNotFoundError, OSError):
        return None


def image_size(record: ExportRecord, content: bytes | None) -> tuple[int | None, int | None]:
    """The size stored on the item at import, else read from the bundled bytes."""
    if record.width and record.height:
        return record.width, record.height
    if content:
        try:
            with Image.open(io.BytesIO(content)) as image:
                return image.size
        except OSError:
            pass
    return None, None
