"""The data manager's pages (thin): the item table with its filters, bulk actions, an item."""

import json

from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from labeling.datamanager.bulk import (
    BulkRefused,
    item_bulk_job_create,
    item_bulk_job_run,
    item_bulk_job_runs_inline,
)
from labeling.datamanager.detail import item_detail
from labeling.datamanager.query import (
    LABEL_SOURCES,
    SORTS,
    ItemFilterError,
    item_rows_describe,
    items_table_page,
)
from labeling.datamanager.tasks import item_bulk_job_enqueue
from labeling.models import ItemBulkJob
from projects import access
from projects.models import Item, Membership
from projects.permissions import project_page

COLUMNS = [
    ("id", "Item"),
    ("text", "Preview"),
    ("status", "Status"),
    ("answers", "Answers"),
    ("agreement", "Agreement"),
    ("resolution", "Resolution"),
    ("model_version", "Prediction"),
    ("score", "Score"),
    ("gold", "Gold"),
    ("priority", "Priority"),
    ("created", "Created"),
]


def result_summary(result) -> str:
    """A result (or gold answer) in one line: `control: label, label; control: ...`."""
    if not isinstance(result, dict):
        return "" if result is None else json.dumps(result, ensure_ascii=False)
    parts = []
    for name, value in result.items():
        if isinstance(value, list):
            labels = [v.get("label", "…") if isinstance(v, dict) else str(v) for v in value]
            value = ", ".join(labels) if labels else "none"
        parts.append(f"{name}: {value}")
    return "; ".join(parts)


def _summarised(rows: list[dict]) -> list[dict]:
    for row in rows:
        row["gold_text"] = result_summary(row["gold"]) if row["gold"] is not None else ""
        row["resolution_text"] = result_summary((row["resolution"] or {}).get("result"))
        row["prediction_text"] = result_summary((row["prediction"] or {}).get("result"))
    return rows


def _query_without(params, *names) -> str:
    query = params.copy()
    for name in names:
        query.pop(name, None)
    return query.urlencode()


def _sort_links(params, ordering: str) -> list[dict]:
    links = []
    for name, title in COLUMNS:
        query = params.copy()
        query.pop("cursor", None)
        current = ordering.lstrip("-") == name
        descending = ordering.startswith("-")
        query["ordering"] = f"-{name}" if current and not descending else name
        arrow = ("▼" if descending else "▲") if current else ""
        links.append({"name": name, "title": title, "query": query.urlencode(), "arrow": arrow})
    return links


@project_page(access.REVIEWERS)
@require_GET
def items_page(request, pk):
    """The table; with htmx (HX-Request) only the table part, for filter changes and pages."""
    project = request.project
    role = request.project_role
    params = request.GET
    errors = {}
    try:
        page = items_table_page(project=project, params=params)
        rows = _summarised(item_rows_describe(project=project, items=page.items))
        ordering = str(page.ordering)
        not_searchable = page.not_searchable
        next_query = None
        if page.next_cursor:
            query = params.copy()
            query["cursor"] = page.next_cursor
            next_query = query.urlencode()
    except ItemFilterError as exc:
        errors, rows, ordering, next_query = exc.errors, [], params.get("ordering", "id"), None
        not_searchable = 0
    context = {
        "project": project,
        "is_lead": role == Membership.Role.LEAD,
        "rows": rows,
        "not_searchable": not_searchable,
        "errors": errors,
        "filters": params,
        "statuses": Item.Status.choices,
        "selected_statuses": params.getlist("status"),
        "label_sources": LABEL_SOURCES,
        "members": project.memberships.select_related("user").order_by("user__username"),
        "columns": _sort_links(params, ordering),
        "ordering": ordering,
        "sorts": list(SORTS),
        "selection_query": _query_without(params, "cursor", "size", "ordering"),
        "next_query": next_query,
        "is_first_page": "cursor" not in params,
        "first_query": _query_without(params, "cursor"),
        "actions": ItemBulkJob.Action.choices,
        "table_url": reverse("data-manager", args=[project.pk]),
    }
    if request.headers.get("HX-Request"):
        # htmx swaps only 2xx answers: a refusal is shown in the table it replaces.
        return render(request, "labeling/_items_table.html", context)
    return render(request, "labeling/items.html", context, status=400 if errors else 200)


def _form_bulk_params(post, action: str) -> dict:
    """The action's parameters from the form's text inputs (the service checks them)."""
    if action == ItemBulkJob.Action.SET_PRIORITY:
        raw = post.get("priority", "")
        return {"priority": int(raw) if raw.lstrip("-").isdigit() else raw}
    if action == ItemBulkJob.Action.REQUEUE:
        raw = post.get("answers", "")
        return {"answers": int(raw) if raw.isdigit() else raw}
    if action == ItemBulkJob.Action.SET_GOLD:
        control, label = post.get("gold_control", ""), post.get("gold_label", "")
        return {"answer": {control: label} if control else {}}
    return {}


def _form_selection(post) -> dict:
    if post.get("scope") == "all":
        return {"query": post.get("query", "")}
    ids = [int(v) for v in post.getlist("ids") if v.isdigit()]
    return {"ids": ids}


@project_page(access.LEAD_ONLY)
@require_POST
def bulk_start(request, pk):
    """Start a bulk action from the table's form; answers the job's progress partial."""
    project = request.project
    action = request.POST.get("action", "")
    try:
        job = item_bulk_job_create(
            project=project,
            user=request.user,
            action=action,
            params=_form_bulk_params(request.POST, action),
            selection=_form_selection(request.POST),
        )
    except BulkRefused as exc:
        error = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
        return render(
            request, "labeling/_bulk_job.html", {"project": project, "error": error}, status=200
        )
    if item_bulk_job_runs_inline(job):
        job = item_bulk_job_run(job_id=job.pk)
    else:
        item_bulk_job_enqueue(job=job)
    return render(request, "labeling/_bulk_job.html", {"project": project, "job": job})


@project_page(access.LEAD_ONLY)
@require_GET
def bulk_job_partial(request, pk, job_id):
    project = request.project
    job = get_object_or_404(ItemBulkJob, pk=job_id, project=project)
    return render(request, "labeling/_bulk_job.html", {"project": project, "job": job})


@project_page(access.REVIEWERS)
@require_GET
def item_page(request, pk, item_id):
    """One item: its data as annotators see it, every answer, predictions, history."""
    project = request.project
    role = request.project_role
    item = get_object_or_404(Item.objects.select_related("project"), pk=item_id, project=project)
    context = {"project": project, "role": role, **item_detail(item=item)}
    return render(request, "labeling/item.html", context)
