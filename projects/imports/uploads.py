"""An import's file goes straight into the media storage as the request body arrives, in the
parser's chunks: no copy in memory or in a temporary file first, so a web process's memory stays
flat whatever the file's size, and the file is written once.

`ImportUploadHandler` (first after the size limit in FILE_UPLOAD_HANDLERS) takes the file of an
import upload (the API's and the page's) by a signed-in user; every other upload goes on to
Django's own handlers. It answers a `StoredUpload`, which `import_job_create` takes as the job's
file where it already lies. A file no job took (the request was refused, or failed) is deleted
from the storage when the request ends, as Django deletes its temporary files; so is the part of
an upload that was cut off (the size limit, a client gone).
"""

from __future__ import annotations

import logging
import os

from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopFutureHandlers

from projects.models import ImportJob

logger = logging.getLogger(__name__)

IMPORT_UPLOAD_ROUTES = frozenset({"project-imports", "project-upload"})
HEAD_BYTES = 64 * 1024  # what format detection reads of a file


class StoredUpload(UploadedFile):
    """An upload already in the media storage, at `storage_name`. Its first HEAD_BYTES are kept
    (format detection reads them without fetching the file back from object storage)."""

    def __init__(self, *, storage_name: str, name: str, size: int, head: bytes, content_type):
        super().__init__(file=None, name=name, content_type=content_type, size=size)
        self.storage_name = storage_name
        self.head = head
        self.claimed = False

    def claim(self) -> str:
        """The storage name, for the job that keeps the file from now on."""
        self.claimed = True
        return self.storage_name

    def open(self, mode=None):
        raise ValueError("A stored upload is read from the storage, by its job.")

    def close(self) -> None:
        """At the end of the request: a file no job took is removed."""
        if not self.claimed and self.storage_name:
            name, self.storage_name = self.storage_name, ""
            _delete(name)


def _delete(name: str) -> None:
    try:
        default_storage.delete(name)
    except Exception:  # the request's answer stands; the name is logged for an administrator
        logger.exception("could not remove the abandoned upload %s", name)


def _writer(name: str):
    """A file open for writing at `name` in the media storage: the path itself on local disk
    (its folder made), the storage's own streaming writer elsewhere (S3: multipart upload)."""
    try:
        path = default_storage.path(name)
    except NotImplementedError:
        return default_storage.open(name, "wb")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    return open(path, "xb")  # noqa: SIM115 - closed by the handler


def _storage_name(file_name: str) -> str:
    """Where the job's file goes: the model's own naming (a random folder), within its length."""
    field = ImportJob._meta.get_field("file")
    name = field.generate_filename(None, file_name)
    return default_storage.get_available_name(name, max_length=field.max_length)


class ImportUploadHandler(FileUploadHandler):
    def __init__(self, request=None):
        super().__init__(request)
        self.writer = None
        self.storage_name = ""
        self.head = b""

    def _takes_this_request(self) -> bool:
        match = getattr(self.request, "resolver_match", None)
        user = getattr(self.request, "user", None)
        return (
            match is not None
            and match.url_name in IMPORT_UPLOAD_ROUTES
            and user is not None
            and user.is_authenticated
        )

    def new_file(self, field_name, file_name, *args, **kwargs):
        super().new_file(field_name, file_name, *args, **kwargs)
        if self.writer is not None or not self._takes_this_request():
            return  # a second file, or not an import: Django's handlers take it
        self.storage_name = _storage_name(file_name)
        self.writer = _writer(self.storage_name)
        self.head = b""
        raise StopFutureHandlers()

    def receive_data_chunk(self, raw_data, start):
        if self.writer is None:
            return raw_data
        if len(self.head) < HEAD_BYTES:
            self.head += raw_data[: HEAD_BYTES - len(self.head)]
        self.writer.write(raw_data)
        return None  # written: no later handler keeps a copy

    def file_complete(self, file_size):
        if self.writer is None:
            return None
        writer, self.writer = self.writer, None
        writer.close()
        return StoredUpload(
            storage_name=self.storage_name,
            name=self.file_name,
            size=file_size,
            head=self.head,
            content_type=self.content_type,
        )

    def upload_interrupted(self):
        """The upload was cut off (the size limit, the client went away): its part goes."""
        if self.writer is None:
            return
        writer, self.writer = self.writer, None
        try:
            writer.close()
        finally:
            _delete(self.storage_name)
