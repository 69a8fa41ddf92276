"""Project pages (thin: forms and services do the work)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from projects import access
from projects.forms import MemberForm, ProjectForm, ProjectSettingsForm, UploadForm
from projects.imports.jobs import ImportRefused, import_job_cancel, import_job_create
from projects.job_queue import broker_refusal
from projects.members import membership_set
from projects.models import ImportJob, Membership, Project
from projects.progress import project_progress
from projects.tasks import import_job_enqueue, items_refile_if_reordered


def _project(request, pk, allowed) -> tuple[Project, str]:
    project = get_object_or_404(Project, pk=pk)
    role = access.project_check_role(user=request.user, project=project, allowed=allowed)
    return project, role


@login_required
def project_list(request):
    projects = access.projects_visible_to(request.user).distinct().order_by("name")
    rows = [
        {
            "project": p,
            "role": access.project_role(user=request.user, project=p),
            "progress": project_progress(p),
        }
        for p in projects
    ]
    return render(
        request,
        "projects/project_list.html",
        {"rows": rows, "can_create": access.user_can_create_projects(request.user)},
    )


@login_required
def project_create(request):
    if not access.user_can_create_projects(request.user):
        raise PermissionDenied("Only staff and project leads create projects.")
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            project = form.save(commit=False)
            project.created_by = request.user
            project.save()
            membership_set(project=project, user=request.user, role=Membership.Role.LEAD)
        messages.success(request, f"Project '{project.name}' created.")
        return redirect("project-detail", pk=project.pk)
    return render(request, "projects/project_form.html", {"form": form})


@login_required
def project_settings(request, pk):
    project, _ = _project(request, pk, access.LEAD_ONLY)
    previous_ordering = project.ordering  # the form writes the instance as it validates
    form = ProjectSettingsForm(request.POST or None, instance=project)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            form.save()
            reordered = items_refile_if_reordered(project, previous_ordering)
        messages.success(request, "Settings saved.")
        if reordered:
            messages.info(request, "The queue takes up the new ordering as the items are refiled.")
        return redirect("project-detail", pk=project.pk)
    return render(request, "projects/project_settings.html", {"project": project, "form": form})


@login_required
def project_detail(request, pk):
    project, role = _project(request, pk, access.EVERY_MEMBER)
    context = {
        "project": project,
        "role": role,
        "is_lead": role == Membership.Role.LEAD,
        "progress": project_progress(project),
        "member_form": MemberForm(),
        "upload_form": UploadForm(),
    }
    if role == Membership.Role.LEAD:
        context["members"] = project.memberships.select_related("user").order_by("user__username")
        context["import_jobs"] = project.import_jobs.all()[:10]
    return render(request, "projects/project_detail.html", context)


@login_required
def project_progress_partial(request, pk):
    project, _ = _project(request, pk, access.EVERY_MEMBER)
    return render(
        request,
        "projects/_progress.html",
        {"project": project, "progress": project_progress(project)},
    )


@login_required
def import_jobs_partial(request, pk):
    project, _ = _project(request, pk, access.LEAD_ONLY)
    return render(
        request, "projects/_import_jobs.html", {"import_jobs": project.import_jobs.all()[:10]}
    )


@login_required
@require_POST
def project_member_add(request, pk):
    project, _ = _project(request, pk, access.LEAD_ONLY)
    form = MemberForm(request.POST)
    if form.is_valid():
        user = get_user_model().objects.filter(username=form.cleaned_data["username"]).first()
        if user is None:
            messages.error(request, f"No user '{form.cleaned_data['username']}'.")
        else:
            membership_set(project=project, user=user, role=form.cleaned_data["role"])
            messages.success(request, f"{user.username} is now {form.cleaned_data['role']}.")
    return redirect("project-detail", pk=project.pk)


@login_required
@require_POST
def project_upload(request, pk):
    project, _ = _project(request, pk, access.LEAD_ONLY)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a file to upload.")
        return redirect("project-detail", pk=project.pk)
    if refusal := broker_refusal():
        messages.error(request, refusal)
        return redirect("project-detail", pk=project.pk)
    try:
        with transaction.atomic():
            job = import_job_create(
                project=project,
                user=request.user,
                upload=form.cleaned_data["file"],
                format=form.cleaned_data.get("format") or None,
            )
            import_job_enqueue(job.pk)
    except ImportRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.info(request, f"Import of {job.original_name} started.")
    return redirect("project-detail", pk=project.pk)


@login_required
@require_POST
def import_job_cancel_view(request, pk):
    job = get_object_or_404(ImportJob.objects.select_related("project"), pk=pk)
    access.project_check_role(user=request.user, project=job.project, allowed=access.LEAD_ONLY)
    import_job_cancel(job=job)
    if request.headers.get("HX-Request"):
        return import_jobs_partial(request, job.project_id)
    return redirect("project-detail", pk=job.project_id)
