"""REST API for review and quality (thin): the review queue, reviewer decisions, agreement.

Kept apart from labeling/api.py (the annotator's queue) so that each file has one job; the
routes are registered in labeling/web/urls.py next to the others.
"""

from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from labeling.annotate.queue import item_send_back_to
from labeling.consensus.fitted_model import consensus_model_current, model_used_by
from labeling.consensus.refresh import consensus_job_create
from labeling.consensus.review import (
    ReviewRefused,
    item_send_back,
    resolution_accept,
    resolution_edit,
    review_left,
    review_next,
    review_packet,
)
from labeling.models import Annotation, ConsensusJob, ConsensusState, Resolution
from labeling.tasks import consensus_job_enqueue, consensus_refit_start, quality_report_served
from projects.access import LEAD_ONLY, REVIEWERS
from projects.api import ItemSerializer
from projects.label_schema import ResultError
from projects.models import Item, Project
from projects.permissions import PROJECT_IN_URL, ProjectInUrl

User = get_user_model()


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
            "confidence",
            "reviewer",
            "reason",
            "details",
            "accepted_annotation",
            "is_current",
            "created_at",
        ]


class ConsensusJobSerializer(serializers.ModelSerializer):
    class Meta:
        model = ConsensusJob
        fields = [
            "id",
            "project",
            "trigger",
            "status",
            "answers_count",
            "items_count",
            "re_resolved_count",
            "model_version",
            "message",
            "created_at",
            "started_at",
            "finished_at",
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
    eligible_annotators = serializers.ListField(
        child=serializers.CharField(),
        help_text="Annotators who have not answered the item: who a send_back can go to.",
    )
    title = serializers.CharField(help_text="The item's number in the project (and its id).")
    review_left = serializers.IntegerField(help_text="Items waiting for review, this one too.")


class ResolutionDoneSerializer(ResolutionRecordSerializer):
    review_left = serializers.SerializerMethodField(
        help_text="Items still waiting for review in the project after this decision."
    )

    class Meta(ResolutionRecordSerializer.Meta):
        fields = [*ResolutionRecordSerializer.Meta.fields, "review_left"]

    def get_review_left(self, resolution: Resolution) -> int:
        return review_left(project=self.context["project"])


class ResolutionActionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["accept", "edit", "send_back"])
    annotation = serializers.IntegerField(required=False, help_text="For accept: whose answer.")
    result = serializers.JSONField(required=False, help_text="For edit: the final answer.")
    annotator = serializers.CharField(
        required=False,
        help_text="For send_back: the username who answers next (the slot is held for them); "
        "without it, any member who has not answered may take it.",
    )

    def validate(self, attrs):
        if attrs["action"] == "accept" and "annotation" not in attrs:
            raise serializers.ValidationError({"annotation": "accept names the annotation."})
        if attrs["action"] == "edit" and "result" not in attrs:
            raise serializers.ValidationError({"result": "edit sends the final result."})
        return attrs


