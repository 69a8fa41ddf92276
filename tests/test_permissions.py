"""Authorization in one place (issue 18, part 5): every API route declares the roles of its
actions for projects.permissions.ProjectRolePermission, every project page wears project_page,
and the answers follow one rule: outsiders of a project get 404 (401 without an account) for
anything of it, members without the role 403.

The matrix walks every operation of the OpenAPI schema for each kind of caller; its table of
who may call what must name every operation, so a new endpoint is added here on purpose."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, include, path
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from exports.models import ExportJob
from labeling.integrations.models import (
    CloudStorage,
    ModelBackend,
    Webhook,
    WebhookDelivery,
    WebhookEvent,
)
from labeling.models import Assignment, ConsensusJob, ItemBulkJob
from labeling.monitor.models import RoutingRule
from projects.access import EVERY_MEMBER, LEAD_ONLY, AccountRule
from projects.models import ImportJob, Membership
from projects.permissions import ProjectInUrl, ProjectRolePermission, view_rule
from tests.conftest import api_client_for
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

# Routes with their own permission classes: getting a token, and the API's documentation.
OPEN_VIEWS = {"ThrottledTokenView", "SpectacularAPIView", "ApiDocsView"}

MEMBER_ROLES = ("annotator", "reviewer", "lead")
LEADS = frozenset({"lead"})
REVIEWERS = frozenset({"reviewer", "lead"})
MEMBERS = frozenset(MEMBER_ROLES)
# Calls that name no project: who may make them, among every caller of the matrix.
SIGNED_IN = frozenset({"outsider", "annotator", "reviewer", "lead", "staff", "superuser"})
CREATORS = frozenset({"outsider", "lead", "staff", "superuser"})  # the outsider leads another
STAFF = frozenset({"staff", "superuser"})

WHO_MAY = {
    ("post", "/api/assignments/{id}/skip/"): MEMBERS,
    ("get", "/api/exports/{id}/"): LEADS,
    ("post", "/api/exports/{id}/cancel/"): LEADS,
    ("get", "/api/exports/{id}/download/"): LEADS,
    ("get", "/api/exports/{id}/label-config/"): LEADS,
    ("get", "/api/exports/{id}/manifest/"): LEADS,
    ("post", "/api/exports/{id}/pin/"): LEADS,
    ("get", "/api/imports/{id}/"): LEADS,
    ("post", "/api/imports/{id}/cancel/"): LEADS,
    ("get", "/api/imports/{id}/errors/"): LEADS,
    ("get", "/api/item-bulk-jobs/{id}/"): LEADS,
    ("post", "/api/item-bulk-jobs/{id}/cancel/"): LEADS,
    ("get", "/api/items/{id}/"): MEMBERS,
    ("post", "/api/items/{id}/annotations/"): MEMBERS,
    ("get", "/api/items/{id}/draft/"): MEMBERS,
    ("put", "/api/items/{id}/draft/"): MEMBERS,
    ("delete", "/api/items/{id}/draft/"): MEMBERS,
    ("post", "/api/items/{id}/resolution/"): REVIEWERS,
    ("get", "/api/items/{id}/review/"): REVIEWERS,
    ("get", "/api/items/{id}/title/"): MEMBERS,
    ("post", "/api/label-schema/check/"): SIGNED_IN,
    ("post", "/api/label-schema/from-label-studio/"): SIGNED_IN,
    ("post", "/api/label-schema/to-label-studio/"): SIGNED_IN,
    ("get", "/api/model-backends/{id}/"): LEADS,
    ("patch", "/api/model-backends/{id}/"): LEADS,
    ("delete", "/api/model-backends/{id}/"): LEADS,
    ("post", "/api/model-backends/{id}/check/"): LEADS,
    ("post", "/api/model-backends/{id}/predict/"): LEADS,
    ("post", "/api/model-backends/{id}/train/"): LEADS,
    ("get", "/api/projects/"): SIGNED_IN,
    ("get", "/api/tokens/"): SIGNED_IN,
    ("post", "/api/tokens/"): SIGNED_IN,
    ("post", "/api/projects/"): CREATORS,
    ("get", "/api/projects/{id}/"): MEMBERS,
    ("patch", "/api/projects/{id}/"): LEADS,
    ("post", "/api/projects/{id}/accounts/"): LEADS,
    ("get", "/api/projects/{id}/agreement/"): REVIEWERS,
    ("get", "/api/projects/{id}/annotators/"): LEADS,
    ("get", "/api/projects/{id}/consensus/"): REVIEWERS,
    ("get", "/api/projects/{id}/download/"): LEADS,
    ("get", "/api/projects/{id}/exports/"): LEADS,
    ("post", "/api/projects/{id}/exports/"): LEADS,
    ("get", "/api/projects/{id}/history/"): LEADS,
    ("get", "/api/projects/{id}/imports/"): LEADS,
    ("post", "/api/projects/{id}/imports/"): LEADS,
    ("get", "/api/projects/{id}/items/"): REVIEWERS,
    ("post", "/api/projects/{id}/items/"): LEADS,
    ("get", "/api/projects/{id}/items/bulk/"): LEADS,
    ("post", "/api/projects/{id}/items/bulk/"): LEADS,
    ("get", "/api/projects/{id}/label-studio-config/"): MEMBERS,
    ("get", "/api/projects/{id}/members/"): LEADS,
    ("post", "/api/projects/{id}/members/"): LEADS,
    ("patch", "/api/projects/{id}/members/{username}/"): LEADS,
    ("delete", "/api/projects/{id}/members/{username}/"): LEADS,
    ("get", "/api/projects/{id}/model-backends/"): LEADS,
    ("post", "/api/projects/{id}/model-backends/"): LEADS,
    ("post", "/api/projects/{id}/monitor/actuals/"): LEADS,
    ("get", "/api/projects/{id}/monitor/alerts/"): REVIEWERS,
    ("get", "/api/projects/{id}/monitor/events/"): REVIEWERS,
    ("post", "/api/projects/{id}/monitor/events/"): LEADS,
    ("post", "/api/projects/{id}/monitor/events/upload/"): LEADS,
    ("get", "/api/projects/{id}/monitor/metrics/"): REVIEWERS,
    ("get", "/api/projects/{id}/monitor/models/"): REVIEWERS,
    ("post", "/api/projects/{id}/monitor/rollups/refresh/"): LEADS,
    ("get", "/api/projects/{id}/monitor/rules/"): REVIEWERS,
    ("post", "/api/projects/{id}/monitor/rules/"): LEADS,
    ("get", "/api/projects/{id}/monitor/rules/{rule_pk}/"): REVIEWERS,
    ("patch", "/api/projects/{id}/monitor/rules/{rule_pk}/"): LEADS,
    ("delete", "/api/projects/{id}/monitor/rules/{rule_pk}/"): LEADS,
    ("get", "/api/projects/{id}/monitor/rules/{rule_pk}/dry-run/"): LEADS,
    ("get", "/api/projects/{id}/my-annotations/"): MEMBERS,
    ("get", "/api/projects/{id}/my-stats/"): MEMBERS,
    ("get", "/api/projects/{id}/next/"): MEMBERS,
    ("post", "/api/projects/{id}/predictions/"): LEADS,
    ("post", "/api/projects/{id}/resolutions/refresh/"): LEADS,
    ("get", "/api/projects/{id}/resolutions/refresh/{job_id}/"): REVIEWERS,
    ("get", "/api/projects/{id}/review/next/"): REVIEWERS,
    ("post", "/api/projects/{id}/schema-check/"): LEADS,
    ("get", "/api/projects/{id}/storages/"): LEADS,
    ("post", "/api/projects/{id}/storages/"): LEADS,
    ("get", "/api/projects/{id}/webhooks/"): LEADS,
    ("post", "/api/projects/{id}/webhooks/"): LEADS,
    ("get", "/api/storages/{id}/"): LEADS,
    ("patch", "/api/storages/{id}/"): LEADS,
    ("delete", "/api/storages/{id}/"): LEADS,
    ("post", "/api/storages/{id}/sync/"): LEADS,
    ("get", "/api/webhooks/"): STAFF,
    ("post", "/api/webhooks/"): STAFF,
    ("get", "/api/webhooks/{id}/"): LEADS,
    ("patch", "/api/webhooks/{id}/"): LEADS,
    ("delete", "/api/webhooks/{id}/"): LEADS,
    ("get", "/api/webhooks/{id}/deliveries/"): LEADS,
    ("post", "/api/webhooks/{id}/deliveries/{n}/redeliver/"): LEADS,
}
NOT_IN_THE_MATRIX = {
    ("post", "/api/auth/token/"),  # no account yet: login_throttle's tests
    # a token is its owner's alone (others get 404): tests/projects/test_api_tokens.py
    ("get", "/api/tokens/{id}/"),
    ("delete", "/api/tokens/{id}/"),
}
ACCOUNT_CALLS = {op for op, who in WHO_MAY.items() if who in (SIGNED_IN, CREATORS, STAFF)}


# --- the world ---------------------------------------------------------------------------


class World:
    """One project with a member of each role, its objects, an outsider (the lead of another
    project), a staff account and a superuser, none of whom belong to it."""

    def __init__(self):
        self.project = ProjectFactory()
        self.users = {
            role: UserFactory(username=role)
            for role in ("annotator", "reviewer", "lead", "outsider")
        }
        self.users["staff"] = UserFactory(username="staff", is_staff=True)
        self.users["superuser"] = UserFactory(
            username="superuser", is_staff=True, is_superuser=True
        )
        for role in MEMBER_ROLES:
            MembershipFactory(project=self.project, user=self.users[role], role=role)
        MembershipFactory(
            project=ProjectFactory(), user=self.users["outsider"], role=Membership.Role.LEAD
        )
        project, lead = self.project, self.users["lead"]
        self.items = ItemFactory.create_batch(3, project=project)
        self.assignment = Assignment.objects.create(
            project=project,
            item=self.items[0],
            annotator=self.users["annotator"],
            expires_at=timezone.now() + timedelta(hours=1),
        )
        self.import_job = ImportJob.objects.create(project=project, created_by=lead)
        self.export_job = ExportJob.objects.create(
            project=project,
            created_by=lead,
            format="label_studio",
            status=ExportJob.Status.DONE,
            manifest={
                "filename": "export.json",
                "writer_report": {"label_config": "<View></View>"},
            },
        )
        self.export_job.file.save("export.json", ContentFile(b"[]"))
        self.bulk_job = ItemBulkJob.objects.create(
            project=project, created_by=lead, action=ItemBulkJob.Action.UNSET_GOLD
        )
        self.webhook = Webhook.objects.create(
            project=project, url="http://127.0.0.1:9/hook", events=["annotation.created"]
        )
        self.global_webhook = Webhook.objects.create(
            project=None, url="http://127.0.0.1:9/all", events=["annotation.created"]
        )
        event = WebhookEvent.objects.create(project=project, event="annotation.created")
        self.delivery = WebhookDelivery.objects.create(webhook=self.webhook, event=event)
        # Endpoints on 127.0.0.1's discard port: refused at once, never another host.
        self.storage = CloudStorage.objects.create(
            project=project, bucket="bucket", endpoint_url="http://127.0.0.1:9"
        )
        self.backend = ModelBackend.objects.create(
            project=project, url="http://127.0.0.1:9/", is_active=False
        )
        self.rule = RoutingRule.objects.create(project=project, name="all")
        self.consensus_job = ConsensusJob.objects.create(project=project)

    def url(self, path: str) -> str:
        """The operation's path with the ids of this world's rows."""
        rows = {
            "/api/projects/": self.project,
            "/api/items/": self.items[1],
            "/api/assignments/": self.assignment,
            "/api/imports/": self.import_job,
            "/api/exports/": self.export_job,
            "/api/item-bulk-jobs/": self.bulk_job,
            "/api/webhooks/": self.webhook,
            "/api/storages/": self.storage,
            "/api/model-backends/": self.backend,
        }
        row = next((row for prefix, row in rows.items() if path.startswith(prefix)), None)
        filled = {
            "{id}": str(row.pk) if row else "",
            "{username}": "annotator",
            "{rule_pk}": str(self.rule.pk),
            "{job_id}": str(self.consensus_job.pk),
            "{n}": str(self.delivery.pk),
        }
        for name, value in filled.items():
            path = path.replace(name, value)
        return path


@pytest.fixture
def world(db):
    return World()


def answer(world: World, role: str | None, method: str, url: str) -> int:
    """The status the caller gets, with whatever the call changed undone (the next caller sees
    the same world)."""
    client = api_client_for(None)
    if role is not None:
        user = type(world.users[role]).objects.get(pk=world.users[role].pk)  # no role cache
        client.force_authenticate(user)
    with transaction.atomic():
        response = getattr(client, method)(url, {}, format="json")
        transaction.set_rollback(True)
    return response.status_code


def schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method, path)
        for path, operations in schema["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_the_matrix_names_every_operation_of_the_schema():
    assert schema_operations() == set(WHO_MAY) | NOT_IN_THE_MATRIX


@pytest.mark.parametrize("operation", sorted(WHO_MAY), ids=" ".join)
def test_who_may_call_what(world, operation):
    method, path = operation
    url = world.url(path)
    who_may = WHO_MAY[operation]
    answers = {role: answer(world, role, method, url) for role in [None, *world.users]}
    assert answers.pop(None) == 401, "without an account"
    for role, status in answers.items():
        if operation in ACCOUNT_CALLS:
            expected_refusal = 403  # nothing of a project is named: the account decides
        elif role in ("outsider", "staff"):
            expected_refusal = 404  # not their project: it is not there for them
        else:
            expected_refusal = 403
        allowed = role in who_may or (role == "superuser" and who_may <= MEMBERS)
        if allowed:
            # The call itself may refuse (an empty body: 400; a state: 409), never as a denial;
            # and every id the matrix sends names a real row, so not 404 either.
            assert status not in (401, 403, 404) and status < 500, (role, status)
        else:
            assert status == expected_refusal, (role, status)


def test_outsiders_never_learn_whether_a_row_exists(world):
    """An id of another project's row answers as an id that names nothing."""
    client = api_client_for(world.users["outsider"])
    for route in ("/api/items/{id}/", "/api/exports/{id}/", "/api/projects/{id}/members/"):
        theirs = client.get(world.url(route))
        missing = client.get(route.replace("{id}", str(10**12)))
        assert theirs.status_code == missing.status_code == 404
        assert theirs.json() == missing.json()


