"""REST API for exports (thin)."""

from django.http import StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from exports.downloads import DIRECT_FORMATS, download_open
from projects import access
from projects.api import project_for
from projects.models import Project


def streamed(download) -> StreamingHttpResponse:
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in download.lines), content_type=download.content_type
    )
    response["Content-Disposition"] = f'attachment; filename="{download.filename}"'
    return response


class ProjectDownloadViewSet(viewsets.ViewSet):
    queryset = Project.objects.none()  # only for the schema's path parameter type

    @extend_schema(
        parameters=[
            OpenApiParameter("format", enum=list(DIRECT_FORMATS), default="jsonl"),
            OpenApiParameter("only_resolved", bool, default=True),
        ],
        responses={(200, "application/octet-stream"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk=None):
        """Stream the labeled set now (leads): JSONL or CSV."""
        project = project_for(request, pk, access.LEAD_ONLY)
        format = request.query_params.get("format", "jsonl")
        only_resolved = request.query_params.get("only_resolved", "true").lower() != "false"
        try:
            download = download_open(project=project, format=format, only_resolved=only_resolved)
        except ValueError as exc:
            return Response({"format": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return streamed(download)
