"""REST API for exports (thin): export jobs, their snapshots, and the direct download."""

import json

from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response

from exports.downloads import DIRECT_FORMATS, download_open
from exports.formats import FORMATS
from exports.jobs import export_job_cancel, export_job_create, export_job_pin
from exports.models import ExportJob
from exports.options import BOOLEAN_OPTIONS, OptionsError
from exports.tasks import export_job_enqueue
from projects.access import LEAD_ONLY
from projects.job_queue import broker_refusal
from projects.models import Project
from projects.permissions import PROJECT_IN_URL, ProjectInUrl

OPTION_NAMES = (*BOOLEAN_OPTIONS, "split", "split_seed", "stratify_by", "conll_tokens")


def streamed(download) -> StreamingHttpResponse:
    response = StreamingHttpResponse(download.chunks, content_type=download.content_type)
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return response


class ExportJobSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    progress = serializers.SerializerMethodField()
    filename = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = ExportJob
        fields = [
            "id",
            "project",
            "format",
            "options",
            "status",
            "items_total",
            "items_written",
            "progress",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
            "message",
            "checksum",
            "pinned",
            "filename",
            "download_url",
            "manifest",
        ]
        read_only_fields = fields

    def get_progress(self, job: ExportJob) -> float:
        if job.status == ExportJob.Status.DONE:
            return 1.0
        return min(job.items_written / job.items_total, 1.0) if job.items_total else 0.0

    def get_filename(self, job: ExportJob) -> str:
        return job.manifest.get("filename", "")

    def get_download_url(self, job: ExportJob) -> str | None:
        if job.status != ExportJob.Status.DONE:
            return None
        return f"/api/exports/{job.pk}/download/"


class ExportCreateSerializer(serializers.Serializer):
    """`format` and the options, inside `options` or as top-level keys (checked by the service)."""

    format = serializers.ChoiceField(choices=list(FORMATS))
    options = serializers.DictField(
        required=False,
        help_text=(
            "only_resolved (default true), include_annotations, include_gold, "
            "include_predictions, bundle_images, csv_raw (true/false); "
            "split: [train, validation, test] shares (or '80,10,10'); split_seed: integer; "
            "stratify_by: a control with labels; conll_tokens: conll2003 (default) or label_studio"
        ),
    )


class PinSerializer(serializers.Serializer):
    pinned = serializers.BooleanField(default=True)


def _raw_options(data) -> dict:
    """The options as sent: an object in JSON; in a form, `options` is JSON text."""
    options = data.get("options") or {}
    if isinstance(options, str):
        try:
            options = json.loads(options)
        except ValueError:
            options = None
    if not isinstance(options, dict):
        raise OptionsError({"options": "must be a JSON object of option names and values"})
    raw = dict(options)
    raw.update({name: data[name] for name in OPTION_NAMES if name in data})
    return raw


