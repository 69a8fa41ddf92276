"""The upload limit enforced before the body is read: a request that says (Content-Length) it
is larger than IMPORT_MAX_FILE_BYTES is refused at once with 413, and one that does not say
(chunked) is cut off by the upload handler once it passes the limit. Django reads a multipart
body only when the view asks for it, so the refusal costs nothing but the headers."""

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


class UploadLimitMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method == "POST":
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.IMPORT_MAX_FILE_BYTES + ENVELOPE_BYTES:
                return _refusal(request)
        return self.get_response(request)

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
            raise UploadTooLarge(upload_limit_message())
        return raw_data

    def file_complete(self, file_size):
        return None
