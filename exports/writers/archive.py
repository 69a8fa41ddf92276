"""Zip archives whose bytes depend only on their contents (fixed times, fixed order)."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
COPY_CHUNK = 1024 * 1024


def _info(name: str, compress: bool) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
    info.external_attr = 0o644 << 16
    info.create_system = 3  # unix, whatever machine writes it
    return info


def zip_bytes_add(archive: zipfile.ZipFile, name: str, data: bytes, compress: bool = True) -> None:
    archive.writestr(_info(name, compress), data)


def zip_file_add(archive: zipfile.ZipFile, name: str, path: Path) -> None:
    """Stream a (possibly large) scratch file into the archive."""
    with path.open("rb") as source, archive.open(_info(name, True), "w", force_zip64=True) as dest:
        shutil.copyfileobj(source, dest, COPY_CHUNK)