class ProjectExportViewSet(viewsets.ViewSet):
    """A project's exports (start, list) and its direct download."""

    lookup_value_converter = "row_id"
    project_from = PROJECT_IN_URL
    project_roles = {"download": LEAD_ONLY, "exports": LEAD_ONLY}

    queryset = Project.objects.none()  # only for the schema's path parameter type
    pagination_class = PageNumberPagination  # the export list is paginated (and documented so)

    @extend_schema(
        parameters=[
            OpenApiParameter("format", enum=list(DIRECT_FORMATS), default="jsonl"),
            OpenApiParameter("only_resolved", bool, default=True),
            OpenApiParameter(
                "csv_raw",
                bool,
                default=False,
                description="CSV: leave cells starting with = + - @ as they are (by default "
                "they get a leading ' so that spreadsheets do not run them as formulas)",
            ),
        ],
        responses={
            (200, "application/x-ndjson"): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.BINARY,
        },
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk=None):
        """Stream the labeled set now (leads): JSONL or CSV, no snapshot kept."""
        project = request.project
        format = request.query_params.get("format", "jsonl")
        only_resolved = request.query_params.get("only_resolved", "true").lower() != "false"
        csv_raw = request.query_params.get("csv_raw", "false").lower() == "true"
        try:
            download = download_open(
                project=project, format=format, only_resolved=only_resolved, csv_raw=csv_raw
            )
        except ValueError as exc:
            return Response({"format": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return streamed(download)

    @extend_schema(
        request=ExportCreateSerializer,
        responses={
            202: ExportJobSerializer,
            200: ExportJobSerializer(many=True),
            503: OpenApiResponse(description="The job queue is unreachable; nothing stored."),
        },
    )
    @action(detail=True, methods=["get", "post"])
    def exports(self, request: Request, pk=None):
        """Start an export (leads; 202, a worker writes it), or list the project's exports."""
        project = request.project
        if request.method == "GET":
            paginator = self.pagination_class()
            page = paginator.paginate_queryset(
                project.export_jobs.select_related("created_by"), request, view=self
            )
            return paginator.get_paginated_response(ExportJobSerializer(page, many=True).data)
        body = ExportCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if refusal := broker_refusal():
            return Response({"detail": refusal}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
        try:
            raw_options = _raw_options(request.data)
            job = export_job_create(
                project=project,
                user=request.user,
                format=body.validated_data["format"],
                raw_options=raw_options,
            )
        except OptionsError as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        export_job_enqueue(job=job)
        return Response(ExportJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)


class ExportJobViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_value_converter = "row_id"
    project_from = ProjectInUrl(of=ExportJob)
    project_roles = {
        "retrieve": LEAD_ONLY,
        "download": LEAD_ONLY,
        "manifest": LEAD_ONLY,
        "label_config": LEAD_ONLY,
        "pin": LEAD_ONLY,
        "cancel": LEAD_ONLY,
    }
    serializer_class = ExportJobSerializer
    queryset = ExportJob.objects.select_related("created_by")

    # The content type is the format's (JSON, JSONL, CSV, Parquet, zip...).
    @extend_schema(responses={(200, "*/*"): OpenApiTypes.BINARY})
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk=None):
        """The snapshot's file, streamed, with its content type and file name."""
        job = self.get_object()
        if job.status != ExportJob.Status.DONE or not job.file:
            return Response(
                {"status": [f"The export is {job.status}; only finished exports download."]},
                status=status.HTTP_409_CONFLICT,
            )
        return FileResponse(
            job.file.open("rb"),
            as_attachment=True,
            filename=job.manifest.get("filename") or job.file.name.rsplit("/", 1)[-1],
            content_type=job.manifest.get("content_type") or "application/octet-stream",
        )

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def manifest(self, request: Request, pk=None):
        """Schema, counts, label distribution, options, time and checksum of the snapshot."""
        return Response(self.get_object().manifest)

    @extend_schema(responses={(200, "application/xml"): str})
    @action(detail=True, methods=["get"], url_path="label-config")
    def label_config(self, request: Request, pk=None):
        """A Label Studio JSON export's label config (`<View>` XML): create the Label Studio
        project with it, then import the export's file. 404 for other formats."""
        report = (self.get_object().manifest or {}).get("writer_report") or {}
        if "label_config" not in report:
            raise Http404(report.get("label_config_error") or "This export has no label config.")
        response = HttpResponse(report["label_config"], content_type="application/xml")
        response["Content-Disposition"] = f'attachment; filename="label-config-{pk}.xml"'
        return response

    @extend_schema(request=PinSerializer, responses={200: ExportJobSerializer})
    @action(detail=True, methods=["post"])
    def pin(self, request: Request, pk=None):
        """Pin the snapshot (`{"pinned": true}`) so the retention task never removes its file,
        or unpin it."""
        payload = PinSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        job = export_job_pin(job=self.get_object(), pinned=payload.validated_data["pinned"])
        return Response(ExportJobSerializer(job).data)

    @extend_schema(request=None, responses={200: ExportJobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None):
        """Cancel a queued or running export (a finished one stays as it is)."""
        job = self.get_object()
        export_job_cancel(job=job)
        return Response(ExportJobSerializer(job).data)
