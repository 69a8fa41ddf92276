"""The data manager's API (thin): the item table with its filters and sorts, and bulk jobs."""

from django.db import transaction
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from labeling.datamanager.bulk import (
    BulkRefused,
    item_bulk_job_cancel,
    item_bulk_job_create,
    item_bulk_job_run,
    item_bulk_job_runs_inline,
)
from labeling.datamanager.query import (
    MAX_PAGE_SIZE,
    ItemFilter,
    ItemFilterError,
    item_rows_describe,
    items_table_page,
)
from labeling.datamanager.tasks import item_bulk_job_enqueue
from labeling.models import ItemBulkJob
from projects.access import LEAD_ONLY, REVIEWERS
from projects.api import ItemRowSerializer, ItemsCreatedSerializer, items_add_response
from projects.media import MediaLinks
from projects.models import Item
from projects.permissions import PROJECT_IN_URL, ProjectInUrl


class ItemTableResolutionSerializer(serializers.Serializer):
    result = serializers.JSONField()
    method = serializers.CharField()
    state = serializers.CharField()


class ItemTablePredictionSerializer(serializers.Serializer):
    result = serializers.JSONField()
    model_version = serializers.CharField()
    score = serializers.FloatField(allow_null=True)


class ItemTableRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    external_id = serializers.CharField()
    data = serializers.JSONField()
    preview = serializers.CharField(help_text="The start of the item's text.")
    thumbnail = serializers.CharField(allow_null=True, help_text="Image thumbnail URL, if any.")
    status = serializers.ChoiceField(choices=Item.Status.choices)
    answers = serializers.IntegerField()
    wanted = serializers.IntegerField(help_text="Answers wanted: overlap plus extra slots.")
    agreement = serializers.FloatField(allow_null=True)
    resolution = ItemTableResolutionSerializer(allow_null=True)
    prediction = ItemTablePredictionSerializer(allow_null=True, help_text="The newest one.")
    gold = serializers.JSONField(allow_null=True)
    priority = serializers.IntegerField()
    created_at = serializers.DateTimeField()


class ItemTablePageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True)
    ordering = serializers.CharField()
    not_searchable = serializers.IntegerField(
        help_text="With `search`: the project's items search does not find yet, as they are "
        "still being indexed after an import (0 without a search)."
    )
    results = ItemTableRowSerializer(many=True)


class SelectionSerializer(serializers.Serializer):
    ids = serializers.ListField(child=serializers.IntegerField(), required=False)
    query = serializers.CharField(
        required=False, help_text="The list's filters as a query string, e.g. status=resolved"
    )


class BulkActionSerializer(serializers.Serializer):
    """Documents the body; the service checks it and names each bad field."""

    action = serializers.ChoiceField(choices=ItemBulkJob.Action.choices)
    params = serializers.DictField(
        required=False,
        help_text=(
            'set_priority: {"priority": n}; set_gold: {"answer": result}; '
            'requeue: {"answers": n more}; the others take none'
        ),
    )
    selection = SelectionSerializer()


class ItemBulkJobSerializer(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = ItemBulkJob
        fields = [
            "id",
            "project",
            "action",
            "params",
            "selection",
            "status",
            "selected_count",
            "processed_count",
            "changed_count",
            "skipped_count",
            "batch_count",
            "report",
            "message",
            "created_by",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


def _refusal(errors: dict) -> Response:
    return Response(errors, status=status.HTTP_400_BAD_REQUEST)


class ItemTableViewSet(viewsets.GenericViewSet):
    """`/api/projects/{id}/items/`: the data manager's table (GET), adding items (POST)."""

    lookup_value_converter = "row_id"
    project_from = PROJECT_IN_URL
    project_roles = {
        "table": REVIEWERS,
        "create": LEAD_ONLY,
        "bulk": LEAD_ONLY,
        "bulk_jobs": LEAD_ONLY,
    }

    queryset = Item.objects.none()  # the schema's filters; the list is the service's
    filter_backends = [DjangoFilterBackend]
    filterset_class = ItemFilter
    pagination_class = None
    serializer_class = ItemRowSerializer  # what POST takes; OPTIONS describes it

    @extend_schema(
        parameters=[
            OpenApiParameter("cursor", str, description="The `next` link's cursor."),
            OpenApiParameter("size", int, description=f"Rows per page, 1-{MAX_PAGE_SIZE}."),
        ],
        responses={200: ItemTablePageSerializer},
        filters=True,
    )
    def table(self, request: Request, pk=None):
        """Leads and reviewers: the project's items, filtered, searched, sorted, keyset-paged."""
        project = request.project
        try:
            page = items_table_page(project=project, params=request.query_params)
        except ItemFilterError as exc:
            return _refusal(exc.errors)
        rows = item_rows_describe(project=project, items=page.items)
        links = MediaLinks(project.pk)
        for row, item in zip(rows, page.items, strict=True):
            row["data"] = links.data(item.data)
        next_url = None
        if page.next_cursor:
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", page.next_cursor)
        body = {
            "next": next_url,
            "ordering": str(page.ordering),
            "not_searchable": page.not_searchable,
            "results": rows,
        }
        return Response(ItemTablePageSerializer(body).data)

    @extend_schema(
        request=ItemRowSerializer(many=True),
        responses={201: ItemsCreatedSerializer},
        filters=False,
    )
    def create(self, request: Request, pk=None):
        """Leads: add up to 10,000 items in one call."""
        return items_add_response(request, request.project)

    @extend_schema(
        request=BulkActionSerializer,
        responses={202: ItemBulkJobSerializer, 200: ItemBulkJobSerializer},
        filters=False,
    )
    def bulk(self, request: Request, pk=None):
        """Leads: act on a selection of items. Small selections are done at once (200, the
        finished job); larger ones run in a worker (202, the job to poll)."""
        project = request.project
        body = request.data if isinstance(request.data, dict) else {}
        try:
            job = item_bulk_job_create(
                project=project,
                user=request.user,
                action=body.get("action"),
                params=body.get("params"),
                selection=body.get("selection"),
            )
        except BulkRefused as exc:
            return _refusal(exc.errors)
        if item_bulk_job_runs_inline(job):
            job = item_bulk_job_run(job_id=job.pk)
            return Response(ItemBulkJobSerializer(job).data, status=status.HTTP_200_OK)
        item_bulk_job_enqueue(job=job)
        return Response(ItemBulkJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: ItemBulkJobSerializer(many=True)}, filters=False)
    def bulk_jobs(self, request: Request, pk=None):
        """Leads: the project's bulk jobs, newest first (the last 50)."""
        project = request.project
        jobs = ItemBulkJob.objects.filter(project=project).select_related("created_by")[:50]
        return Response(ItemBulkJobSerializer(jobs, many=True).data)


class ItemBulkJobViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """`/api/item-bulk-jobs/{id}/`: a bulk job's state and counts; cancel it."""

    lookup_value_converter = "row_id"
    project_from = ProjectInUrl(of=ItemBulkJob)
    project_roles = {"retrieve": LEAD_ONLY, "cancel": LEAD_ONLY}

    serializer_class = ItemBulkJobSerializer
    queryset = ItemBulkJob.objects.select_related("created_by")

    @extend_schema(request=None, responses={200: ItemBulkJobSerializer})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk=None):
        """Stop after the batch under way; the batches done stay done."""
        job = self.get_object()
        with transaction.atomic():
            item_bulk_job_cancel(job=job)
        job.refresh_from_db()
        return Response(ItemBulkJobSerializer(job).data)
