"""REST API for review and quality (thin): the review queue, reviewer decisions, agreement.

Kept apart from labeling/api.py (the annotator's queue) so that each file has one job; the
routes are registered in labeling/web/urls.py next to the others.
"""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from labeling.consensus.refresh import project_resolutions_refresh
from labeling.consensus.review import (
    ReviewRefused,
    item_send_back,
    resolution_accept,
    resolution_edit,
    review_next,
    review_packet,
)
from labeling.models import Annotation, Resolution
from labeling.quality.report import project_quality_cached
from projects import access
from projects.access import project_for
from projects.api import ItemSerializer
from projects.label_schema import ResultError
from projects.models import Item, Project


class ResolutionRecordSerializer(serializers.ModelSerializer):
    # null for resolutions no reviewer made (unanimous, majority, Dawid-Skene).
    reviewer = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = Resolution
        fields = [
            "id",
            "result",
            "method",
            "state",
            "agreement",
            "reviewer",
            "reason",
            "details",
            "accepted_annotation",
            "is_current",
            "created_at",
        ]


class ReviewAnswerSerializer(serializers.Serializer):
    annotation = serializers.IntegerField()
    annotator = serializers.CharField()
    result = serializers.JSONField()
    lead_time = serializers.FloatField()


class ReviewPacketSerializer(serializers.Serializer):
    item = ItemSerializer()
    answers = ReviewAnswerSerializer(many=True)
    proposal = ResolutionRecordSerializer(allow_null=True)
    disagreements = serializers.ListField(child=serializers.CharField())
    history = ResolutionRecordSerializer(many=True)
    label_schema = serializers.JSONField()


class ResolutionActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["accept", "edit", "send_back"])
    annotation = serializers.IntegerField(required=False, help_text="For accept: whose answer.")
    result = serializers.JSONField(required=False, help_text="For edit: the final answer.")

    def validate(self, attrs):
        if attrs["action"] == "accept" and "annotation" not in attrs:
            raise serializers.ValidationError({"annotation": "accept names the annotation."})
        if attrs["action"] == "edit" and "result" not in attrs:
            raise serializers.ValidationError({"result": "edit sends the final result."})
        return attrs


def _reviewable_item(request: Request, pk) -> Item:
    item = get_object_or_404(Item.objects.select_related("project"), pk=pk)
    access.project_check_role(user=request.user, project=item.project, allowed=access.REVIEWERS)
    return item


class ReviewQueueViewSet(viewsets.ViewSet):
    """A project's review queue and its quality numbers (leads and reviewers)."""

    lookup_value_converter = "row_id"

    queryset = Project.objects.none()  # only for the schema's path parameter type

    @extend_schema(
        parameters=[OpenApiParameter("after", int, description="Pass over items up to this id.")],
        responses={200: ReviewPacketSerializer, 204: OpenApiResponse(description="Queue empty.")},
    )
    @action(detail=True, methods=["get"], url_path="review/next")
    def review_next(self, request: Request, pk=None):
        project = project_for(request, pk, access.REVIEWERS)
        after = request.query_params.get("after")
        item = review_next(
            project=project,
            reviewer=request.user,
            after=int(after) if after and after.isdigit() else None,
        )
        if item is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(ReviewPacketSerializer(review_packet(item=item)).data)

    @extend_schema(
        request=None,
        responses={200: OpenApiResponse(description='{"re_resolved": number of items}')},
    )
    @action(detail=True, methods=["post"], url_path="resolutions/refresh")
    def resolutions_refresh(self, request: Request, pk=None):
        """Dawid-Skene projects: re-resolve items with the model fitted on the whole project."""
        project = project_for(request, pk, access.LEAD_ONLY)
        return Response({"re_resolved": project_resolutions_refresh(project=project)})

    @extend_schema(responses={200: OpenApiResponse(description="Agreement and quality numbers.")})
    @action(detail=True, methods=["get"])
    def agreement(self, request: Request, pk=None):
        project = project_for(request, pk, access.REVIEWERS)
        return Response(project_quality_cached(project=project))


class ItemReviewViewSet(viewsets.GenericViewSet):
    """Reviewer decisions on one item."""

    lookup_value_converter = "row_id"

    queryset = Item.objects.all()
    serializer_class = ResolutionActionSerializer

    @extend_schema(responses={200: ReviewPacketSerializer})
    @action(detail=True, methods=["get"])
    def review(self, request: Request, pk=None):
        """Every answer to the item side by side, the proposal and the resolution history."""
        item = _reviewable_item(request, pk)
        return Response(ReviewPacketSerializer(review_packet(item=item)).data)

    @extend_schema(request=ResolutionActionSerializer, responses={201: ResolutionRecordSerializer})
    @action(detail=True, methods=["post"])
    def resolution(self, request: Request, pk=None):
        """accept one annotation's answer, edit (save the reviewer's answer), or send_back."""
        item = _reviewable_item(request, pk)
        payload = ResolutionActionSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        try:
            if data["action"] == "accept":
                annotation = Annotation.objects.filter(pk=data["annotation"], item=item).first()
                if annotation is None:
                    return Response(
                        {"annotation": "No such annotation on this item."},
                        status=status.HTTP_400_BAD_REQUEST,
                    )
                resolution = resolution_accept(
                    item=item, reviewer=request.user, annotation=annotation
                )
            elif data["action"] == "edit":
                resolution = resolution_edit(
                    item=item, reviewer=request.user, result=data["result"]
                )
            else:
                resolution = item_send_back(item=item, reviewer=request.user)
        except ResultError as exc:
            return Response({"result": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        except ReviewRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(ResolutionRecordSerializer(resolution).data, status=status.HTTP_201_CREATED)
