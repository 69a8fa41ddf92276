"""Every answer of the API is JSON, errors included: DRF's exception handler extended to
Django's own errors, and JSON 400/403/404/500 pages for /api/ (Django's HTML elsewhere)."""

import logging

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views import defaults
from rest_framework import exceptions
from rest_framework.views import exception_handler

from labeling.site.errors import server_error as styled_server_error

logger = logging.getLogger(__name__)


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
    return styled_server_error(request)


def permission_denied(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": str(exception) or "Permission denied."}, status=403)
    return defaults.permission_denied(request, exception)


def bad_request(request, exception):
    if _is_api(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)
