"""The upload limit enforced before the body is read: a request that says (Content-Length) it
is larger than IMPORT_MAX_FILE_BYTES is refused at once with 413, and a file that grows past the
limit while it streams is cut off by the upload handler (413, and what was written of it goes).
Django reads a multipart body only when the view asks for it, so the early refusal costs nothing
but the headers.

A chunked upload (Transfer-Encoding: chunked, no Content-Length) would look empty to Django. When
the server ends the input at the body's end (marked with `wsgi.input_terminated`, as
`labeling.site.web_server` does for Granian and gunicorn does itself), the body is read to its
end instead, through a stream that answers 413 once it passes the limit.

Pages parse their multipart bodies here, before the CSRF check reads them, so a refusal there is
a 413 too and not an error of the middleware.
"""

import io

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler
from django.http import HttpResponse, JsonResponse
from rest_framework import exceptions

# Room for the multipart envelope and the other fields around the file.
ENVELOPE_BYTES = 1024 * 1024


def upload_limit_message() -> str:
    return (
        f"The upload is over the limit of {settings.IMPORT_MAX_FILE_BYTES} bytes "
        "(IMPORT_MAX_FILE_BYTES)."
    )


class UploadTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "upload_too_large"


def _refusal(request) -> HttpResponse:
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": upload_limit_message()}, status=413)
    else:
        response = HttpResponse(upload_limit_message(), status=413, content_type="text/plain")
    response["Connection"] = "close"  # the unread rest of the body is not for this connection
    return response


def body_limit() -> int:
    return settings.IMPORT_MAX_FILE_BYTES + ENVELOPE_BYTES


class LimitedBody(io.RawIOBase):
    """A body of unknown length, read to its end, refused (413) once it passes the limit."""

    def __init__(self, stream, limit: int):
        self.stream = stream
        self.limit = limit
        self.received = 0

    def readable(self) -> bool:
        return True

    def _counted(self, data: bytes) -> bytes:
        self.received += len(data)
        if self.received > self.limit:
            raise UploadTooLarge(upload_limit_message())
        return data

    # "All of it" is asked with no size: the server's stream (Granian's) takes no negative one.
    def read(self, size: int | None = -1) -> bytes:
        whole = size is None or size < 0
        return self._counted(self.stream.read() if whole else self.stream.read(size))

    def readline(self, size: int | None = -1) -> bytes:
        whole = size is None or size < 0
        return self._counted(self.stream.readline() if whole else self.stream.readline(size))


def _is_chunked_upload(request) -> bool:
    return (
        request.content_type == "multipart/form-data"
        and not request.META.get("CONTENT_LENGTH")
        and "chunked" in request.META.get("HTTP_TRANSFER_ENCODING", "").lower()
        and bool(request.META.get("wsgi.input_terminated"))
    )


class UploadLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST":
            if _is_chunked_upload(request):
                # Django (and DRF) read CONTENT_LENGTH bytes: here, at most the limit and one
                # more, from a stream that refuses the body before that.
                limit = body_limit()
                request._stream = LimitedBody(request.META["wsgi.input"], limit)
                request.META["CONTENT_LENGTH"] = str(limit + 1)
            else:
                try:
                    length = int(request.META.get("CONTENT_LENGTH") or 0)
                except ValueError:
                    length = 0
                if length > body_limit():
                    return _refusal(request)
        return self.get_response(request)

    def process_view(self, request, view, args, kwargs):
        if (
            request.method == "POST"
            and request.content_type == "multipart/form-data"
            and not request.path.startswith("/api/")  # DRF parses its own, later
        ):
            try:
                request.POST  # noqa: B018 - parsed now, where a refusal can be answered
            except UploadTooLarge:
                return _refusal(request)
        return None

    def process_exception(self, request, exception):
        if isinstance(exception, UploadTooLarge):  # pages; the API's handler answers for itself
            return _refusal(request)
        return None


class UploadLimitHandler(FileUploadHandler):
    """Stops a multipart upload (chunked, so with no Content-Length) as it passes the limit."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > settings.IMPORT_MAX_FILE_BYTES:
            for handler in self.request.upload_handlers:  # what they hold of it goes
                if handler is not self:
                    handler.upload_interrupted()
            raise UploadTooLarge(upload_limit_message())
        return raw_data

    def file_complete(self, file_size):
        return None
