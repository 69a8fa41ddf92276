"""Export pages (thin): the project's export panel, its job list with progress, and the start form.

The project page (projects/, which knows nothing of exports) loads the panel by URL with htmx.
"""

from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from exports.formats import export_formats_for
from exports.jobs import export_job_create
from exports.labels import stratify_controls
from exports.options import MONITOR_KEYS, SPLIT_NAMES, OptionsError
from exports.tasks import export_job_enqueue
from labeling.monitor.selectors import monitor_filter_choices
from projects import access
from projects import label_schema as ls
from projects.job_queue import broker_refusal
from projects.label_schema import LabelSchema
from projects.models import Project
from projects.permissions import project_page

JOBS_SHOWN = 20


def _jobs_context(project: Project) -> dict:
    jobs = list(project.export_jobs.select_related("created_by")[:JOBS_SHOWN])
    return {
        "project": project,
        "export_jobs": jobs,
        "exports_busy": any(j.status in ("queued", "running") for j in jobs),
    }


@project_page(access.LEAD_ONLY)
def exports_panel(request, pk):
    project = request.project
    schema = LabelSchema(project.label_schema)
    context = _jobs_context(project)
    context.update(
        {
            "formats": export_formats_for(schema),
            "controls": [c.name for c in stratify_controls(schema)],
            "has_spans": any(c.kind == ls.SPANS for c in schema.controls),
            "split_names": SPLIT_NAMES,
            "monitor": monitor_filter_choices(project=project),
        }
    )
    return render(request, "exports/_panel.html", context)


@project_page(access.LEAD_ONLY)
def exports_list(request, pk):
    project = request.project
    return render(request, "exports/_export_jobs.html", _jobs_context(project))


def _form_options(post) -> dict:
    options = {
        name: name in post
        for name in ("include_annotations", "include_gold", "include_predictions", "bundle_images")
    }
    options["only_resolved"] = post.get("items", "resolved") == "resolved"
    if post.get("split"):
        options["split"] = post["split"]
        options["split_seed"] = post.get("split_seed") or 0
        options["stratify_by"] = post.get("stratify_by") or None
    if post.get("conll_tokens"):
        options["conll_tokens"] = post["conll_tokens"]
    # The monitor filter (options.monitor): only the items routed from production events of
    # a rule, a model version, a time range; none of them given, no filter.
    monitor = {
        name: post[f"monitor_{name}"]
        for name in MONITOR_KEYS
        if post.get(f"monitor_{name}", "").strip()
    }
    if monitor:
        options["monitor"] = monitor
    return options


@project_page(access.LEAD_ONLY)
@require_POST
def export_start(request, pk):
    project = request.project
    if refusal := broker_refusal():
        if request.headers.get("HX-Request"):
            context = _jobs_context(project) | {"export_error": refusal}
            return render(request, "exports/_export_jobs.html", context)
        messages.error(request, refusal)
        return redirect("project-detail", pk=project.pk)
    try:
        with transaction.atomic():
            job = export_job_create(
                project=project,
                user=request.user,
                format=request.POST.get("format", ""),
                raw_options=_form_options(request.POST),
            )
            export_job_enqueue(job=job)
    except OptionsError as exc:
        error = "; ".join(f"{name}: {message}" for name, message in exc.errors.items())
        if request.headers.get("HX-Request"):
            # htmx swaps only 2xx answers: the refusal is shown in the list it replaces.
            context = _jobs_context(project) | {"export_error": error}
            return render(request, "exports/_export_jobs.html", context)
        messages.error(request, f"Export refused: {error}")
        return redirect("project-detail", pk=project.pk)
    if request.headers.get("HX-Request"):
        return render(request, "exports/_export_jobs.html", _jobs_context(project))
    messages.info(request, f"Export {job.pk} ({job.format}) started.")
    return redirect("project-detail", pk=project.pk)


@project_page(access.LEAD_ONLY)
def export_selection_form(request, pk):
    """The data manager's "export the selection" form (loaded into its page with htmx)."""
    project = request.project
    formats = export_formats_for(LabelSchema(project.label_schema))
    return render(request, "exports/_selection_form.html", {"project": project, "formats": formats})


def _form_selection(post) -> dict:
    """The data manager's selection fields: the ticked ids, or all that match its filters."""
    if post.get("scope") == "all":
        return {"query": post.get("query", "")}
    return {"ids": [int(v) for v in post.getlist("ids") if v.isdigit()]}


@project_page(access.LEAD_ONLY)
@require_POST
def export_selection_start(request, pk):
    """Start an export of the data manager's selection; answers a line saying what started."""
    project = request.project
    options = {
        "selection": _form_selection(request.POST),
        "only_resolved": "only_resolved" in request.POST,
        "include_annotations": True,
    }
    try:
        with transaction.atomic():
            job = export_job_create(
                project=project,
                user=request.user,
                format=request.POST.get("format", ""),
                raw_options=options,
            )
            export_job_enqueue(job=job)
    except OptionsError as exc:
        error = "; ".join(f"{name}: {message}" for name, message in exc.errors.items())
        return render(request, "exports/_selection_started.html", {"error": error})
    return render(request, "exports/_selection_started.html", {"job": job, "project": project})
