"""POST /api/projects/{id}/monitor/events/ as model servers make it, before DRF's request cycle.

A model server posts each prediction as it makes it, so this call is the API's hottest: its
cost per call is what a fleet of clients waits on. The call as nearly every one arrives (a
token, a JSON list of events of at most LEAN_MAX_BYTES) is stored by one statement that also
admits its caller (caller_ingest) once the process knows the project; otherwise it is checked
by one query (the token, the project and the caller's role, api_tokens.api_token_project) and
stored by the same service as the DRF view (events.events_ingest), answering as that view
does. Any other call goes to the DRF view unchanged, so every refusal keeps one wording: a
session (CSRF), a token refused, a caller outside the project or without the lead's role, a
body that is not a plain JSON list (not JSON, a NUL character, too deep), a GET.
"""

from __future__ import annotations

import functools

import orjson
from django.conf import settings
from django.http import HttpResponse

from labeling.monitor.caller_ingest import events_store_as_caller, project_keep
from labeling.monitor.events import EventsRefused, events_ingest
from projects.access import LEAD_ONLY
from projects.api_tokens import api_token_project, token_header_secret
from projects.direct_sql import as_health_check
from projects.unstorable import nesting_depth, nul_path

# Larger calls (batches of thousands of events) take the DRF view: its cost is small beside
# theirs, and Django's own body limit then answers an oversized one.
LEAN_MAX_BYTES = 1024 * 1024


def _json(body: dict, status: int) -> HttpResponse:
    return HttpResponse(orjson.dumps(body), status=status, content_type="application/json")


def _plain_events(request) -> list | None:
    """The body as a JSON list DRF's parser would take as it is, or None."""
    if request.content_type != "application/json":
        return None
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 < length <= LEAN_MAX_BYTES:
        return None
    try:
        events = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        return None
    if type(events) is not list:
        return None
    if nesting_depth(events) > settings.JSON_MAX_DEPTH or nul_path(events) is not None:
        return None
    return events


def events_post_lean(request, pk: int) -> HttpResponse | None:
    """The answer to a call this path takes, or None for the DRF view to answer."""
    secret = token_header_secret(request.META.get("HTTP_AUTHORIZATION", ""))
    if secret is None:  # DRF answers any other header
        return None
    events = _plain_events(request)
    if events is None:
        return None
    report = as_health_check(
        lambda: events_store_as_caller(secret=secret, project_id=pk, raw_events=events)
    )
    if report is None:
        found = as_health_check(lambda: api_token_project(secret=secret, project_id=pk))
        project, role = found or (None, None)
        if project is None or role not in LEAD_ONLY:
            return None
        project_keep(project)
        try:
            report = events_ingest(project=project, raw_events=events)
        except EventsRefused as exc:
            return _json({"detail": str(exc), "errors": exc.errors}, 400)
    return _json(report.as_json(), 201)


def events_view(drf_view):
    """The URL's view: the lean path for the POSTs it takes, the DRF view for the rest. It
    carries the DRF view's attributes (its class, csrf_exempt), so the OpenAPI schema and the
    permission checks see the DRF view."""

    @functools.wraps(drf_view)
    def view(request, *args, **kwargs):
        if request.method == "POST":
            answer = events_post_lean(request, kwargs["pk"])
            if answer is not None:
                return answer
        return drf_view(request, *args, **kwargs)

    return view
