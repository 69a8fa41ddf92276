"""Every answer of the API is JSON, errors included, and no input reaches the database that it
would refuse: DRF's exception handler extended to Django's own errors, JSON 404/500 for /api/,
and request parsers that refuse a NUL character (PostgreSQL stores none in text or jsonb)."""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions, parsers
from rest_framework.views import exception_handler

from projects.unstorable import nul_path

logger = logging.getLogger(__name__)


class NulCharacter(exceptions.ParseError):
    def __init__(self, field: str):
        super().__init__(
            {field: ["contains a NUL character (\\u0000), which cannot be stored; remove it"]}
        )


def _form_fields(data) -> dict:
    """A form's fields by name, one value as itself and repeated ones as a list."""
    return {name: values[0] if len(values) == 1 else values for name, values in data.lists()}


def nul_refuse(value) -> None:
    if (field := nul_path(value)) is not None:
        raise NulCharacter(field)


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        nul_refuse(data)
        return data


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        nul_refuse(_form_fields(data))
        return data


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        nul_refuse(_form_fields(parsed.data))
        nul_refuse({name: file.name for name, file in parsed.files.items()})
        return parsed


def api_exception_handler(exc, context):
    """DRF's handler, plus Django's ValidationError as a 400; anything else unexpected is
    logged and answered as a JSON 500 (never Django's HTML page)."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = exceptions.ValidationError(detail)
    response = exception_handler(exc, context)
    if response is not None:
        return response
    logger.exception("API error", exc_info=exc)
    return JsonResponse(
        {"detail": "The server failed to answer this request; it has been logged."}, status=500
    )


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def page_not_found(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if _is_api(request):
        return JsonResponse(
            {"detail": "The server failed to answer this request; it has been logged."},
            status=500,
        )
    return defaults.server_error(request)


def permission_denied(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": str(exception) or "Permission denied."}, status=403)
    return defaults.permission_denied(request, exception)


def bad_request(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)
