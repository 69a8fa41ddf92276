"""REST API of monitoring under /api/projects/{id}/monitor/ (thin: each view calls a service)."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.dateparse import parse_datetime
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from labeling.monitor.conditions import ConditionError, condition_check
from labeling.monitor.event_pages import EventPagination, newest_event_hour_end
from labeling.monitor.events import EventsRefused, actuals_record, events_ingest
from labeling.monitor.models import (
    Alert,
    ModelVersion,
    MonitoredModel,
    PredictionEvent,
    RoutingRule,
)
from labeling.monitor.rollups import BUCKETS, metrics_series
from labeling.monitor.rules import DRY_RUN_MAX_DAYS, rule_dry_run
from labeling.monitor.tasks import monitor_rollups_enqueue
from labeling.monitor.uploads import event_upload_create
from projects.access import LEAD_ONLY, REVIEWERS
from projects.api import ImportJobSerializer
from projects.imports.jobs import ImportRefused
from projects.permissions import PROJECT_IN_URL
from projects.tasks import import_job_enqueue


class EventInSerializer(serializers.Serializer):
    """One prediction event (documentation of the bulk call's rows; the service checks them)."""

    event_id = serializers.CharField()
    timestamp = serializers.DateTimeField()
    model_version = serializers.CharField()
    model = serializers.CharField(required=False)
    data = serializers.JSONField()
    result = serializers.JSONField()
    score = serializers.JSONField(
        required=False, help_text="A number in [0, 1] or one per control."
    )
    metadata = serializers.JSONField(required=False)


class ActualSerializer(serializers.Serializer):
    event_id = serializers.CharField()
    result = serializers.JSONField()


class ActualsRecordedSerializer(serializers.Serializer):
    matched = serializers.IntegerField()
    unknown = serializers.ListField(child=serializers.CharField())


class DryRunSerializer(serializers.Serializer):
    days = serializers.IntegerField()
    events = serializers.IntegerField()
    matched = serializers.IntegerField()
    would_route = serializers.IntegerField()
    per_day = serializers.ListField(child=serializers.DictField())


class IngestSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    routed = serializers.IntegerField()


class EventSerializer(serializers.ModelSerializer):
    model_version = serializers.CharField(source="version.version")

    class Meta:
        model = PredictionEvent
        fields = [
            "event_id",
            "timestamp",
            "model_version",
            "data",
            "result",
            "label",
            "score",
            "metadata",
            "rule",
            "baseline",
            "inclusion_probability",
            "actual",
        ]


class RuleSerializer(serializers.ModelSerializer):
    class Meta:
        model = RoutingRule
        fields = [
            "id",
            "name",
            "condition",
            "sample_rate",
            "cap_per_day",
            "cap_per_hour",
            "priority",
            "is_active",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]

    def validate_condition(self, value):
        try:
            condition_check(value)
        except ConditionError as exc:
            raise serializers.ValidationError(str(exc)) from exc
        return value

    def validate_sample_rate(self, value):
        if not 0.0 <= value <= 1.0:
            raise serializers.ValidationError("sample_rate must be between 0 and 1")
        return value


class VersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = ModelVersion
        fields = ["id", "version", "first_seen_at", "notes"]


class ModelSerializer(serializers.ModelSerializer):
    versions = VersionSerializer(many=True, read_only=True)

    class Meta:
        model = MonitoredModel
        fields = ["id", "name", "versions"]


class AlertSerializer(serializers.ModelSerializer):
    model_version = serializers.CharField(source="version.version")

    class Meta:
        model = Alert
        fields = [
            "id",
            "kind",
            "model_version",
            "bucket",
            "bucket_start",
            "message",
            "evidence",
            "created_at",
        ]


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()


def _moment(raw: str | None) -> datetime | None:
    """A query parameter's date-time (UTC unless it says), or None (the filter then refuses
    it as the ORM does)."""
    try:
        moment = parse_datetime(raw) if raw else None
    except ValueError:
        return None
    if moment is not None and moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


def _bulk_refusal(rows, noun: str) -> Response | None:
    if not isinstance(rows, list):
        return Response(
            {"detail": f"The body is a JSON list of {noun}.", "field": "body"},
            status=status.HTTP_400_BAD_REQUEST,
        )
    return None


class EventsView(APIView):
    project_from = PROJECT_IN_URL
    project_roles = {"get": REVIEWERS, "post": LEAD_ONLY}

    @extend_schema(
        request=EventInSerializer(many=True),
        responses={201: IngestSerializer},
        operation_id="monitor_events_create",
    )
    def post(self, request: Request, pk):
        """Up to 10,000 events. Any bad line: 400 with `errors` [{line, field: reason}], none
        stored. Resent event_ids are counted as duplicates."""
        project = request.project
        if refusal := _bulk_refusal(request.data, "events"):
            return refusal
        try:
            report = events_ingest(project=project, raw_events=request.data)
        except EventsRefused as exc:
            return Response(
                {"detail": str(exc), "errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST
            )
        return Response(report.as_json(), status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter("model_version", str),
            OpenApiParameter("since", str, description="ISO 8601"),
            OpenApiParameter("until", str, description="ISO 8601"),
            OpenApiParameter("rule", int),
            OpenApiParameter("routed", bool),
            OpenApiParameter("label", str),
        ],
        responses={
            200: inline_serializer(
                name="PredictionEventPage",
                fields={
                    "next": serializers.CharField(allow_null=True),
                    "previous": serializers.CharField(allow_null=True),
                    "results": EventSerializer(many=True),
                },
            )
        },
        operation_id="monitor_events_list",
    )
    def get(self, request: Request, pk):
        project = request.project
        events = PredictionEvent.objects.filter(project=project).select_related("version")
        params = request.query_params
        since, until = _moment(params.get("since")), _moment(params.get("until"))
        for name, lookup, parsed in (
            ("model_version", "version__version", None),
            ("label", "label", None),
            ("since", "timestamp__gte", since),
            ("until", "timestamp__lt", until),
            ("rule", "rule_id", None),
        ):
            if params.get(name):  # an unparsed date-time: the ORM's refusal, a 400
                events = events.filter(**{lookup: parsed or params[name]})
        if params.get("routed") in ("true", "1"):
            events = events.filter(inclusion_probability__gt=0).exclude(
                rule__isnull=True, baseline=False
            )

        def top():  # read only for a first page
            bounds = [m for m in (until, newest_event_hour_end(project.pk)) if m is not None]
            return min(bounds, default=None)

        paginator = EventPagination(top=top, since=since)
        page = paginator.paginate_queryset(events, request, view=self)
        return paginator.get_paginated_response(EventSerializer(page, many=True).data)


class EventUploadView(APIView):
    project_from = PROJECT_IN_URL
    project_roles = {"post": LEAD_ONLY}

    @extend_schema(
        request={"multipart/form-data": UploadSerializer}, responses={202: ImportJobSerializer}
    )
    def post(self, request: Request, pk):
        """A JSONL file of events, ingested as a job (state at /api/imports/{id}/, bad lines at
        .../errors/)."""
        project = request.project
        upload = UploadSerializer(data=request.data)
        upload.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                job = event_upload_create(
                    project=project, user=request.user, upload=upload.validated_data["file"]
                )
                import_job_enqueue(job.pk)
        except ImportRefused as exc:
            return Response({"detail": str(exc), "field": "file"}, status=400)
        body = ImportJobSerializer(job, context={"request": request}).data
        return Response(body, status=status.HTTP_202_ACCEPTED)


class ActualsView(APIView):
    project_from = PROJECT_IN_URL
    project_roles = {"post": LEAD_ONLY}

    @extend_schema(request=ActualSerializer(many=True), responses={200: ActualsRecordedSerializer})
    def post(self, request: Request, pk):
        """[{event_id, result}]: business outcomes joined to their events; answers
        {matched, unknown}. A malformed line: 400, nothing stored."""
        project = request.project
        if refusal := _bulk_refusal(request.data, "actuals"):
            return refusal
        try:
            with transaction.atomic():
                body = actuals_record(project=project, raw_actuals=request.data)
                monitor_rollups_enqueue(project.pk)
        except EventsRefused as exc:
            return Response({"detail": str(exc), "errors": exc.errors}, status=400)
        return Response(body)


class RulesView(APIView):
    project_from = PROJECT_IN_URL
    project_roles = {"get": REVIEWERS, "post": LEAD_ONLY}

    @extend_schema(responses={200: RuleSerializer(many=True)}, operation_id="monitor_rules_list")
    def get(self, request: Request, pk):
        project = request.project
        rules = RoutingRule.objects.filter(project=project)
        return Response(RuleSerializer(rules, many=True).data)

    @extend_schema(request=RuleSerializer, responses={201: RuleSerializer})
    def post(self, request: Request, pk):
        project = request.project
        serializer = RuleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        serializer.save(project=project)
        return Response(serializer.data, status=status.HTTP_201_CREATED)


def _rule(request: Request, rule_pk) -> RoutingRule:
    rule = get_object_or_404(RoutingRule, project=request.project, pk=rule_pk)
    rule.project = request.project
    return rule


class RuleView(APIView):
    project_from = PROJECT_IN_URL
    project_roles = {"get": REVIEWERS, "patch": LEAD_ONLY, "delete": LEAD_ONLY}

    @extend_schema(responses={200: RuleSerializer}, operation_id="monitor_rule_read")
    def get(self, request: Request, pk, rule_pk):
        return Response(RuleSerializer(_rule(request, rule_pk)).data)

    @extend_schema(request=RuleSerializer, responses={200: RuleSerializer})
    def patch(self, request: Request, pk, rule_pk):
        rule = _rule(request, rule_pk)
        serializer = RuleSerializer(rule, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        serializer.save()
        return Response(serializer.data)

    @extend_schema(responses={204: None})
    def delete(self, request: Request, pk, rule_pk):
        rule = _rule(request, rule_pk)
        rule.delete()
        return Response(status=status.HTTP_204_NO_CONTENT)


class RuleDryRunView(APIView):
    project_from = PROJECT_IN_URL
    project_roles = {"get": LEAD_ONLY}

    @extend_schema(parameters=[OpenApiParameter("days", int)], responses={200: DryRunSerializer})
    def get(self, request: Request, pk, rule_pk):
        """How many of the last `days` days' events the rule would route."""
        rule = _rule(request, rule_pk)
        days = request.query_params.get("days", "7")
        if not days.isdigit() or not 1 <= int(days) <= DRY_RUN_MAX_DAYS:
            return Response(
                {"detail": f"days: a whole number from 1 to {DRY_RUN_MAX_DAYS}.", "field": "days"},
                status=400,
            )
        return Response(rule_dry_run(rule=rule, days=int(days)))


class MetricsView(APIView):
    project_from = PROJECT_IN_URL
    project_roles = {"get": REVIEWERS}

    @extend_schema(
        parameters=[
            OpenApiParameter("model_version", str),
            OpenApiParameter("bucket", str, enum=list(BUCKETS)),
            OpenApiParameter("since", str),
            OpenApiParameter("until", str),
            OpenApiParameter(
                "details",
                bool,
                description="confusion, classes, calibration, segments (default true)",
            ),
        ],
        responses={200: dict},
    )
    def get(self, request: Request, pk):
        """The rollups: {"series": [{model_version, bucket_start, n, accuracy, ci_low, ci_high,
        weighted_accuracy, weighted_ci_low, weighted_ci_high, ece, psi, ...}]}."""
        project = request.project
        params = request.query_params
        bucket = params.get("bucket", "day")
        if bucket not in BUCKETS:
            return Response(
                {"detail": "bucket: one of hour, day, week.", "field": "bucket"}, status=400
            )
        times = {}
        for name in ("since", "until"):
            if params.get(name):
                value = serializers.DateTimeField().to_internal_value
                try:
                    times[name] = value(params[name])
                except serializers.ValidationError:
                    return Response(
                        {"detail": f"{name}: an ISO 8601 date-time.", "field": name}, status=400
                    )
        series = metrics_series(
            project=project,
            bucket=bucket,
            model_version=params.get("model_version"),
            details=params.get("details", "true").lower() not in ("false", "0", "no"),
            **times,
        )
        return Response({"series": series})


class RollupsRefreshView(APIView):
    project_from = PROJECT_IN_URL
    project_roles = {"post": LEAD_ONLY}

    @extend_schema(request=None, responses={202: dict})
    def post(self, request: Request, pk):
        """Fold new resolutions into the rollups now (a worker does it; also periodic)."""
        project = request.project
        with transaction.atomic():
            monitor_rollups_enqueue(project.pk)
        return Response({"detail": "queued"}, status=status.HTTP_202_ACCEPTED)


class AlertsView(APIView):
    project_from = PROJECT_IN_URL
    project_roles = {"get": REVIEWERS}

    @extend_schema(responses={200: AlertSerializer(many=True)})
    def get(self, request: Request, pk):
        project = request.project
        alerts = Alert.objects.filter(project=project).select_related("version")[:500]
        return Response(AlertSerializer(alerts, many=True).data)


class ModelsView(APIView):
    project_from = PROJECT_IN_URL
    project_roles = {"get": REVIEWERS}

    @extend_schema(responses={200: ModelSerializer(many=True)})
    def get(self, request: Request, pk):
        project = request.project
        models = MonitoredModel.objects.filter(project=project).prefetch_related("versions")
        return Response(ModelSerializer(models, many=True).data)
