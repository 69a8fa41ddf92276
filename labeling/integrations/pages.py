"""Pages of the integrations (thin): a project's webhooks, storages and model backends, and a
webhook's delivery log with redeliver. Leads only."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from labeling.integrations import backends, tasks, webhooks
from labeling.integrations import storage as storage_svc
from labeling.integrations.models import CloudStorage, ModelBackend, Webhook, WebhookDelivery
from projects import access
from projects.models import Project
from projects.permissions import ProjectInUrl, project_page, token_accepted


class WebhookForm(forms.Form):
    url = forms.URLField(label="URL", max_length=2000, assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=[(e, e) for e in webhooks.WEBHOOK_EVENTS], widget=forms.CheckboxSelectMultiple
    )
    secret = forms.CharField(
        required=False, max_length=500, help_text="Leave empty to have one generated."
    )
    send_payload = forms.BooleanField(
        required=False, initial=True, label="Send the full object (off: ids only)"
    )


class StorageForm(forms.ModelForm):
    access_key = forms.CharField(required=False, max_length=500, widget=forms.PasswordInput)
    secret_key = forms.CharField(required=False, max_length=500, widget=forms.PasswordInput)

    class Meta:
        model = CloudStorage
        fields = [
            "role",
            "title",
            "bucket",
            "prefix",
            "endpoint_url",
            "region",
            "object_kind",
            "object_filter",
            "filter_kind",
            "presign_ttl",
            "sync_every_minutes",
            "write_exports",
        ]


class BackendForm(forms.ModelForm):
    # Any http(s) URL, docker-compose's "http://ml:9090" too: the service checks the host.
    url = forms.CharField(label="URL", max_length=2000)

    class Meta:
        model = ModelBackend
        fields = [
            "title",
            "url",
            "pre_annotate",
            "predict_timeout_ms",
            "batch_size",
            "train_every",
        ]


# Webhooks by id: their project's leads manage them, staff the global ones.
WEBHOOK_IN_URL = ProjectInUrl(of=Webhook, unowned=access.STAFF)


def _webhook_managed(request, pk) -> Webhook:
    webhook = get_object_or_404(Webhook, pk=pk, project=request.project)
    webhook.project = request.project
    return webhook


def _context(project: Project) -> dict:
    return {
        "project": project,
        "webhooks": Webhook.objects.filter(project=project).order_by("id"),
        "storages": CloudStorage.objects.filter(project=project).order_by("id"),
        "backends": ModelBackend.objects.filter(project=project).order_by("id"),
    }


def _posted(request, kind: str):
    return request.POST if request.method == "POST" and request.POST.get("add") == kind else None


@project_page(access.LEAD_ONLY)
def integrations(request, pk):
    """The project's integrations, the forms that add them, and their buttons (sync now,
    check, train now)."""
    project = request.project
    if request.method == "POST" and request.POST.get("do"):
        return _action(request, project)
    # Own id prefixes: the three forms share field names (url, title) on one page.
    webhook_form = WebhookForm(_posted(request, "webhook"), auto_id="webhook_%s")
    storage_form = StorageForm(_posted(request, "storage"), auto_id="storage_%s")
    backend_form = BackendForm(_posted(request, "backend"), auto_id="backend_%s")
    if _posted(request, "storage") and storage_form.is_valid():
        fields = {
            k: v
            for k, v in storage_form.cleaned_data.items()
            if k not in ("access_key", "secret_key")
        }
        try:
            storage_svc.storage_create(
                project=project,
                fields=fields,
                access_key=storage_form.cleaned_data["access_key"],
                secret_key=storage_form.cleaned_data["secret_key"],
            )
        except storage_svc.StorageRefused as exc:
            storage_form.add_error(exc.field, str(exc))
        else:
            messages.success(request, "Storage connected.")
            return redirect("integrations", pk=project.pk)
    if _posted(request, "backend") and backend_form.is_valid():
        try:
            backend = backends.backend_create(project=project, fields=backend_form.cleaned_data)
        except backends.BackendRefused as exc:
            backend_form.add_error(exc.field, str(exc))
        else:
            messages.success(request, f"Model backend connected: {backend.health}.")
            return redirect("integrations", pk=project.pk)
    if (
        request.method == "POST"
        and request.POST.get("add") == "webhook"
        and webhook_form.is_valid()
    ):
        data = webhook_form.cleaned_data
        try:
            _, secret = webhooks.webhook_create(
                project=project,
                url=data["url"],
                events=data["events"],
                secret=data["secret"],
                send_payload=data["send_payload"],
                user=request.user,
            )
        except webhooks.WebhookRefused as exc:
            webhook_form.add_error(exc.field, str(exc))
        else:
            messages.success(request, f"Webhook added. Its signing secret (shown once): {secret}")
            return redirect("integrations", pk=project.pk)
    context = _context(project) | {
        "webhook_form": webhook_form,
        "storage_form": storage_form,
        "backend_form": backend_form,
    }
    return render(request, "integrations/integrations.html", context)


def _action(request, project: Project):
    what, target = request.POST["do"], request.POST.get("id", "")
    if not target.isdigit():
        raise Http404("No such storage or backend.")
    if what == "sync":
        storage = get_object_or_404(CloudStorage, project=project, pk=target, role="source")
        with transaction.atomic():
            CloudStorage.objects.filter(pk=storage.pk).update(sync_status="queued")
            transaction.on_commit(lambda: tasks.storage_sync.delay(storage.pk))
        messages.success(request, "Sync started.")
    elif what in ("train", "check"):
        backend = get_object_or_404(ModelBackend, project=project, pk=target)
        if what == "train":
            with transaction.atomic():
                ModelBackend.objects.filter(pk=backend.pk).update(training="requested")
                transaction.on_commit(lambda: tasks.backend_train.delay(backend.pk))
            messages.success(request, "Training requested.")
        else:
            backends.backend_health_check(backend=backend)
            messages.info(request, f"Backend health: {backend.health}.")
    return redirect("integrations", pk=project.pk)


@token_accepted  # the API hands out these paths: a script with a token reads them too
@project_page(access.EVERY_MEMBER, ProjectInUrl(of=CloudStorage))
def storage_media(request, pk, key):
    """An object of a source storage, for any member of its project: a redirect to a presigned
    URL made now (items store this path, never an expiring URL)."""
    storage = get_object_or_404(CloudStorage, pk=pk, project=request.project)
    response = HttpResponseRedirect(storage_svc.media_url(storage=storage, key=key))
    response["Cache-Control"] = "private, no-store"
    return response


@project_page(access.LEAD_ONLY)
def integrations_panel(request, pk):
    """The short summary on the project page (htmx partial)."""
    project = request.project
    return render(request, "integrations/_panel.html", _context(project))


@project_page(access.LEAD_ONLY, WEBHOOK_IN_URL)
def webhook_detail(request, pk):
    """A webhook's delivery log; POST pauses or resumes it."""
    webhook = _webhook_managed(request, pk)
    if request.method == "POST":
        with transaction.atomic():
            webhooks.webhook_update(
                webhook=webhook, changes={"is_active": request.POST.get("action") == "resume"}
            )
        return redirect("webhook-detail", pk=webhook.pk)
    deliveries = (
        WebhookDelivery.objects.filter(webhook=webhook).select_related("event").order_by("-id")
    )[:200]
    return render(
        request,
        "integrations/webhook_detail.html",
        {"webhook": webhook, "project": webhook.project, "deliveries": deliveries},
    )


