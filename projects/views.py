"""Project pages, and the API tokens page (thin: forms and services do the work)."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from projects import access
from projects.api_tokens import api_token_create, api_token_revoke, api_tokens_of
from projects.event_hooks import event_emit
from projects.forms import (
    AccountForm,
    ApiTokenForm,
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
from projects.models import ApiToken, ImportJob, Membership, Project
from projects.permissions import ProjectInUrl, project_page
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
    access.PROJECT_CREATORS.check(request.user)
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


@project_page(access.LEAD_ONLY)
def project_settings(request, pk):
    project = request.project
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


@project_page(access.EVERY_MEMBER)
def project_detail(request, pk):
    project = request.project
    role = request.project_role
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


@project_page(access.EVERY_MEMBER)
def project_progress_partial(request, pk):
    project = request.project
    return render(
        request,
        "projects/_progress.html",
        {"project": project, "progress": project_progress(project)},
    )


@project_page(access.LEAD_ONLY)
def import_jobs_partial(request, pk):
    project = request.project
    return render(
        request, "projects/_import_jobs.html", {"import_jobs": project.import_jobs.all()[:10]}
    )


@project_page(access.LEAD_ONLY)
@require_POST
def project_member_add(request, pk):
    project = request.project
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


@project_page(access.LEAD_ONLY)
@require_POST
def project_member_role(request, pk, user_id):
    project = request.project
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


@project_page(access.LEAD_ONLY)
@require_POST
def project_member_remove(request, pk, user_id):
    project = request.project
    user = _member_user(project, user_id)
    try:
        membership_remove(project=project, user=user)
    except MembershipRefused as exc:
        _refused(request, exc)
    else:
        messages.success(request, f"{user.username} was removed from the project.")
    return redirect("project-detail", pk=project.pk)


NEW_ACCOUNT_KEY = "quorum_new_account"


@project_page(access.LEAD_ONLY)
@require_POST
def project_account_create(request, pk):
    project = request.project
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


@project_page(access.LEAD_ONLY)
@require_POST
def project_upload(request, pk):
    project = request.project
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


@project_page(access.LEAD_ONLY, ProjectInUrl(of=ImportJob))
@require_POST
def import_job_cancel_view(request, pk):
    job = get_object_or_404(ImportJob, pk=pk, project=request.project)
    import_job_cancel(job=job)
    if request.headers.get("HX-Request"):
        return import_jobs_partial(request, job.project_id)
    return redirect("project-detail", pk=job.project_id)


# Tokens listed on the page (newest first); the API lists them all.
TOKENS_SHOWN = 100
# The `once` values of token forms this session has sent (the last few).
TOKEN_FORMS_SENT = "api-token-forms-sent"


@login_required
def api_tokens_page(request):
    """The user's API tokens, a form that makes one, and a revoke button per active token.

    A new token's secret is shown on the answer to the form, this once, and is kept nowhere (a
    redirect would have to keep it): so a reload, which sends the form again, must not make a
    second token. Each form carries its own `once`; the session remembers those it has sent."""
    form = ApiTokenForm(request.POST if request.method == "POST" else None)
    created = None
    if form.is_bound and form.is_valid():
        sent = request.session.get(TOKEN_FORMS_SENT, [])
        if form.cleaned_data["once"] in sent:
            messages.info(request, "That form was sent already: its token is listed here.")
            return redirect("api-tokens")
        request.session[TOKEN_FORMS_SENT] = [*sent, form.cleaned_data["once"]][-20:]
        token, secret = api_token_create(
            user=request.user,
            name=form.cleaned_data["name"],
            expires_in_days=form.expires_in_days(),
        )
        created = {"token": token, "secret": secret}
        form = ApiTokenForm()
    tokens = list(api_tokens_of(user=request.user)[:TOKENS_SHOWN])
    context = {
        "form": form,
        "created": created,
        "active": [t for t in tokens if t.state() == ApiToken.State.ACTIVE],
        "inactive": [t for t in tokens if t.state() != ApiToken.State.ACTIVE],
    }
    response = render(request, "projects/api_tokens.html", context)
    if created:
        response["Cache-Control"] = "no-store"  # the secret stays out of every cache
    return response


@login_required
@require_POST
def api_token_revoke_view(request, pk):
    token = get_object_or_404(api_tokens_of(user=request.user), pk=pk)  # others': 404
    api_token_revoke(token=token)
    messages.success(request, f"Token {token.prefix}… ({token.name}) revoked.")
    return redirect("api-tokens")
