"""Project pages (thin: forms and services do the work)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from projects import access
from projects.event_hooks import event_emit
from projects.forms import (
    AccountForm,
    MemberForm,
    ProjectForm,
    ProjectSettingsForm,
    RoleForm,
    UploadForm,
)
from projects.imports.jobs import ImportRefused, import_job_cancel, import_job_create
from projects.job_queue import broker_refusal
from projects.members import (
    MembershipRefused,
    account_create,
    members_with_activity,
    membership_remove,
    membership_set,
)
from projects.models import ImportJob, Membership, Project
from projects.progress import project_progress
from projects.schema_builder import schema_builder_context
from projects.schema_change import SchemaChangeRefused, project_schema_change
from projects.tasks import import_job_enqueue, items_refile_if_reordered
from projects.unstorable import NUL_REFUSE

# Form fields the schema builder section shows (the rest are the project's settings).
SCHEMA_FIELDS = frozenset(
    {
        "labels",
        "source_field",
        "schema_json",
        "label_renames",
        "label_studio_config",
        "label_studio_file",
    }
)


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
    form = ProjectForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            project = form.save(commit=False)
            project.created_by = request.user
            project.save()
            membership_set(project=project, user=request.user, role=Membership.Role.LEAD)
        messages.success(request, f"Project '{project.name}' created.")
        return redirect("project-detail", pk=project.pk)
    context = {
        "form": form,
        "builder": schema_builder_context(None),
        "schema_fields": SCHEMA_FIELDS,
        "schema_quick_fields": ["labels", "source_field"],
    }
    return render(request, "projects/project_form.html", context)


@login_required
def project_settings(request, pk):
    project, _ = _project(request, pk, access.LEAD_ONLY)
    previous_ordering = project.ordering  # the form writes the instance as it validates
    form = ProjectSettingsForm(request.POST or None, request.FILES or None, instance=project)
    if request.method == "POST" and form.is_valid():
        change = form.cleaned_data["schema_change"]
        try:
            with transaction.atomic():
                form.save()
                recorded = project_schema_change(
                    project=project,
                    label_schema=change["label_schema"],
                    renames=change["renames"],
                    user=request.user,
                )
                reordered = items_refile_if_reordered(project, previous_ordering)
                event_emit(
                    project_id=project.pk, event="project.updated", ids={"project": project.pk}
                )
        except SchemaChangeRefused as exc:  # answers arrived between the check and the save
            for message in exc.errors.values():
                form.add_error("schema_json", message)
            return render(
                request, "projects/project_settings.html", _settings_context(project, form)
            )
        messages.success(request, "Settings saved.")
        if recorded is not None and recorded.migrated:
            moved = ", ".join(f"{count} {noun}" for noun, count in recorded.migrated.items())
            messages.info(request, f"Labels renamed: moved {moved}.")
        if reordered:
            messages.info(request, "The queue takes up the new ordering as the items are refiled.")
        return redirect("project-detail", pk=project.pk)
    return render(request, "projects/project_settings.html", _settings_context(project, form))


def _settings_context(project: Project, form) -> dict:
    return {
        "project": project,
        "form": form,
        "builder": schema_builder_context(project),
        "history": project.history.select_related("changed_by")[:10],
        "schema_fields": SCHEMA_FIELDS,
        "schema_quick_fields": [],
    }


@login_required
def project_detail(request, pk):
    project, role = _project(request, pk, access.EVERY_MEMBER)
    context = {
        "project": project,
        "role": role,
        "is_lead": role == Membership.Role.LEAD,
        "progress": project_progress(project),
        "member_form": MemberForm(),
        "account_form": AccountForm(),
        "upload_form": UploadForm(),
    }
    if role == Membership.Role.LEAD:
        context["members"] = members_with_activity(project=project)
        context["roles"] = Membership.Role.choices
        context["import_jobs"] = project.import_jobs.all()[:10]
        # Shown once, right after the account was made (see project_account_create).
        context["new_account"] = request.session.pop(NEW_ACCOUNT_KEY, None)
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
            try:
                membership_set(project=project, user=user, role=form.cleaned_data["role"])
            except MembershipRefused as exc:
                _refused(request, exc)
            else:
                messages.success(request, f"{user.username} is now {form.cleaned_data['role']}.")
    return redirect("project-detail", pk=project.pk)


def _member_user(project: Project, user_id: int):
    membership = get_object_or_404(
        Membership.objects.select_related("user"), project=project, user_id=user_id
    )
    return membership.user


def _refused(request, exc: MembershipRefused) -> None:
    for field, message in exc.errors.items():
        messages.error(request, f"{field.capitalize()}: {message}.")


@login_required
@require_POST
def project_member_role(request, pk, user_id):
    project, _ = _project(request, pk, access.LEAD_ONLY)
    user = _member_user(project, user_id)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"Role: must be one of {', '.join(Membership.Role.values)}.")
        return redirect("project-detail", pk=project.pk)
    try:
        membership_set(project=project, user=user, role=form.cleaned_data["role"])
    except MembershipRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, f"{user.username} is now {form.cleaned_data['role']}.")
    return redirect("project-detail", pk=project.pk)


@login_required
@require_POST
def project_member_remove(request, pk, user_id):
    project, _ = _project(request, pk, access.LEAD_ONLY)
    user = _member_user(project, user_id)
    try:
        membership_remove(project=project, user=user)
    except MembershipRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, f"{user.username} was removed from the project.")
    return redirect("project-detail", pk=project.pk)


NEW_ACCOUNT_KEY = "quorum_new_account"


@login_required
@require_POST
def project_account_create(request, pk):
    project, _ = _project(request, pk, access.LEAD_ONLY)
    form = AccountForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field.capitalize()}: {' '.join(errors)}")
        return redirect("project-detail", pk=project.pk)
    try:
        account = account_create(
            username=form.cleaned_data["username"],
            email=form.cleaned_data["email"],
            project=project,
            role=form.cleaned_data["role"],
            created_by=request.user,
            site_url=request.build_absolute_uri("/").rstrip("/"),
        )
    except MembershipRefused as exc:
        _refused(request, exc)
        return redirect("project-detail", pk=project.pk)
    request.session[NEW_ACCOUNT_KEY] = {
        "username": account.user.username,
        "link": request.build_absolute_uri(account.set_password_path),
        "emailed": account.emailed,
    }
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
                nul=form.cleaned_data.get("nul") or NUL_REFUSE,
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