class ReviewQueueViewSet(viewsets.ViewSet):
    """A project's review queue and its quality numbers (leads and reviewers)."""

    lookup_value_converter = "row_id"
    project_from = PROJECT_IN_URL
    project_roles = {
        "review_next": REVIEWERS,
        "resolutions_refresh": LEAD_ONLY,
        "resolutions_refresh_job": REVIEWERS,
        "consensus": REVIEWERS,
        "agreement": REVIEWERS,
    }

    queryset = Project.objects.none()  # only for the schema's path parameter type

    @extend_schema(
        parameters=[OpenApiParameter("after", int, description="Pass over items up to this id.")],
        responses={200: ReviewPacketSerializer, 204: OpenApiResponse(description="Queue empty.")},
    )
    @action(detail=True, methods=["get"], url_path="review/next")
    def review_next(self, request: Request, pk=None):
        project = request.project
        after = request.query_params.get("after")
        item = review_next(
            project=project,
            reviewer=request.user,
            after=int(after) if after and after.isdigit() else None,
        )
        if item is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(ReviewPacketSerializer(review_packet(item=item)).data)

    @extend_schema(request=None, responses={202: ConsensusJobSerializer})
    @action(detail=True, methods=["post"], url_path="resolutions/refresh")
    def resolutions_refresh(self, request: Request, pk=None):
        """Refit the project's model and re-resolve its items, in a worker: poll the job."""
        project = request.project
        if not model_used_by(project):
            return Response(
                {
                    "aggregation": "Only Dawid-Skene projects, or projects with review_policy "
                    "none (their ties are weighed by the model), have a model to refit."
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        job = consensus_job_create(
            project=project, trigger=ConsensusJob.Trigger.REQUEST, user=request.user
        )
        if job is None:  # one is queued already: that one reads every answer when it runs
            job = ConsensusJob.objects.filter(
                project=project, status=ConsensusJob.Status.QUEUED
            ).first()
        else:
            consensus_job_enqueue(job)
        return Response(ConsensusJobSerializer(job).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses={200: ConsensusJobSerializer})
    @action(
        detail=True,
        methods=["get"],
        url_path="resolutions/refresh/<int:job_id>",
        url_name="resolutions-refresh-job",
    )
    def resolutions_refresh_job(self, request: Request, pk=None, job_id=None):
        """A refit job's status (queued, running, done, failed) and counts."""
        project = request.project
        job = get_object_or_404(ConsensusJob, pk=job_id, project=project)
        return Response(ConsensusJobSerializer(job).data)

    @extend_schema(responses={200: OpenApiResponse(description="The stored model's version.")})
    @action(detail=True, methods=["get"])
    def consensus(self, request: Request, pk=None):
        """The project's stored Dawid-Skene model: version, freshness, annotator reliabilities."""
        project = request.project
        state = ConsensusState.objects.filter(pk=project.pk).first()
        model = consensus_model_current(project=project)
        return Response(
            {
                "model_version": model.version,
                "fitted_at": state.fitted_at if state else None,
                "answers_moved_since_fit": (
                    state.answer_changes - state.fitted_changes if state else 0
                ),
                "reliability": {
                    name: {
                        str(int(user_id)): control.reliability(int(user_id))
                        for user_id in control.annotator_ids
                    }
                    for name, control in model.controls.items()
                },
            }
        )

    @extend_schema(responses={200: OpenApiResponse(description="Agreement and quality numbers.")})
    @action(detail=True, methods=["get"])
    def agreement(self, request: Request, pk=None):
        project = request.project
        return Response(quality_report_served(project=project))


class ItemReviewViewSet(viewsets.GenericViewSet):
    """Reviewer decisions on one item."""

    lookup_value_converter = "row_id"
    project_from = ProjectInUrl(of=Item)
    project_roles = {"review": REVIEWERS, "resolution": REVIEWERS}

    queryset = Item.objects.all()
    serializer_class = ResolutionActionSerializer

    @extend_schema(responses={200: ReviewPacketSerializer})
    @action(detail=True, methods=["get"])
    def review(self, request: Request, pk=None):
        """Every answer to the item side by side, the proposal and the resolution history."""
        item = self.get_object()
        return Response(ReviewPacketSerializer(review_packet(item=item)).data)

    @extend_schema(request=ResolutionActionSerializer, responses={201: ResolutionDoneSerializer})
    @action(detail=True, methods=["post"])
    def resolution(self, request: Request, pk=None):
        """accept one annotation's answer, edit (save the reviewer's answer), or send_back."""
        item = self.get_object()
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
            elif "annotator" in data:
                annotator = User.objects.filter(username=data["annotator"]).first()
                if annotator is None:
                    return Response(
                        {"annotator": f"No user named {data['annotator']!r}."},
                        status=status.HTTP_400_BAD_REQUEST,
                    )
                resolution = item_send_back_to(
                    item=item, reviewer=request.user, annotator=annotator
                )
            else:
                resolution = item_send_back(item=item, reviewer=request.user)
        except ResultError as exc:
            return Response({"result": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        except ReviewRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        if data["action"] != "send_back":  # a known answer: the reliabilities move
            consensus_refit_start(
                project=item.project, trigger=ConsensusJob.Trigger.REVIEW, user=request.user
            )
        done = ResolutionDoneSerializer(resolution, context={"project": item.project})
        return Response(done.data, status=status.HTTP_201_CREATED)
