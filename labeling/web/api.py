"""REST API for the queue, annotations and items with their resolutions (thin)."""

from dataclasses import replace

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from labeling.annotate.drafts import DraftRefused, draft_delete, draft_get, draft_save
from labeling.annotate.history import annotation_can_edit, annotations_of_annotator
from labeling.annotate.queue import QueueError, assignment_next, assignment_skip
from labeling.annotate.submit import AnnotationRefused, annotation_submit
from labeling.integrations.backends import backend_predicts, item_predict_on_demand
from labeling.models import Annotation, Assignment, Draft, Resolution
from labeling.quality.annotator_stats import annotator_summary, annotators_summary
from projects.access import EVERY_MEMBER, LABELERS, LEAD_ONLY
from projects.api import ItemSerializer
from projects.items.titles import item_title_of
from projects.label_schema import ResultError
from projects.models import Item, Project
from projects.permissions import PROJECT_IN_URL, ProjectInUrl


class ResolutionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Resolution
        fields = ["result", "method", "agreement", "confidence", "created_at"]


class ItemDetailSerializer(ItemSerializer):
    resolution = serializers.SerializerMethodField()

    @extend_schema_field(ResolutionSerializer(allow_null=True))
    def get_resolution(self, item: Item):
        if item.status != Item.Status.RESOLVED:
            return None
        resolution = item.resolutions.filter(is_current=True).first()
        return ResolutionSerializer(resolution).data if resolution else None


class AssignmentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    expires_at = serializers.DateTimeField(read_only=True)


class PrefillSerializer(serializers.Serializer):
    """The item's newest model prediction, to pre-fill the workspace (never on gold items)."""

    result = serializers.JSONField()
    model_version = serializers.CharField()
    score = serializers.FloatField(allow_null=True)


class ItemTitleSerializer(serializers.Serializer):
    title = serializers.CharField(
        help_text="What a person reads: `Item 12` (its number in the project), with the "
        "external id when the data gave one: `Item 12 (review-0042)`."
    )


class NextItemSerializer(serializers.Serializer):
    assignment = AssignmentSerializer()
    item = ItemSerializer()
    # null unless the project pre-fills predictions and the item has one.
    prediction = PrefillSerializer(allow_null=True)


class MyAnnotationSerializer(serializers.ModelSerializer):
    """One of the caller's answers; `can_edit` until the item is resolved. No gold, ever."""

    item = ItemSerializer()
    can_edit = serializers.SerializerMethodField()

    class Meta:
        model = Annotation
        fields = ["id", "item", "result", "lead_time", "created_at", "updated_at", "can_edit"]

    def get_can_edit(self, annotation: Annotation) -> bool:
        return annotation_can_edit(annotation=annotation)


class MyStatsSerializer(serializers.Serializer):
    annotated = serializers.IntegerField()
    skipped = serializers.IntegerField()
    gold_answered = serializers.IntegerField()
    gold_accuracy = serializers.FloatField(allow_null=True)


class AnnotatorRowSerializer(MyStatsSerializer):
    username = serializers.CharField()
    role = serializers.CharField(allow_null=True)
    served = serializers.IntegerField()
    gold_served = serializers.IntegerField()
    holding = serializers.IntegerField()
    last_active_at = serializers.DateTimeField(allow_null=True)


class AnnotationInputSerializer(serializers.Serializer):
    result = serializers.JSONField()
    lead_time = serializers.FloatField(required=False, default=0.0, min_value=0.0)


class AnnotationSerializer(serializers.Serializer):
    # Declared field by field: a ModelSerializer inspects the model on every answer it renders.
    id = serializers.IntegerField(read_only=True)
    item = serializers.IntegerField(source="item_id", read_only=True)
    result = serializers.JSONField(read_only=True)
    lead_time = serializers.FloatField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class DraftSerializer(serializers.ModelSerializer):
    result = serializers.JSONField()
    lead_time = serializers.FloatField(required=False, default=0.0, min_value=0.0)

    class Meta:
        model = Draft
        fields = ["result", "lead_time", "updated_at"]
        read_only_fields = ["updated_at"]


class SkipSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


ITEM_SQL = f"SELECT * FROM {Item._meta.db_table} WHERE id = %s"


def item_stub_for(request: Request, pk) -> Item:
    """An Item holding only its id and its project (checked by ProjectRolePermission)."""
    return Item(pk=pk, project_id=request.project.pk, project=request.project)


def item_for(request: Request, pk) -> Item:
    """Load the item with its project (404 if it was deleted since it was checked)."""
    stub = item_stub_for(request, pk)
    item = next(iter(Item.objects.raw(ITEM_SQL, [stub.pk])), None)
    if item is None:  # deleted in between
        raise Http404("No such item.")
    item.project = stub.project
    return item


