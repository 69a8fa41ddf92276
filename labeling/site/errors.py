"""The 500 page with the site's navigation: rendered with the request's context when that
still works, else Django's plain context-free render (the error may be the database)."""

from django.http import HttpResponseServerError
from django.shortcuts import render
from django.views.defaults import server_error as plain_server_error


def server_error(request):
    try:
        return render(request, "500.html", status=500)
    except Exception:  # noqa: BLE001 - the page must answer whatever broke
        try:
            return plain_server_error(request)
        except Exception:  # noqa: BLE001
            return HttpResponseServerError("Server error", content_type="text/plain")