@project_page(access.LEAD_ONLY, WEBHOOK_IN_URL)
@require_POST
def delivery_redeliver(request, pk, n):
    webhook = _webhook_managed(request, pk)
    delivery = get_object_or_404(WebhookDelivery, webhook=webhook, pk=n)
    with transaction.atomic():
        webhooks.delivery_redeliver(delivery=delivery)
    messages.success(request, f"Delivery {n} queued again.")
    return redirect("webhook-detail", pk=webhook.pk)


@login_required
def global_webhooks(request):
    """Staff: the webhooks told of every project's events, and the form that adds one."""
    access.STAFF.check(request.user)
    form = WebhookForm(_posted(request, "webhook"))
    if _posted(request, "webhook") and form.is_valid():
        data = form.cleaned_data
        try:
            _, secret = webhooks.webhook_create(
                project=None,
                url=data["url"],
                events=data["events"],
                secret=data["secret"],
                send_payload=data["send_payload"],
                user=request.user,
            )
        except webhooks.WebhookRefused as exc:
            form.add_error(exc.field, str(exc))
        else:
            messages.success(request, f"Global webhook added. Its secret (shown once): {secret}")
            return redirect("global-webhooks")
    rows = Webhook.objects.filter(project__isnull=True).order_by("id")
    return render(
        request, "integrations/global_webhooks.html", {"webhooks": rows, "webhook_form": form}
    )
