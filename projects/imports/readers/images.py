"""One uploaded image: checked (format, pixel limit, truncation), turned upright by its EXIF
orientation, stored under the media storage with a thumbnail. Items refer to both by their
stable paths (projects.media), never by a URL that expires."""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageOps, UnidentifiedImageError

from projects.media import media_reference

IMAGE_FORMATS = {"PNG": "png", "JPEG": "jpeg", "WEBP": "webp", "TIFF": "tiff", "GIF": "gif"}
IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".gif")
THUMBNAIL_SIZE = (256, 256)
UNSAFE_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9._/-]+")


class ImageProblem(ValueError):
    """This file is not an image we can take; the message says why."""


@dataclass
class StoredImage:
    url: str
    thumbnail_url: str
    width: int
    height: int


def _opened(content: bytes, *, max_pixels: int) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(content))
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageProblem(f"decompression bomb refused: {exc}") from exc
        except UnidentifiedImageError as exc:
            raise ImageProblem("not an image (png, jpeg, webp, tiff or gif)") from exc
    if image.format not in IMAGE_FORMATS:
        raise ImageProblem(f"{image.format} images are not taken (png, jpeg, webp, tiff, gif)")
    width, height = image.size
    if width * height > max_pixels:
        raise ImageProblem(
            f"decompression bomb refused: {width}x{height} pixels is over the limit of "
            f"{max_pixels} pixels"
        )
    try:
        image.load()
    except (OSError, SyntaxError, ValueError) as exc:
        raise ImageProblem(f"the image is truncated or corrupt ({exc})") from exc
    return image


def _encoded(image: Image.Image, image_format: str) -> bytes:
    buffer = io.BytesIO()
    if image_format == "JPEG" and image.mode not in ("RGB", "L", "CMYK"):
        image = image.convert("RGB")
    image.save(buffer, format=image_format, quality=95)
    return buffer.getvalue()


def _thumbnail(image: Image.Image) -> bytes:
    thumbnail = image.copy()
    thumbnail.thumbnail(THUMBNAIL_SIZE)
    if thumbnail.mode not in ("RGB", "L"):
        thumbnail = thumbnail.convert("RGB")
    buffer = io.BytesIO()
    thumbnail.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _save(name: str, content: bytes) -> str:
    """Save at exactly this name (a re-run of the same import overwrites, never renames)."""
    if default_storage.exists(name):
        default_storage.delete(name)
    return default_storage.save(name, ContentFile(content))


def safe_storage_name(name: str) -> str:
    """A storage name for an entry name: unchanged when it is safe already; otherwise the
    unsafe characters replaced and a hash of the original added before the extension, so two
    entries that sanitise alike (`a b.png`, `a_b.png`) keep their own files. The same name
    always gives the same result: a re-run of an import overwrites, never duplicates."""
    safe = UNSAFE_NAME_CHARACTERS.sub("_", name).strip("/") or "image"
    if safe == name:
        return safe
    digest = hashlib.sha1(name.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    stem, dot, extension = safe.rpartition(".")
    if not dot or "/" in extension:
        return f"{safe}-{digest}"
    return f"{stem}-{digest}.{extension}"


def image_store(*, content: bytes, name: str, prefix: str, max_pixels: int) -> StoredImage:
    """Check and store one image; raise ImageProblem when it cannot be taken."""
    image = _opened(content, max_pixels=max_pixels)
    image_format = image.format
    upright = ImageOps.exif_transpose(image)
    if upright is not image:
        content = _encoded(upright, image_format)  # stored upright: pixels match width/height
    stored_name = _save(f"{prefix}{safe_storage_name(name)}", content)
    thumbnail_name = _save(f"{prefix}thumbnails/{safe_storage_name(name)}.jpg", _thumbnail(upright))
    return StoredImage(
        url=media_reference(stored_name),
        thumbnail_url=media_reference(thumbnail_name),
        width=upright.width,
        height=upright.height,
    )