def test_global_webhooks_are_for_staff_and_project_ones_for_their_leads(world):
    url = f"/api/webhooks/{world.global_webhook.pk}/"
    assert answer(world, "staff", "get", url) == 200
    assert answer(world, "superuser", "get", url) == 200
    for role in ("lead", "annotator", "outsider"):
        assert answer(world, role, "get", url) == 403, role
    assert answer(world, "staff", "get", f"/api/webhooks/{world.webhook.pk}/") == 404
    assert answer(world, "staff", "get", f"/api/webhooks/{world.webhook.pk}/deliveries/") == 404


def test_options_describes_a_project_s_calls_to_its_members_only(world):
    url = world.url("/api/projects/{id}/members/")
    assert answer(world, "outsider", "options", url) == 404
    assert answer(world, "annotator", "options", url) == 200
    assert answer(world, "outsider", "options", "/api/projects/") == 200


def test_the_permission_keeps_the_checked_project_on_the_request(world, django_assert_num_queries):
    """One query reads the item's project and the caller's role; the view reads neither again."""
    client = api_client_for(world.users["annotator"])
    url = f"/api/items/{world.items[1].pk}/title/"
    client.get(url)  # warm: content types, the session machinery
    with django_assert_num_queries(2):  # the project with the role, then the external id
        assert client.get(url).status_code == 200