class QueueViewSet(viewsets.GenericViewSet):
    """The annotator's queue within one project."""

    lookup_value_converter = "row_id"
    project_from = PROJECT_IN_URL
    project_roles = {
        "next": LABELERS,
        "my_annotations": LABELERS,
        "my_stats": LABELERS,
        "annotators": LEAD_ONLY,
    }

    queryset = Project.objects.none()  # only for the schema's path parameter type

    @extend_schema(
        responses={200: NextItemSerializer, 204: OpenApiResponse(description="Nothing left.")}
    )
    @action(detail=True, methods=["get"], url_path="next")
    def next(self, request: Request, pk=None):
        project = request.project
        backend_connected = backend_predicts(project=project)
        found = assignment_next(
            project=project,
            annotator=request.user,
            with_prediction=project.prefill_predictions or backend_connected,
        )
        if found is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        if backend_connected and found.prediction is None and not found.assignment.is_gold:
            # The model backend gets its time limit (1 s by default), never more.
            found = replace(found, prediction=item_predict_on_demand(item=found.item))
        return Response(NextItemSerializer(found).data)

    @extend_schema(responses={200: MyAnnotationSerializer(many=True)})
    @action(detail=True, methods=["get"], url_path="my-annotations")
    def my_annotations(self, request: Request, pk=None):
        """The caller's answers in the project, most recently changed first (paginated)."""
        project = request.project
        annotations = annotations_of_annotator(project=project, annotator=request.user)
        page = self.paginate_queryset(annotations)
        return self.get_paginated_response(MyAnnotationSerializer(page, many=True).data)

    @extend_schema(responses={200: MyStatsSerializer})
    @action(detail=True, methods=["get"], url_path="my-stats")
    def my_stats(self, request: Request, pk=None):
        project = request.project
        return Response(annotator_summary(project=project, annotator=request.user))

    @extend_schema(responses={200: AnnotatorRowSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)  # one row per annotator
    def annotators(self, request: Request, pk=None):
        """Leads: each annotator's counts, skips, held items and accuracy on gold items."""
        project = request.project
        return Response(annotators_summary(project=project))


class ItemViewSet(viewsets.GenericViewSet):
    lookup_value_converter = "row_id"
    project_from = ProjectInUrl(of=Item)
    project_roles = {
        "retrieve": EVERY_MEMBER,
        "title": EVERY_MEMBER,
        "annotations": LABELERS,
        "draft": LABELERS,
    }
    queryset = Item.objects.all()
    serializer_class = ItemDetailSerializer

    def retrieve(self, request: Request, pk=None):
        item = item_for(request, pk)
        return Response(ItemDetailSerializer(item).data)

    @extend_schema(responses={200: ItemTitleSerializer})
    @action(detail=True, methods=["get"])
    def title(self, request: Request, pk=None):
        """The item's title. Apart from the queue's answer: counting the item's number costs
        time that grows with the project (projects.items.titles)."""
        item = item_stub_for(request, pk)
        external_id = Item.objects.filter(pk=item.pk).values_list("external_id", flat=True)
        item.external_id = external_id.first() or ""
        return Response({"title": item_title_of(item)})

    @extend_schema(
        request=AnnotationInputSerializer,
        responses={201: AnnotationSerializer, 200: AnnotationSerializer},
    )
    @action(detail=True, methods=["post"], serializer_class=AnnotationInputSerializer)
    def annotations(self, request: Request, pk=None):
        """Submit the caller's answer for the item (or change it, until the item is resolved)."""
        # Only the item's id and project: the submit reads the row itself under its lock.
        item = item_stub_for(request, pk)
        payload = AnnotationInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            annotation, created = annotation_submit(
                item=item,
                annotator=request.user,
                result=payload.validated_data["result"],
                lead_time=payload.validated_data["lead_time"],
            )
        except ResultError as exc:
            return Response({"result": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        except AnnotationRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        except Item.DoesNotExist:  # deleted since its project was read
            raise Http404("No such item.") from None
        code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        return Response(AnnotationSerializer(annotation).data, status=code)

    @extend_schema(
        request=DraftSerializer,
        responses={200: DraftSerializer, 204: OpenApiResponse(description="No draft.")},
    )
    @action(detail=True, methods=["get", "put", "delete"], serializer_class=DraftSerializer)
    def draft(self, request: Request, pk=None):
        """The caller's unfinished answer for the item: read, save (replace) or discard it."""
        item = item_for(request, pk)
        if request.method == "DELETE":
            draft_delete(item=item, annotator=request.user)
            return Response(status=status.HTTP_204_NO_CONTENT)
        if request.method == "GET":
            draft = draft_get(item=item, annotator=request.user)
            if draft is None:
                return Response(status=status.HTTP_204_NO_CONTENT)
            return Response(DraftSerializer(draft).data)
        payload = DraftSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            draft = draft_save(
                item=item,
                annotator=request.user,
                result=payload.validated_data["result"],
                lead_time=payload.validated_data["lead_time"],
            )
        except DraftRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(DraftSerializer(draft).data)


class AssignmentViewSet(viewsets.GenericViewSet):
    lookup_value_converter = "row_id"
    project_from = ProjectInUrl(of=Assignment)
    project_roles = {"skip": LABELERS}
    queryset = Assignment.objects.all()
    serializer_class = AssignmentSerializer

    @extend_schema(request=SkipSerializer, responses={200: AssignmentSerializer})
    @action(detail=True, methods=["post"], serializer_class=SkipSerializer)
    def skip(self, request: Request, pk=None):
        assignment = self.get_object()
        payload = SkipSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            assignment = assignment_skip(
                assignment=assignment,
                annotator=request.user,
                reason=payload.validated_data["reason"],
            )
        except QueueError as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(AssignmentSerializer(assignment).data)
