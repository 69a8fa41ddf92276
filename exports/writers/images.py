"""The image an item points at: its name inside an export, its bytes when bundled, its size.

An item's image reference is a path under MEDIA_URL (or a bare storage path) read from the default
storage; other references (remote URLs) are exported by reference only.
"""

from __future__ import annotations

import io
import posixpath
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.files.storage import default_storage
from PIL import Image

from exports.records import ExportRecord
from projects.label_schema import SHAPE_KINDS, LabelSchema


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
    path = unquote(urlsplit(reference).path)
    media_url = settings.MEDIA_URL
    if path.startswith(media_url):
        return path[len(media_url) :]
    if reference and not urlsplit(reference).scheme and not path.startswith("/"):
        return path
    return None


def image_read(reference: str) -> bytes | None:
    """The image's bytes from storage, or None when it is not ours to read."""
    path = _storage_path(reference)
    if not path:
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