# --- every route declares what it needs -------------------------------------------------


def routes(patterns=None, prefix: str = ""):
    """(route, callback) of every URL pattern, includes walked."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def declaration_problems(patterns=None) -> list[str]:
    """What is wrong with the API routes' declarations: a view that does not use
    ProjectRolePermission, an action or method without a rule, a role rule without a
    project_from its URL fills."""
    problems = []
    for route, callback in routes(patterns):
        view_class = getattr(callback, "cls", None)
        if view_class is None or not issubclass(view_class, APIView):
            continue
        if ProjectRolePermission not in view_class.permission_classes:
            if view_class.__name__ not in OPEN_VIEWS:
                problems.append(f"{route}: {view_class.__name__} is not ProjectRolePermission's")
            continue
        actions = getattr(callback, "actions", None)  # a viewset's {method: action}
        if actions is None:
            names = [m for m in view_class.http_method_names if hasattr(view_class, m)]
            names = [m for m in names if m not in ("options", "head")]
        else:
            names = [a for m, a in actions.items() if m in view_class.http_method_names]
        for name in names:
            try:
                rule = view_rule(view_class, name)
            except Exception as exc:
                problems.append(f"{route} {name}: {exc}")
                continue
            if isinstance(rule, AccountRule):
                continue
            source = getattr(view_class, "project_from", None)
            if not isinstance(source, ProjectInUrl) or f":{source.kwarg}>" not in route:
                problems.append(f"{route} {name}: a role rule without a project_from its URL fills")
    return problems


def test_every_api_route_declares_the_roles_of_its_actions():
    assert declaration_problems() == []


class Forgetful(viewsets.GenericViewSet):
    """An endpoint added without a thought for who may call it."""

    def list(self, request):
        return Response([])

    @action(detail=True, methods=["get"])
    def secrets(self, request, pk=None):
        return Response({"secret": pk})


class HalfDeclared(viewsets.GenericViewSet):
    project_roles = {"list": LEAD_ONLY}  # a role, but no project in the URL to check it on

    def list(self, request):
        return Response([])


class OwnPermission(APIView):
    permission_classes = [IsAuthenticated]  # opts out of the project rule

    def get(self, request):
        return Response({})


class Declared(viewsets.GenericViewSet):
    project_from = ProjectInUrl()
    project_roles = {"secrets": EVERY_MEMBER}

    @action(detail=True, methods=["get"])
    def secrets(self, request, pk=None):
        return Response({"project": request.project.pk, "role": request.project_role})


def _patterns(viewset, prefix: str):
    router = SimpleRouter(use_regex_path=False)
    router.register(prefix, viewset, basename=prefix)
    return [path("api/", include(router.urls))]


def test_a_route_that_declares_nothing_fails_the_walk():
    assert len(declaration_problems(_patterns(Forgetful, "forgetful"))) == 2
    assert declaration_problems(_patterns(HalfDeclared, "half")) != []
    assert declaration_problems([path("api/own/", OwnPermission.as_view())]) != []
    assert declaration_problems(_patterns(Declared, "declared")) == []


def test_a_view_that_declares_nothing_is_refused_not_open(world):
    request = APIRequestFactory().get("/api/forgetful/1/secrets/")
    force_authenticate(request, user=world.users["lead"])
    response = Forgetful.as_view({"get": "secrets"})(request, pk=world.project.pk)
    assert response.status_code == 500
    assert b"secret" not in response.content


def test_a_declared_view_reads_the_project_and_role_from_the_request(world):
    view = Declared.as_view({"get": "secrets"})

    def call(role):
        request = APIRequestFactory().get("/api/declared/1/secrets/")
        force_authenticate(request, user=world.users[role])
        return view(request, pk=world.project.pk)

    assert call("reviewer").data == {"project": world.project.pk, "role": "reviewer"}
    refused = call("outsider")
    assert refused.status_code == 404 and "project" not in refused.data


# --- pages ----------------------------------------------------------------------------------


def project_pages():
    """(route, callback) of every page whose URL names a project or a row of one."""
    for route, callback in routes():
        if route.startswith(("api/", "account/")) or "<row_id:pk>" not in route:
            continue  # account/: the caller's own rows (tokens), tested with them
        yield route, callback


def test_every_project_page_wears_project_page():
    undecorated = [
        route for route, callback in project_pages() if not hasattr(callback, "project_page_roles")
    ]
    assert undecorated == []


def _page_url(world: World, route: str) -> str:
    rows = {
        "imports/": world.import_job,
        "storages/": world.storage,
        "webhooks/": world.webhook,
    }
    row = next((row for prefix, row in rows.items() if route.startswith(prefix)), world.project)
    url = "/" + route.replace("<row_id:pk>", str(row.pk))
    for name in ("<row_id:user_id>", "<row_id:job_id>", "<row_id:item_id>", "<row_id:n>"):
        url = url.replace(name, "1")
    return url.replace("<path:key>", "some/key.png")


def test_pages_answer_outsiders_404_and_members_without_the_role_403(world):
    checked = 0
    for route, callback in project_pages():
        roles = getattr(callback, "project_page_roles", None)
        if roles is None:
            continue
        url = _page_url(world, route)
        refusals = {"outsider": 404, "staff": 404, "annotator": 403, "reviewer": 403}
        for role, refusal in refusals.items():
            if role in roles:
                continue  # pages' own tests cover what members see
            client = Client()
            client.force_login(world.users[role])
            for method in ("get", "post"):
                status = getattr(client, method)(url).status_code
                assert status == refusal, (route, role, method, status)
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]
        checked += 1
    assert checked >= 25
