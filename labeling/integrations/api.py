"""REST API of the integrations (thin): webhooks and their deliveries, cloud storages, model
backends. Leads manage their project's; staff manage global webhooks."""

from __future__ import annotations

from django.db import transaction
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from labeling.integrations import backends, backends_hooks, tasks, webhooks
from labeling.integrations import storage as storage_svc
from labeling.integrations.models import CloudStorage, ModelBackend, Webhook, WebhookDelivery
from projects.access import LEAD_ONLY, STAFF
from projects.permissions import PROJECT_IN_URL, ProjectInUrl


def refused(exc) -> Response:
    return Response({exc.field: [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)


# --- webhooks ---------------------------------------------------------------------------------


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=webhooks.WEBHOOK_EVENTS), allow_empty=False
    )
    secret = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=500,
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
    lookup_value_converter = "row_id"
    project_from = PROJECT_IN_URL
    project_roles = {"webhooks": LEAD_ONLY}
    serializer_class = WebhookSerializer

    @extend_schema(request=WebhookSerializer, responses={201: WebhookCreatedSerializer})
    @action(detail=True, methods=["get", "post"])
    def webhooks(self, request: Request, pk=None):
        """Leads: the project's webhooks, or add one (`url`, `events`, `secret`,
        `send_payload`, `is_active`)."""
        project = request.project
        if request.method == "GET":
            rows = Webhook.objects.filter(project=project).order_by("id")
            return Response(WebhookSerializer(rows, many=True).data)
        return _webhook_create(request, project)


class WebhookViewSet(viewsets.GenericViewSet):
    """Webhooks by id: their project's leads manage them, staff the global ones."""

    lookup_value_converter = "row_id"
    project_from = ProjectInUrl(of=Webhook, unowned=STAFF)
    project_roles = {
        "list": STAFF,
        "create": STAFF,
        "retrieve": LEAD_ONLY,
        "partial_update": LEAD_ONLY,
        "destroy": LEAD_ONLY,
        "deliveries": LEAD_ONLY,
        "redeliver": LEAD_ONLY,
    }
    serializer_class = WebhookSerializer
    queryset = Webhook.objects.all()

    def list(self, request: Request):
        """Staff: the global webhooks (those of every project)."""
        rows = Webhook.objects.filter(project__isnull=True).order_by("id")
        return Response(WebhookSerializer(rows, many=True).data)

    @extend_schema(request=WebhookSerializer, responses={201: WebhookCreatedSerializer})
    def create(self, request: Request):
        """Staff: add a global webhook, told of the events of every project."""
        return _webhook_create(request, None)

    def retrieve(self, request: Request, pk=None):
        return Response(WebhookSerializer(self.get_object()).data)

    def partial_update(self, request: Request, pk=None):
        """Change the webhook; `is_active: true` resumes a paused one."""
        webhook = self.get_object()
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
        self.get_object().delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses={200: DeliverySerializer(many=True)})
    @action(detail=True, methods=["get"], serializer_class=DeliverySerializer)
    def deliveries(self, request: Request, pk=None):
        """The webhook's delivery log, newest first (paginated)."""
        webhook = self.get_object()
        rows = WebhookDelivery.objects.filter(webhook=webhook).select_related("event")
        page = self.paginate_queryset(rows.order_by("-id"))
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: DeliverySerializer})
    @action(
        detail=True,
        methods=["post"],
        url_path="deliveries/<row_id:n>/redeliver",
        serializer_class=DeliverySerializer,
    )
    def redeliver(self, request: Request, pk=None, n=None):
        """Send a delivery's event again (same event id), queued behind the open ones."""
        webhook = self.get_object()
        delivery = WebhookDelivery.objects.filter(webhook=webhook, pk=n).first()
        if delivery is None:
            raise Http404("No such delivery of this webhook.")
        with transaction.atomic():
            again = webhooks.delivery_redeliver(delivery=delivery)
        again.refresh_from_db()
        return Response(DeliverySerializer(again).data, status=status.HTTP_202_ACCEPTED)


# --- cloud storages ---------------------------------------------------------------------------


