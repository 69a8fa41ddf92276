"""Pages of the integrations (thin): a project's webhooks, storages and model backends, and a
webhook's delivery log with redeliver. Leads only."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from labeling.integrations import webhooks
from labeling.integrations.models import CloudStorage, ModelBackend, Webhook, WebhookDelivery
from projects import access
from projects.models import Project


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


def _lead_project(request, pk) -> Project:
    project = get_object_or_404(Project, pk=pk)
    access.project_check_role(user=request.user, project=project, allowed=access.LEAD_ONLY)
    return project


def _webhook_managed(request, pk) -> Webhook:
    webhook = get_object_or_404(Webhook.objects.select_related("project"), pk=pk)
    if webhook.project is None:
        if not request.user.is_staff:
            raise PermissionDenied("Global webhooks are managed by staff.")
    else:
        access.project_check_role(
            user=request.user, project=webhook.project, allowed=access.LEAD_ONLY
        )
    return webhook


def _context(project: Project) -> dict:
    return {
        "project": project,
        "webhooks": Webhook.objects.filter(project=project).order_by("id"),
        "storages": CloudStorage.objects.filter(project=project).order_by("id"),
        "backends": ModelBackend.objects.filter(project=project).order_by("id"),
    }


@login_required
def integrations(request, pk):
    """The project's integrations, and the forms that add them."""
    project = _lead_project(request, pk)
    webhook_form = WebhookForm(request.POST if request.POST.get("add") == "webhook" else None)
    if request.method == "POST" and request.POST.get("add") == "webhook" and webhook_form.is_valid():
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
    context = _context(project) | {"webhook_form": webhook_form}
    return render(request, "integrations/integrations.html", context)


@login_required
def integrations_panel(request, pk):
    """The short summary on the project page (htmx partial)."""
    project = _lead_project(request, pk)
    return render(request, "integrations/_panel.html", _context(project))


@login_required
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


@login_required
@require_POST
def delivery_redeliver(request, pk, n):
    webhook = _webhook_managed(request, pk)
    delivery = get_object_or_404(WebhookDelivery, webhook=webhook, pk=n)
    with transaction.atomic():
        webhooks.delivery_redeliver(delivery=delivery)
    messages.success(request, f"Delivery {n} queued again.")
    return redirect("webhook-detail", pk=webhook.pk)
