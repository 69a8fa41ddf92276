"""REST API of the integrations (thin): webhooks and their deliveries, cloud storages, model
backends. Leads manage their project's; staff manage global webhooks."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from labeling.integrations import webhooks
from labeling.integrations.models import Webhook, WebhookDelivery
from projects import access
from projects.api import id_from_url, project_for


def refused(exc) -> Response:
    return Response({exc.field: [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)


# --- webhooks ---------------------------------------------------------------------------------


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=webhooks.WEBHOOK_EVENTS), allow_empty=False
    )
    secret = serializers.CharField(
        write_only=True, required=False, allow_blank=True, max_length=500,
        help_text="Signing secret; generated (and answered once) when left out.",
    )

    class Meta:
        model = Webhook
        fields = [
            "id",
            "project",
            "url",
            "events",
            "secret",
            "send_payload",
            "is_active",
            "paused_reason",
            "consecutive_failures",
            "created_at",
        ]
        read_only_fields = ["id", "project", "paused_reason", "consecutive_failures", "created_at"]


class WebhookCreatedSerializer(WebhookSerializer):
    secret = serializers.CharField(read_only=True, help_text="Shown once: keep it.")


class DeliverySerializer(serializers.ModelSerializer):
    event = serializers.CharField(source="event.event")
    event_id = serializers.UUIDField(source="event.id")

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "event",
            "event_id",
            "status",
            "attempts",
            "response_code",
            "error",
            "duration_ms",
            "created_at",
            "last_attempt_at",
            "next_attempt_at",
            "delivered_at",
        ]


def _webhook_create(request: Request, project) -> Response:
    serializer = WebhookSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    try:
        webhook, secret = webhooks.webhook_create(
            project=project,
            url=data["url"],
            events=data["events"],
            secret=data.get("secret", ""),
            send_payload=data.get("send_payload", True),
            is_active=data.get("is_active", True),
            user=request.user,
        )
    except webhooks.WebhookRefused as exc:
        return refused(exc)
    answer = WebhookCreatedSerializer(webhook).data
    answer["secret"] = secret
    return Response(answer, status=status.HTTP_201_CREATED)


class ProjectWebhooksViewSet(viewsets.GenericViewSet):
    serializer_class = WebhookSerializer

    @extend_schema(request=WebhookSerializer, responses={201: WebhookCreatedSerializer})
    @action(detail=True, methods=["get", "post"])
    def webhooks(self, request: Request, pk=None):
        """Leads: the project's webhooks, or add one (`url`, `events`, `secret`,
        `send_payload`, `is_active`)."""
        project = project_for(request, pk, access.LEAD_ONLY)
        if request.method == "GET":
            rows = Webhook.objects.filter(project=project).order_by("id")
            return Response(WebhookSerializer(rows, many=True).data)
        return _webhook_create(request, project)


def webhook_for(request: Request, pk) -> Webhook:
    """The webhook (404), once the caller may manage it: its project's lead, or staff for a
    global one (403)."""
    webhook = Webhook.objects.filter(pk=id_from_url(pk)).select_related("project").first()
    if webhook is None:
        raise Http404("No such webhook.")
    if webhook.project is None:
        if not request.user.is_staff:
            raise PermissionDenied("Global webhooks are managed by staff.")
    else:
        access.project_check_role(
            user=request.user, project=webhook.project, allowed=access.LEAD_ONLY
        )
    return webhook


class WebhookViewSet(viewsets.GenericViewSet):
    serializer_class = WebhookSerializer
    queryset = Webhook.objects.none()

    def list(self, request: Request):
        """Staff: the global webhooks (those of every project)."""
        if not request.user.is_staff:
            raise PermissionDenied("Global webhooks are managed by staff.")
        rows = Webhook.objects.filter(project__isnull=True).order_by("id")
        return Response(WebhookSerializer(rows, many=True).data)

    @extend_schema(request=WebhookSerializer, responses={201: WebhookCreatedSerializer})
    def create(self, request: Request):
        """Staff: add a global webhook, told of the events of every project."""
        if not request.user.is_staff:
            raise PermissionDenied("Global webhooks are managed by staff.")
        return _webhook_create(request, None)

    def retrieve(self, request: Request, pk=None):
        return Response(WebhookSerializer(webhook_for(request, pk)).data)

    def partial_update(self, request: Request, pk=None):
        """Change the webhook; `is_active: true` resumes a paused one."""
        webhook = webhook_for(request, pk)
        serializer = WebhookSerializer(webhook, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                webhook = webhooks.webhook_update(
                    webhook=webhook, changes=dict(serializer.validated_data)
                )
        except webhooks.WebhookRefused as exc:
            return refused(exc)
        return Response(WebhookSerializer(webhook).data)

    def destroy(self, request: Request, pk=None):
        webhook_for(request, pk).delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: DeliverySerializer(many=True)})
    @action(detail=True, methods=["get"], serializer_class=DeliverySerializer)
    def deliveries(self, request: Request, pk=None):
        """The webhook's delivery log, newest first (paginated)."""
        webhook = webhook_for(request, pk)
        rows = WebhookDelivery.objects.filter(webhook=webhook).select_related("event")
        page = self.paginate_queryset(rows.order_by("-id"))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: DeliverySerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path=r"deliveries/(?P<n>[^/.]+)/redeliver",
        serializer_class=DeliverySerializer,
    )
    def redeliver(self, request: Request, pk=None, n=None):
        """Send a delivery's event again (same event id), queued behind the open ones."""
        webhook = webhook_for(request, pk)
        delivery = WebhookDelivery.objects.filter(webhook=webhook, pk=id_from_url(n)).first()
        if delivery is None:
            raise Http404("No such delivery of this webhook.")
        with transaction.atomic():
            again = webhooks.delivery_redeliver(delivery=delivery)
        again.refresh_from_db()
        return Response(DeliverySerializer(again).data, status=status.HTTP_202_ACCEPTED)
