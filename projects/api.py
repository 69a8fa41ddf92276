"""REST API for projects, members and items (thin: the work is in the service modules)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import StreamingHttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from projects import access
from projects.access import project_for
from projects.imports.formats import FORMATS
from projects.imports.jobs import (
    ImportRefused,
    import_errors_csv,
    import_job_cancel,
    import_job_create,
)
from projects.items.create import items_create
from projects.items.predictions import PredictionsRefused, predictions_create
from projects.job_queue import broker_refusal
from projects.label_schema import LabelSchema, SchemaError
from projects.members import membership_set
from projects.models import ImportJob, Item, Membership, Project
from projects.tasks import import_job_enqueue, items_refile_if_reordered


class ProjectSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "instructions",
            "label_schema",
            "overlap",
            "assignment_timeout",
            "ordering",
            "review_policy",
            "auto_accept_threshold",
            "aggregation",
            "gold_share",
            "prefill_predictions",
            "created_at",
            "role",
        ]
        read_only_fields = ["id", "created_at", "role"]
        # Required on create (PATCH may leave it out): a project always has a valid schema.
        extra_kwargs = {
            "label_schema": {"required": True},
            "gold_share": {"min_value": 0.0, "max_value": 1.0},
            "auto_accept_threshold": {"min_value": 0.0, "max_value": 1.0},
            "overlap": {"min_value": 1},
        }

    def get_role(self, project: Project) -> str | None:
        return access.project_role(user=self.context["request"].user, project=project)

    def validate_label_schema(self, value):
        try:
            return LabelSchema(value).as_json()
        except SchemaError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class MemberSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class ItemSerializer(serializers.Serializer):
    # Declared field by field: a ModelSerializer inspects the model each time it is made, and
    # one is made for every item the queue hands out.
    id = serializers.IntegerField(read_only=True)
    external_id = serializers.CharField(read_only=True)
    data = serializers.JSONField(read_only=True)
    status = serializers.ChoiceField(choices=Item.Status.choices, read_only=True)
    priority = serializers.IntegerField(read_only=True)
    width = serializers.IntegerField(read_only=True, allow_null=True)
    height = serializers.IntegerField(read_only=True, allow_null=True)


class ItemRowSerializer(serializers.Serializer):
    """Documents one element of the bulk item list; rows are checked by projects.items.create."""

    data = serializers.DictField()
    external_id = serializers.CharField(required=False)
    priority = serializers.IntegerField(required=False)
    gold = serializers.DictField(required=False)


class PredictionRowSerializer(serializers.Serializer):
    """Documents one element of the bulk prediction list; rows are checked by
    projects.items.predictions (all or nothing: any bad row -> 400 listing each, nothing stored)."""

    item = serializers.IntegerField(required=False, help_text="The item's id, or:")
    external_id = serializers.CharField(required=False)
    model_version = serializers.CharField(required=False)
    result = serializers.JSONField(help_text="In the label contract, like an annotation.")
    score = serializers.FloatField(required=False, allow_null=True)


class PredictionsCreatedSerializer(serializers.Serializer):
    created = serializers.IntegerField()


class ItemsCreatedSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    skipped = serializers.IntegerField()
    failed = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.DictField())


class ImportJobSerializer(serializers.ModelSerializer):
    percent = serializers.FloatField(read_only=True)
    errors_url = serializers.SerializerMethodField()

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "project",
            "status",
            "format",
            "original_name",
            "file_size",
            "rows_read",
            "created_count",
            "skipped_count",
            "failed_count",
            "progress_done",
            "progress_total",
            "percent",
            "chunk_count",
            "message",
            "errors",
            "errors_url",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields

    def get_errors_url(self, job: ImportJob) -> str:
        return self.context["request"].build_absolute_uri(f"/api/imports/{job.pk}/errors/")


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    format = serializers.ChoiceField(choices=sorted(FORMATS), required=False, allow_blank=True)
    mapping = serializers.JSONField(
        required=False,
        help_text='Column mapping, e.g. {"columns": {"body": "text"}, "external_id": "id", '
        '"priority": "prio", "gold": "answer", "prediction": "guess", "model_version": "v2"}.',
    )


def bulk_list_refusal(rows, *, shape: str, noun: str) -> Response | None:
    """The 400 for a bulk body that is not a list or is longer than one call may carry."""
    if not isinstance(rows, list):
        message = f"Send a JSON list of {shape} objects."
    elif len(rows) > settings.ITEMS_PER_API_CALL:
        message = f"At most {settings.ITEMS_PER_API_CALL} {noun} per call."
    else:
        return None
    return Response({"detail": message}, status=status.HTTP_400_BAD_REQUEST)


class ProjectViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_converter = "row_id"
    serializer_class = ProjectSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no caller
            return Project.objects.none()
        return access.projects_visible_to(self.request.user).distinct()

    def get_object(self):
        allowed = access.EVERY_MEMBER if self.request.method == "GET" else access.LEAD_ONLY
        return project_for(self.request, self.kwargs["pk"], allowed)

    def perform_create(self, serializer):
        if not access.user_can_create_projects(self.request.user):
            raise PermissionDenied("Only staff and project leads create projects.")
        with transaction.atomic():
            project = serializer.save(created_by=self.request.user)
            membership_set(project=project, user=self.request.user, role=Membership.Role.LEAD)

    def perform_update(self, serializer):
        previous_ordering = serializer.instance.ordering
        with transaction.atomic():
            project = serializer.save()
            items_refile_if_reordered(project, previous_ordering)

    @extend_schema(request=MemberSerializer, responses={201: MemberSerializer})
    @action(detail=True, methods=["get", "post"], serializer_class=MemberSerializer)
    def members(self, request: Request, pk=None):
        """List members (leads), or add a member / change their role by username."""
        project = project_for(request, pk, access.LEAD_ONLY)
        if request.method == "GET":
            rows = project.memberships.select_related("user").order_by("user__username")
            return Response([{"username": m.user.username, "role": m.role} for m in rows])
        serializer = MemberSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = (
            get_user_model().objects.filter(username=serializer.validated_data["username"]).first()
        )
        if user is None:
            return Response({"username": ["No such user."]}, status=status.HTTP_400_BAD_REQUEST)
        membership_set(project=project, user=user, role=serializer.validated_data["role"])
        return Response(serializer.validated_data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ItemRowSerializer(many=True),
        responses={201: ItemsCreatedSerializer, 200: ItemSerializer(many=True)},
    )
    @action(detail=True, methods=["get", "post"], serializer_class=ItemSerializer)
    def items(self, request: Request, pk=None):
        """List the project's items (leads and reviewers), or add up to 10,000 in one call."""
        if request.method == "GET":
            project = project_for(request, pk, access.REVIEWERS)
            queryset = project.items.order_by("id")
            if state := request.query_params.get("status"):
                queryset = queryset.filter(status=state)
            page = self.paginate_queryset(queryset)
            return self.get_paginated_response(ItemSerializer(page, many=True).data)
        project = project_for(request, pk, access.LEAD_ONLY)
        rows = request.data
        if refusal := bulk_list_refusal(rows, shape="{data, external_id}", noun="items"):
            return refusal
        report = items_create(project=project, raw_rows=enumerate(rows, start=1))
        body = {
            "created": report.created,
            "skipped": report.skipped,
            "failed": report.failed,
            "errors": report.errors,
        }
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            202: ImportJobSerializer,
            200: ImportJobSerializer(many=True),
            503: OpenApiResponse(description="The job queue is unreachable; nothing stored."),
        },
    )
    @action(detail=True, methods=["get", "post"], serializer_class=ImportJobSerializer)
    def imports(self, request: Request, pk=None):
        """List the project's import jobs, or upload a file to import (answers 202 at once)."""
        project = project_for(request, pk, access.LEAD_ONLY)
        if request.method == "GET":
            page = self.paginate_queryset(project.import_jobs.order_by("-created_at", "-id"))
            context = {"request": request}
            return self.get_paginated_response(
                ImportJobSerializer(page, many=True, context=context).data
            )
        upload = ImportUploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        if refusal := broker_refusal():
            return Response({"detail": refusal}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        try:
            with transaction.atomic():
                job = import_job_create(
                    project=project,
                    user=request.user,
                    upload=upload.validated_data["file"],
                    format=upload.validated_data.get("format") or None,
                    mapping=upload.validated_data.get("mapping"),
                )
                import_job_enqueue(job.pk)
        except ImportRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_400_BAD_REQUEST)
        body = ImportJobSerializer(job, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        request=PredictionRowSerializer(many=True),
        responses={201: PredictionsCreatedSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=PredictionRowSerializer)
    def predictions(self, request: Request, pk=None):
        """Add model predictions in bulk (up to ITEMS_PER_API_CALL). All or nothing: if any row
        is bad the answer is 400 with `errors` [{line, item | result: {control: message} | ...}]
        and nothing is stored."""
        project = project_for(request, pk, access.LEAD_ONLY)
        rows = request.data
        shape = "{item or external_id, result, score}"
        if refusal := bulk_list_refusal(rows, shape=shape, noun="predictions"):
            return refusal
        try:
            created = predictions_create(project=project, raw_rows=rows)
        except PredictionsRefused as exc:
            return Response(
                {"detail": str(exc), "errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response({"created": created}, status=status.HTTP_201_CREATED)


class ImportJobViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Import jobs by id: state and counts, cancel, and the error report (leads only)."""

    lookup_value_converter = "row_id"

    serializer_class = ImportJobSerializer
    queryset = ImportJob.objects.select_related("project")

    def get_object(self):
        job = get_object_or_404(self.get_queryset(), pk=self.kwargs["pk"])
        access.project_check_role(
            user=self.request.user, project=job.project, allowed=access.LEAD_ONLY
        )
        return job

    @extend_schema(request=None, responses={200: ImportJobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None):
        job = import_job_cancel(job=self.get_object())
        return Response(ImportJobSerializer(job, context={"request": request}).data)

    @extend_schema(responses={(200, "text/csv"): str})
    @action(detail=True, methods=["get"])
    def errors(self, request: Request, pk=None):
        """Every bad row as CSV: line, reason."""
        job = self.get_object()
        response = StreamingHttpResponse(import_errors_csv(job=job), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
        return response
