"""REST API for projects, members and items, and the caller's API tokens (thin: the work is in
the service modules)."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.http import Http404, HttpResponse, StreamingHttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from projects import access
from projects.access import EVERY_MEMBER, LEAD_ONLY, PROJECT_CREATORS, SIGNED_IN
from projects.api_tokens import (
    LIFETIME_MAX_DAYS,
    NAME_MAX,
    api_token_create,
    api_token_default_days,
    api_token_revoke,
    api_tokens_of,
)
from projects.event_hooks import event_emit
from projects.imports.formats import FORMATS
from projects.imports.hooks import ANONYMOUS_CHOICES, ANONYMOUS_DISTINCT
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
from projects.label_schema_json import LABEL_SCHEMA_JSON_SCHEMA
from projects.label_studio_config import (
    LabelStudioConfigError,
    label_studio_config_from_schema,
    label_studio_config_to_schema,
)
from projects.media import MediaLinks
from projects.members import (
    MembershipRefused,
    account_create,
    members_with_activity,
    membership_remove,
    membership_set,
)
from projects.models import ApiToken, ImportJob, Item, Membership, Project, ProjectHistory
from projects.permissions import PROJECT_IN_URL, ProjectInUrl
from projects.schema_change import SchemaChangeRefused, project_schema_change, schema_change_check
from projects.tasks import import_job_enqueue, items_refile_if_reordered
from projects.unstorable import NUL_CHOICES, NUL_REFUSE


@extend_schema_field(LABEL_SCHEMA_JSON_SCHEMA)
class LabelSchemaField(serializers.JSONField):
    """The label contract (see projects.label_schema); documented by its JSON Schema."""


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": {"type": "object", "additionalProperties": {"type": "string"}},
        "example": {"sentiment": {"pos": "positive"}},
    }
)
class LabelRenamesField(serializers.JSONField):
    """{control: {old label: new label}}: stored results move to the new labels."""


def schema_refusal(exc: SchemaChangeRefused) -> Response:
    """400 naming the field, with the orphaned counts as numbers (a ValidationError would turn
    them into strings)."""
    body: dict = {field: [message] for field, message in exc.errors.items()}
    if exc.orphaned:
        body["orphaned"] = exc.orphaned
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


class ProjectSerializer(serializers.ModelSerializer):
    role = serializers.SerializerMethodField()
    # Required on create (PATCH may leave it out): a project always has a valid schema.
    label_schema = LabelSchemaField()
    label_renames = LabelRenamesField(
        write_only=True,
        required=False,
        help_text="With label_schema: {control: {old label: new label}}. Answers, drafts, "
        "resolutions, predictions and gold answers using an old label are moved to the new one "
        "in the same transaction, and the change is recorded in the project's history. Without "
        "it, removing a label that stored answers use is refused (400) with their number.",
    )

    class Meta:
        model = Project
        fields = [
            "id",
            "name",
            "instructions",
            "label_schema",
            "overlap",
            "max_overlap",
            "assignment_timeout",
            "ordering",
            "review_policy",
            "auto_accept_threshold",
            "aggregation",
            "gold_share",
            "prefill_predictions",
            "skip_reasons",
            "created_at",
            "role",
            "label_renames",
        ]
        read_only_fields = ["id", "created_at", "role"]
        extra_kwargs = {
            "gold_share": {"min_value": 0.0, "max_value": 1.0},
            "auto_accept_threshold": {"min_value": 0.0, "max_value": 1.0},
            "overlap": {"min_value": 1},
        }

    def validate_skip_reasons(self, value):
        if not isinstance(value, list) or not all(
            isinstance(reason, str) and reason.strip() and len(reason) <= 200 for reason in value
        ):
            raise serializers.ValidationError(
                "skip_reasons is a list of non-empty strings of at most 200 characters."
            )
        return [reason.strip() for reason in value]

    def get_role(self, project: Project) -> str | None:
        return access.project_role(user=self.context["request"].user, project=project)

    def validate_label_schema(self, value):
        try:
            return LabelSchema(value).as_json()
        except SchemaError as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate(self, attrs):
        attrs = super().validate(attrs)
        overlap = attrs.get("overlap", getattr(self.instance, "overlap", 1))
        max_overlap = attrs.get("max_overlap", getattr(self.instance, "max_overlap", 5))
        if max_overlap < overlap:
            raise serializers.ValidationError(
                {"max_overlap": f"must be at least the overlap ({overlap})"}
            )
        if "label_renames" in attrs and "label_schema" not in attrs:
            raise serializers.ValidationError({"label_renames": ["comes with label_schema"]})
        if "label_schema" in attrs:
            # SchemaChangeRefused goes up to the view, which answers it (schema_refusal).
            schema_change_check(
                project=self.instance,
                label_schema=attrs["label_schema"],
                renames=attrs.get("label_renames"),
            )
        return attrs


class MemberSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class MemberRowSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.CharField()
    role = serializers.ChoiceField(choices=Membership.Role.choices)
    joined_at = serializers.DateTimeField()
    last_active_at = serializers.DateTimeField(allow_null=True)
    answers = serializers.IntegerField()
    has_password = serializers.BooleanField(help_text="False until they use their link.")


class RoleSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=Membership.Role.choices)


class AccountSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.EmailField(required=False, allow_blank=True)
    role = serializers.ChoiceField(
        choices=Membership.Role.choices, default=Membership.Role.ANNOTATOR
    )


class NewAccountSerializer(serializers.Serializer):
    username = serializers.CharField()
    email = serializers.CharField()
    role = serializers.CharField()
    set_password_url = serializers.CharField(
        help_text="One-time link to hand over; it stops working once the password is set."
    )
    emailed = serializers.BooleanField(help_text="True when the link was also sent by email.")


class ProjectHistorySerializer(serializers.ModelSerializer):
    changed_by = serializers.CharField(source="changed_by.username", allow_null=True, default=None)

    class Meta:
        model = ProjectHistory
        fields = [
            "id",
            "kind",
            "changed_by",
            "changed_at",
            "before",
            "after",
            "renames",
            "migrated",
        ]
        read_only_fields = fields


class LabelSchemaBodySerializer(serializers.Serializer):
    label_schema = LabelSchemaField()


class SchemaChangeBodySerializer(serializers.Serializer):
    label_schema = LabelSchemaField()
    label_renames = LabelRenamesField(required=False)


class LabelStudioConfigSerializer(serializers.Serializer):
    config = serializers.CharField(
        help_text="A Label Studio <View> label config (XML).", trim_whitespace=False
    )


class ItemSerializer(serializers.Serializer):
    # Declared field by field: a ModelSerializer inspects the model each time it is made, and
    # one is made for every item the queue hands out.
    id = serializers.IntegerField(read_only=True)
    external_id = serializers.CharField(read_only=True)
    data = serializers.JSONField(
        read_only=True,
        help_text="The item's data; the files it refers to as URLs to fetch them by now "
        "(presigned on object storage).",
    )
    status = serializers.ChoiceField(choices=Item.Status.choices, read_only=True)
    priority = serializers.IntegerField(read_only=True)
    width = serializers.IntegerField(read_only=True, allow_null=True)
    height = serializers.IntegerField(read_only=True, allow_null=True)

    def to_representation(self, instance):
        answer = super().to_representation(instance)
        links = getattr(self, "_media_links", None)  # one per project, for a list's items
        if links is None or links.project_id != instance.project_id:
            links = self._media_links = MediaLinks(instance.project_id)
        answer["data"] = links.data(answer["data"])
        return answer


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
            "answers_carried",
            "answers_skipped",
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
    anonymous_answers = serializers.ChoiceField(
        choices=ANONYMOUS_CHOICES,
        default=ANONYMOUS_DISTINCT,
        help_text="Label Studio answers with no annotator: `distinct` anonymous annotators (one "
        "per answer and task) or `refuse` them (a line each in the error report).",
    )
    nul = serializers.ChoiceField(
        choices=NUL_CHOICES,
        default=NUL_REFUSE,
        help_text="A row holding a NUL character (\\u0000, which cannot be stored): `refuse` it "
        "(a line in the error report) or `strip` the NULs and import the row.",
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


def items_add_response(request: Request, project: Project) -> Response:
    """Add up to 10,000 items in one call (`POST /api/projects/{id}/items/`, routed with the
    data manager's list of the same path, labeling.datamanager.api, which checks the role)."""
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


class ProjectViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    lookup_value_converter = "row_id"
    serializer_class = ProjectSerializer
    # delete: only members/{username}/ (projects themselves are not deleted over the API)
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    project_from = PROJECT_IN_URL
    project_roles = {
        "list": SIGNED_IN,  # the list holds only the caller's projects
        "create": PROJECT_CREATORS,
        "retrieve": EVERY_MEMBER,
        "label_studio_config": EVERY_MEMBER,
        "partial_update": LEAD_ONLY,
        "schema_check": LEAD_ONLY,
        "history": LEAD_ONLY,
        "members": LEAD_ONLY,
        "member": LEAD_ONLY,
        "accounts": LEAD_ONLY,
        "imports": LEAD_ONLY,
        "predictions": LEAD_ONLY,
    }

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no caller
            return Project.objects.none()
        return access.projects_visible_to(self.request.user).distinct()

    def get_object(self):
        return self.request.project  # checked by ProjectRolePermission

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        access.project_roles_remember(
            user=self.request.user, projects=page if page is not None else queryset
        )
        return page

    def perform_create(self, serializer):
        serializer.validated_data.pop("label_renames", None)
        with transaction.atomic():
            project = serializer.save(created_by=self.request.user)
            membership_set(project=project, user=self.request.user, role=Membership.Role.LEAD)

    def create(self, request, *args, **kwargs):
        try:
            return super().create(request, *args, **kwargs)
        except SchemaChangeRefused as exc:
            return schema_refusal(exc)

    def update(self, request, *args, **kwargs):
        try:
            return super().update(request, *args, **kwargs)
        except SchemaChangeRefused as exc:
            return schema_refusal(exc)

    def perform_update(self, serializer):
        previous_ordering = serializer.instance.ordering
        new_schema = serializer.validated_data.pop("label_schema", None)
        renames = serializer.validated_data.pop("label_renames", None)
        with transaction.atomic():
            project = serializer.save()
            if new_schema is not None:
                # Checked again under the project's lock: answers may have come since.
                project_schema_change(
                    project=project,
                    label_schema=new_schema,
                    renames=renames,
                    user=self.request.user,
                )
            items_refile_if_reordered(project, previous_ordering)
            event_emit(project_id=project.pk, event="project.updated", ids={"project": project.pk})

    @extend_schema(
        request=SchemaChangeBodySerializer,
        responses={200: LabelSchemaBodySerializer, 400: OpenApiResponse(description="why")},
    )
    @action(detail=True, methods=["post"], url_path="schema-check")
    def schema_check(self, request: Request, pk=None):
        """Check a new schema for this project without saving it: the same 400 as PATCH gives
        (a bad schema, or the answers a removed label would orphan, `orphaned`)."""
        project = request.project
        body = request.data if isinstance(request.data, dict) else {}
        try:
            plan = schema_change_check(
                project=project,
                label_schema=body.get("label_schema"),
                renames=body.get("label_renames"),
            )
        except SchemaError as exc:
            return Response({"label_schema": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        except SchemaChangeRefused as exc:
            return schema_refusal(exc)
        return Response({"label_schema": plan.after.as_json()})

    @extend_schema(responses={200: ProjectHistorySerializer(many=True)})
    @action(detail=True, methods=["get"], serializer_class=ProjectHistorySerializer)
    def history(self, request: Request, pk=None):
        """The project's recorded changes (label schema edits, label renames), newest first."""
        project = request.project
        page = self.paginate_queryset(project.history.select_related("changed_by"))
        return self.get_paginated_response(ProjectHistorySerializer(page, many=True).data)

    @extend_schema(responses={(200, "application/xml"): str})
    @action(detail=True, methods=["get"], url_path="label-studio-config")
    def label_studio_config(self, request: Request, pk=None):
        """The project's schema as a Label Studio <View> config, for a Label Studio project."""
        project = request.project
        try:
            xml = label_studio_config_from_schema(project.label_schema)
        except (SchemaError, LabelStudioConfigError) as exc:
            return Response({"label_schema": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return HttpResponse(xml, content_type="application/xml; charset=utf-8")

    @extend_schema(
        request=MemberSerializer,
        responses={201: MemberSerializer, 200: MemberRowSerializer(many=True)},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        serializer_class=MemberSerializer,
        pagination_class=None,
    )
    def members(self, request: Request, pk=None):
        """List members with their last activity and answer count (leads), or add a member /
        change their role by username."""
        project = request.project
        if request.method == "GET":
            rows = members_with_activity(project=project)
            return Response(MemberRowSerializer(rows, many=True).data)
        serializer = MemberSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = (
            get_user_model().objects.filter(username=serializer.validated_data["username"]).first()
        )
        if user is None:
            return Response({"username": ["No such user."]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            membership_set(project=project, user=user, role=serializer.validated_data["role"])
        except MembershipRefused as exc:
            return Response(_field_errors(exc.errors), status=status.HTTP_400_BAD_REQUEST)
        return Response(serializer.validated_data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RoleSerializer, responses={200: MemberSerializer, 204: None})
    @action(
        detail=True,
        methods=["patch", "delete"],
        url_path="members/<str:username>",
        serializer_class=RoleSerializer,
    )
    def member(self, request: Request, pk=None, username=None):
        """Change a member's role (PATCH {role}) or remove them from the project (DELETE).
        The last lead can be neither demoted nor removed."""
        project = request.project
        membership = (
            project.memberships.select_related("user").filter(user__username=username).first()
        )
        if membership is None:
            raise Http404("No such member.")
        try:
            if request.method == "DELETE":
                membership_remove(project=project, user=membership.user)
                return Response(status=status.HTTP_204_NO_CONTENT)
            serializer = RoleSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            membership_set(
                project=project, user=membership.user, role=serializer.validated_data["role"]
            )
        except MembershipRefused as exc:
            return Response(_field_errors(exc.errors), status=status.HTTP_400_BAD_REQUEST)
        return Response({"username": username, "role": serializer.validated_data["role"]})

    @extend_schema(request=AccountSerializer, responses={201: NewAccountSerializer})
    @action(detail=True, methods=["post"], serializer_class=AccountSerializer)
    def accounts(self, request: Request, pk=None):
        """Create an account (username, optional email) as a member of this project. The answer
        carries a one-time set-password link to hand over; it is also emailed when email is
        configured (EMAIL_HOST)."""
        project = request.project
        serializer = AccountSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            account = account_create(
                username=data["username"],
                email=data.get("email", ""),
                project=project,
                role=data["role"],
                created_by=request.user,
                site_url=request.build_absolute_uri("/").rstrip("/"),
            )
        except MembershipRefused as exc:
            return Response(_field_errors(exc.errors), status=status.HTTP_400_BAD_REQUEST)
        body = {
            "username": account.user.username,
            "email": account.user.email,
            "role": data["role"],
            "set_password_url": request.build_absolute_uri(account.set_password_path),
            "emailed": account.emailed,
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
        project = request.project
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
                    anonymous_answers=upload.validated_data["anonymous_answers"],
                    nul=upload.validated_data["nul"],
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
        project = request.project
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


def _field_errors(errors: dict[str, str]) -> dict[str, list[str]]:
    return {field: [message] for field, message in errors.items()}


class LabelSchemaViewSet(viewsets.ViewSet):
    """The label schema on its own: check one, and convert to and from Label Studio configs."""

    project_roles = {
        "check": SIGNED_IN,
        "from_label_studio": SIGNED_IN,
        "to_label_studio": SIGNED_IN,
    }

    @extend_schema(
        request=LabelSchemaBodySerializer,
        responses={200: LabelSchemaBodySerializer, 400: OpenApiResponse(description="why")},
    )
    @action(detail=False, methods=["post"])
    def check(self, request: Request):
        """Check a schema with the same rules and messages as saving it; answers it normalised
        (labels as objects, defaults filled in)."""
        body = request.data if isinstance(request.data, dict) else {}
        try:
            schema = LabelSchema(body.get("label_schema")).as_json()
        except SchemaError as exc:
            return Response({"label_schema": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"label_schema": schema})

    @extend_schema(request=LabelStudioConfigSerializer, responses={200: LabelSchemaBodySerializer})
    @action(detail=False, methods=["post"], url_path="from-label-studio")
    def from_label_studio(self, request: Request):
        """A Label Studio <View> config as a Quorum schema; 400 names each tag Quorum cannot
        hold (`config`: one message per problem)."""
        serializer = LabelStudioConfigSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            schema = label_studio_config_to_schema(serializer.validated_data["config"])
        except LabelStudioConfigError as exc:
            return Response({"config": exc.problems}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"label_schema": LabelSchema(schema).as_json()})

    @extend_schema(request=LabelSchemaBodySerializer, responses={200: LabelStudioConfigSerializer})
    @action(detail=False, methods=["post"], url_path="to-label-studio")
    def to_label_studio(self, request: Request):
        """A Quorum schema as a Label Studio <View> config."""
        body = request.data if isinstance(request.data, dict) else {}
        try:
            xml = label_studio_config_from_schema(body.get("label_schema"))
        except (SchemaError, LabelStudioConfigError) as exc:
            return Response({"label_schema": [str(exc)]}, status=status.HTTP_400_BAD_REQUEST)
        return Response({"config": xml})


class ImportJobViewSet(mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Import jobs by id: state and counts, cancel, and the error report (leads only)."""

    lookup_value_converter = "row_id"
    project_from = ProjectInUrl(of=ImportJob)
    project_roles = {"retrieve": LEAD_ONLY, "cancel": LEAD_ONLY, "errors": LEAD_ONLY}

    serializer_class = ImportJobSerializer
    queryset = ImportJob.objects.all()

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


# --- API tokens ---------------------------------------------------------------------------------


class ApiTokenSerializer(serializers.ModelSerializer):
    """A token as its owner sees it; the secret is never answered again."""

    prefix = serializers.CharField(read_only=True, help_text="The secret's first characters.")
    state = serializers.ChoiceField(
        choices=ApiToken.State.choices, read_only=True, help_text="Only an active token works."
    )

    class Meta:
        model = ApiToken
        fields = [
            "id",
            "name",
            "prefix",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "state",
        ]
        read_only_fields = fields


class ApiTokenCreateSerializer(serializers.Serializer):
    name = serializers.CharField(
        max_length=NAME_MAX, required=False, default="API token", help_text="What it is for."
    )
    expires_in_days = serializers.IntegerField(
        min_value=1,
        max_value=LIFETIME_MAX_DAYS,
        required=False,
        allow_null=True,
        help_text="Days until it stops working; null: never; left out: the site's default "
        "(API_TOKEN_DAYS).",
    )


class ApiTokenCreatedSerializer(ApiTokenSerializer):
    token = serializers.CharField(
        read_only=True,
        help_text="The secret, shown once: send it as `Authorization: Token <token>`.",
    )

    class Meta(ApiTokenSerializer.Meta):
        fields = [*ApiTokenSerializer.Meta.fields, "token"]
        read_only_fields = fields


def api_token_created_response(*, user, data: dict, status_code: int) -> Response:
    """Make a token from validated ApiTokenCreateSerializer data; answer it with its secret."""
    days = data["expires_in_days"] if "expires_in_days" in data else api_token_default_days()
    token, secret = api_token_create(user=user, name=data["name"], expires_in_days=days)
    answer = ApiTokenCreatedSerializer(token).data
    answer["token"] = secret
    return Response(answer, status=status_code)


class ApiTokenViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """The caller's own API tokens: list (newest first), make one (its secret answered once),
    revoke one. Another user's token is a 404."""

    lookup_value_converter = "row_id"
    project_roles = {
        "list": SIGNED_IN,
        "retrieve": SIGNED_IN,
        "create": SIGNED_IN,
        "destroy": SIGNED_IN,
    }
    serializer_class = ApiTokenSerializer
    queryset = ApiToken.objects.none()  # for the schema; get_queryset answers the caller's

    def get_queryset(self):
        return api_tokens_of(user=self.request.user)

    @extend_schema(request=ApiTokenCreateSerializer, responses={201: ApiTokenCreatedSerializer})
    def create(self, request: Request):
        """Make a token (`name`, `expires_in_days`); the answer's `token` is its secret, shown
        this once."""
        serializer = ApiTokenCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return api_token_created_response(
            user=request.user, data=serializer.validated_data, status_code=status.HTTP_201_CREATED
        )

    @extend_schema(responses={204: None})
    def destroy(self, request: Request, pk=None):
        """Revoke the token: it stops working at once (revoking it again changes nothing)."""
        api_token_revoke(token=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)