class StorageSerializer(serializers.ModelSerializer):
    access_key = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Stored encrypted; never answered.",
    )
    secret_key = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="Stored encrypted; never answered.",
    )
    has_credentials = serializers.SerializerMethodField()

    class Meta:
        model = CloudStorage
        fields = [
            "id",
            "project",
            "role",
            "title",
            "bucket",
            "prefix",
            "endpoint_url",
            "region",
            "access_key",
            "secret_key",
            "has_credentials",
            "object_filter",
            "filter_kind",
            "object_kind",
            "presign_ttl",
            "sync_every_minutes",
            "write_exports",
            "is_active",
            "sync_status",
            "sync_message",
            "last_synced_at",
            "objects_seen",
            "objects_new",
            "items_created",
        ]
        read_only_fields = [
            "id",
            "project",
            "sync_status",
            "sync_message",
            "last_synced_at",
            "objects_seen",
            "objects_new",
            "items_created",
        ]
        extra_kwargs = {
            "presign_ttl": {"min_value": 10, "max_value": 7 * 24 * 3600},
            "sync_every_minutes": {"min_value": 1},
        }

    def get_has_credentials(self, storage: CloudStorage) -> bool:
        return bool(storage.access_key_encrypted or storage.secret_key_encrypted)


def _storage_save(request: Request, *, project=None, storage=None) -> Response:
    serializer = StorageSerializer(storage, data=request.data, partial=storage is not None)
    serializer.is_valid(raise_exception=True)
    fields = dict(serializer.validated_data)
    access_key, secret_key = fields.pop("access_key", None), fields.pop("secret_key", None)
    try:
        if storage is None:
            storage = storage_svc.storage_create(
                project=project,
                fields=fields,
                access_key=access_key or "",
                secret_key=secret_key or "",
            )
            code = status.HTTP_201_CREATED
        else:
            storage = storage_svc.storage_update(
                storage=storage, fields=fields, access_key=access_key, secret_key=secret_key
            )
            code = status.HTTP_200_OK
    except storage_svc.StorageRefused as exc:
        return refused(exc)
    return Response(StorageSerializer(storage).data, status=code)


class ProjectStoragesViewSet(viewsets.GenericViewSet):
    lookup_value_converter = "row_id"
    project_from = PROJECT_IN_URL
    project_roles = {"storages": LEAD_ONLY}
    serializer_class = StorageSerializer

    @extend_schema(request=StorageSerializer, responses={201: StorageSerializer})
    @action(detail=True, methods=["get", "post"])
    def storages(self, request: Request, pk=None):
        """Leads: the project's cloud storages, or connect one (source or target)."""
        project = request.project
        if request.method == "GET":
            rows = CloudStorage.objects.filter(project=project).order_by("id")
            return Response(StorageSerializer(rows, many=True).data)
        return _storage_save(request, project=project)


class StorageViewSet(viewsets.GenericViewSet):
    lookup_value_converter = "row_id"
    project_from = ProjectInUrl(of=CloudStorage)
    project_roles = {
        "retrieve": LEAD_ONLY,
        "partial_update": LEAD_ONLY,
        "destroy": LEAD_ONLY,
        "sync": LEAD_ONLY,
    }
    serializer_class = StorageSerializer
    queryset = CloudStorage.objects.all()

    def retrieve(self, request: Request, pk=None):
        return Response(StorageSerializer(self.get_object()).data)

    def partial_update(self, request: Request, pk=None):
        return _storage_save(request, storage=self.get_object())

    def destroy(self, request: Request, pk=None):
        self.get_object().delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={202: StorageSerializer})
    @action(detail=True, methods=["post"])
    def sync(self, request: Request, pk=None):
        """Sync a source storage now (in the background): only new or changed objects."""
        storage = self.get_object()
        if storage.role != CloudStorage.Role.SOURCE:
            return Response(
                {"role": ["Only a source storage syncs; a target is written as items resolve."]},
                status=status.HTTP_400_BAD_REQUEST,
            )
        with transaction.atomic():
            CloudStorage.objects.filter(pk=storage.pk).update(sync_status="queued")
            transaction.on_commit(lambda: tasks.storage_sync.delay(storage.pk))
        storage.refresh_from_db()
        return Response(StorageSerializer(storage).data, status=status.HTTP_202_ACCEPTED)


