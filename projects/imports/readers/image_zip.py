"""A zip of images: each image becomes an item ({"image": url, "thumbnail": url, "name": ...})
with its width and height. Unsafe archives are refused: too large in total when unpacked, an
entry compressed beyond the ratio limit, paths with '..' or absolute paths."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import IO, Any

from projects.imports.readers.images import IMAGE_EXTENSIONS, ImageProblem, image_store
from projects.imports.readers.rows import FileError, Plan, Record

SKIPPED_PREFIXES = ("__MACOSX/",)


def _archive(stream: IO[bytes]) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileError(f"Not a readable zip file: {exc}") from exc


def _entries(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    return [
        info
        for info in archive.infolist()
        if not info.is_dir()
        and not info.filename.startswith(SKIPPED_PREFIXES)
        and PurePosixPath(info.filename).name not in (".DS_Store", "Thumbs.db")
    ]


def image_zip_plan(stream: IO[bytes], *, limits: dict[str, int]) -> Plan:
    archive = _archive(stream)
    entries = _entries(archive)
    if not entries:
        raise FileError("The zip holds no files.")
    unpacked = sum(info.file_size for info in entries)
    if unpacked > limits["zip_total_bytes"]:
        raise FileError(
            f"Zip bomb refused: the archive unpacks to {unpacked} bytes, over the limit of "
            f"{limits['zip_total_bytes']} bytes."
        )
    return Plan(chunks=[], progress_total=len(entries))


def entry_path_problem(name: str) -> str | None:
    path = name.replace("\\", "/")
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return f"'{name}' is an absolute path; entries must be relative"
    if ".." in PurePosixPath(path).parts:
        return f"'{name}' climbs out of the archive with '..'"
    return None


def _entry_content(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limits: dict) -> bytes:
    name = info.filename
    if problem := entry_path_problem(name):
        raise ImageProblem(problem)
    if not name.lower().endswith(IMAGE_EXTENSIONS):
        raise ImageProblem(f"'{name}' is not an image (png, jpeg, webp, tiff or gif)")
    ratio = info.file_size / max(info.compress_size, 1)
    if ratio > limits["zip_max_ratio"]:
        raise ImageProblem(
            f"'{name}': compression ratio {ratio:.0f}:1 is over the limit of "
            f"{limits['zip_max_ratio']}:1 (zip bomb refused)"
        )
    limit = limits["image_bytes"]
    if info.file_size > limit:
        raise ImageProblem(f"'{name}' is larger than {limit} bytes")
    with archive.open(info) as entry:
        content = entry.read(limit + 1)  # the header's size may lie: never read past the limit
    if len(content) > limit:
        raise ImageProblem(f"'{name}' is larger than {limit} bytes")
    return content


def image_zip_read(
    stream: IO[bytes], *, start: int, end: int | None, line: int, options: dict[str, Any]
) -> Iterator[Record]:
    """Entries in archive order; `start` entries already imported are skipped on a restart."""
    limits = options["limits"]
    archive = _archive(stream)
    for number, info in enumerate(_entries(archive), start=1):
        if number <= start:
            continue
        try:
            content = _entry_content(archive, info, limits)
            stored = image_store(
                content=content,
                name=info.filename,
                prefix=options["media_prefix"],
                max_pixels=limits["image_pixels"],
            )
        except ImageProblem as exc:
            value: Any = ValueError(
                f"{info.filename}: {exc}" if info.filename not in str(exc) else str(exc)
            )
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            value = ValueError(f"{info.filename}: the entry cannot be unpacked ({exc})")
        else:
            value = {
                "data": {
                    "image": stored.url,
                    "thumbnail": stored.thumbnail_url,
                    "name": info.filename,
                },
                "external_id": info.filename,
                "width": stored.width,
                "height": stored.height,
            }
        yield Record(number, number, number, value)