# --- model backends ---------------------------------------------------------------------------


class BackendSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelBackend
        fields = [
            "id",
            "project",
            "title",
            "url",
            "is_active",
            "pre_annotate",
            "predict_timeout_ms",
            "batch_size",
            "train_every",
            "health",
            "health_message",
            "health_checked_at",
            "model_version",
            "training",
            "training_message",
            "trained_at",
            "resolved_since_training",
            "last_error",
            "last_error_at",
            "predictions_made",
            "predictions_refused",
        ]
        read_only_fields = [
            "id",
            "project",
            "health",
            "health_message",
            "health_checked_at",
            "model_version",
            "training",
            "training_message",
            "trained_at",
            "resolved_since_training",
            "last_error",
            "last_error_at",
            "predictions_made",
            "predictions_refused",
        ]


class ProjectBackendsViewSet(viewsets.GenericViewSet):
    lookup_value_converter = "row_id"
    project_from = PROJECT_IN_URL
    project_roles = {"model_backends": LEAD_ONLY}
    serializer_class = BackendSerializer

    @extend_schema(request=BackendSerializer, responses={201: BackendSerializer})
    @action(detail=True, methods=["get", "post"], url_path="model-backends")
    def model_backends(self, request: Request, pk=None):
        """Leads: the project's model backends, or connect one (Label Studio ML protocol)."""
        project = request.project
        if request.method == "GET":
            rows = ModelBackend.objects.filter(project=project).order_by("id")
            return Response(BackendSerializer(rows, many=True).data)
        serializer = BackendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            backend = backends.backend_create(project=project, fields=serializer.validated_data)
        except backends.BackendRefused as exc:
            return refused(exc)
        return Response(BackendSerializer(backend).data, status=status.HTTP_201_CREATED)


class BackendViewSet(viewsets.GenericViewSet):
    lookup_value_converter = "row_id"
    project_from = ProjectInUrl(of=ModelBackend)
    project_roles = {
        "retrieve": LEAD_ONLY,
        "partial_update": LEAD_ONLY,
        "destroy": LEAD_ONLY,
        "check": LEAD_ONLY,
        "train": LEAD_ONLY,
        "predict": LEAD_ONLY,
    }
    serializer_class = BackendSerializer
    queryset = ModelBackend.objects.all()

    def retrieve(self, request: Request, pk=None):
        return Response(BackendSerializer(self.get_object()).data)

    def partial_update(self, request: Request, pk=None):
        backend = self.get_object()
        serializer = BackendSerializer(backend, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        try:
            backend = backends.backend_update(backend=backend, fields=serializer.validated_data)
        except backends.BackendRefused as exc:
            return refused(exc)
        return Response(BackendSerializer(backend).data)

    def destroy(self, request: Request, pk=None):
        self.get_object().delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: BackendSerializer})
    @action(detail=True, methods=["post"])
    def check(self, request: Request, pk=None):
        """Check the backend's health now (GET /health) and call /setup again."""
        backend = self.get_object()
        if backends.backend_health_check(backend=backend) == ModelBackend.Health.UP:
            backends.backend_setup(backend=backend)
        backend.refresh_from_db()
        return Response(BackendSerializer(backend).data)

    @extend_schema(request=None, responses={202: BackendSerializer})
    @action(detail=True, methods=["post"])
    def train(self, request: Request, pk=None):
        """Ask the backend to train on the project's resolved labels (in the background)."""
        backend = self.get_object()
        with transaction.atomic():
            ModelBackend.objects.filter(pk=backend.pk).update(
                training=ModelBackend.Training.REQUESTED, training_message=""
            )
            transaction.on_commit(lambda: tasks.backend_train.delay(backend.pk))
        backend.refresh_from_db()
        return Response(BackendSerializer(backend).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: BackendSerializer})
    @action(detail=True, methods=["post"])
    def predict(self, request: Request, pk=None):
        """Pre-annotate every item of the project that has no prediction yet, in batches."""
        backend = self.get_object()
        with transaction.atomic():
            backends_hooks.items_queue_for_prediction(backend=backend)
        return Response(BackendSerializer(backend).data, status=status.HTTP_202_ACCEPTED)
