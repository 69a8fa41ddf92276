"""The events POST's lean path (labeling.monitor.event_post): a lead's token call with a plain
JSON list is answered before DRF's request cycle, by the same service and in the same words as
the DRF view; every other call reaches the DRF view, whose refusals stay as they were."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from labeling.monitor import caller_ingest, event_post
from labeling.monitor.models import PredictionEvent
from projects.items.search_index import items_not_searchable_count
from projects.models import ApiToken, Item, ItemSearch, Membership
from tests.conftest import api_client_for
from tests.factories import MembershipFactory, ProjectFactory, UserFactory, api_token_secret
from tests.labeling.monitor.helpers import event

pytestmark = pytest.mark.django_db


def events_url(project_id: int) -> str:
    return f"/api/projects/{project_id}/monitor/events/"


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token_secret(user)}")
    return client


def raw_post(client: APIClient, project_id: int, body: bytes | str):
    return client.generic("POST", events_url(project_id), body, content_type="application/json")


@pytest.fixture
def lean_answers(monkeypatch):
    """Whether the lean path answered each events POST (False: the DRF view did)."""
    answered = []
    original = event_post.events_post_lean

    def recording(request, pk):
        answer = original(request, pk)
        answered.append(answer is not None)
        return answer

    monkeypatch.setattr(event_post, "events_post_lean", recording)
    return answered


def test_a_lead_token_call_is_answered_by_the_lean_path(project, lead, lean_answers):
    client = token_client(lead)
    response = client.post(events_url(project.pk), [event(1), event(2)], format="json")
    assert response.status_code == 201, response.content
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"created": 2, "duplicates": 0, "routed": 0}
    again = client.post(events_url(project.pk), [event(2), event(3)], format="json")
    assert again.json() == {"created": 1, "duplicates": 1, "routed": 0}
    assert lean_answers == [True, True]
    stored = PredictionEvent.objects.filter(project=project).order_by("event_id")
    assert list(stored.values_list("event_id", "label", "score")) == [
        ("e1", "positive", 0.9),
        ("e2", "positive", 0.9),
        ("e3", "positive", 0.9),
    ]
    assert ApiToken.objects.get(user=lead).last_used_at is not None  # the use is noted


def test_a_superuser_outside_the_project_posts_as_a_lead(project, lean_answers):
    admin = UserFactory(username="admin", is_superuser=True)
    response = token_client(admin).post(events_url(project.pk), [event(1)], format="json")
    assert response.status_code == 201, response.content
    assert lean_answers == [True]


# The body, and whether the lean path answers it (a plain list of events, some bad) or leaves it
# to the DRF view.
BAD_BODIES = {
    "a score outside [0, 1]": (json.dumps([event(1), event(2, score=1.5)]), True),
    "a missing field": (json.dumps([{k: v for k, v in event(1).items() if k != "result"}]), True),
    "a result the schema cannot hold": (json.dumps([event(1, label="nonsense")]), True),
    "not a list": (json.dumps({"events": [event(1)]}), False),
    "not JSON": ("[{'event_id': 1}]", False),
    "a NUL character": (json.dumps([event(1, metadata={"region": "e\u0000u"})]), False),
    "nested too deep": ("[" * 150 + "]" * 150, False),
    "a number JSON has no place for": ('[{"event_id": "e1", "score": NaN}]', False),
    "too many events": (json.dumps([event(n) for n in range(10_001)]), False),
}


@pytest.mark.parametrize("body, lean", BAD_BODIES.values(), ids=BAD_BODIES.keys())
def test_bad_bodies_get_the_drf_views_answer(project, lead, lean_answers, body, lean):
    by_token = raw_post(token_client(lead), project.pk, body)
    by_drf = raw_post(api_client_for(lead), project.pk, body)
    assert by_token.status_code == by_drf.status_code == 400
    assert by_token.json() == by_drf.json()
    assert lean_answers == [lean, False]  # the forced login has no token: the DRF view
    assert not PredictionEvent.objects.exists()


def test_an_empty_list_stores_nothing_either_way(project, lead):
    by_token = raw_post(token_client(lead), project.pk, "[]")
    by_drf = raw_post(api_client_for(lead), project.pk, "[]")
    assert (by_token.status_code, by_token.json()) == (by_drf.status_code, by_drf.json())


def _revoked(user):
    client = token_client(user)
    ApiToken.objects.filter(user=user).update(revoked_at=timezone.now())
    return client


def _expired(user):
    client = token_client(user)
    ApiToken.objects.filter(user=user).update(expires_at=timezone.now() - timedelta(seconds=1))
    return client


def _inactive(user):
    client = token_client(user)
    type(user).objects.filter(pk=user.pk).update(is_active=False)
    return client


def _unknown(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token qrm_" + "x" * 43)
    return client


def _malformed(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token two parts")
    return client


REFUSED_TOKENS = {
    "unknown": (_unknown, "Invalid token."),
    "revoked": (_revoked, "Token revoked."),
    "expired": (_expired, "Token expired."),
    "of an inactive user": (_inactive, "User inactive or deleted."),
    "malformed": (_malformed, "Invalid token header. Token string should not contain spaces."),
}


@pytest.mark.parametrize("make, detail", REFUSED_TOKENS.values(), ids=REFUSED_TOKENS.keys())
def test_a_refused_token_gets_the_drf_views_401(project, lead, lean_answers, make, detail):
    response = make(lead).post(events_url(project.pk), [event(1)], format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": detail}
    assert lean_answers == [False]
    assert not PredictionEvent.objects.exists()


def test_callers_without_the_leads_role_get_the_drf_views_refusal(project, annotator):
    reviewer = UserFactory(username="reviewer")
    MembershipFactory(project=project, user=reviewer, role=Membership.Role.REVIEWER)
    outsider = UserFactory(username="outsider")
    other = ProjectFactory()
    cases = [
        (annotator, project.pk, 403),
        (reviewer, project.pk, 403),
        (outsider, project.pk, 404),
        (annotator, other.pk, 404),
        (annotator, other.pk + 1000, 404),  # no such project
    ]
    for user, project_id, status in cases:
        by_token = token_client(user).post(events_url(project_id), [event(1)], format="json")
        by_drf = api_client_for(user).post(events_url(project_id), [event(1)], format="json")
        assert by_token.status_code == by_drf.status_code == status, (user, project_id)
        assert by_token.json() == by_drf.json()
    assert not PredictionEvent.objects.exists()


def test_a_session_call_takes_the_drf_view_and_its_csrf_check(project, lead, lean_answers):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(lead)
    response = client.post(events_url(project.pk), [event(1)], format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert lean_answers == [False]


def test_the_list_and_the_schema_still_come_from_the_drf_view(project, lead):
    token_client(lead).post(events_url(project.pk), [event(1)], format="json")
    listed = token_client(lead).get(events_url(project.pk))
    assert listed.status_code == 200
    assert [e["event_id"] for e in listed.json()["results"]] == ["e1"]
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = schema["paths"]["/api/projects/{id}/monitor/events/"]
    assert operations["post"]["operationId"] == "monitor_events_create"
    assert operations["get"]["operationId"] == "monitor_events_list"


@pytest.mark.django_db(transaction=True)
def test_one_event_costs_two_statements_before_the_project_is_known(project, lead, on_postgres):
    """The token, the project and the role in one query; the event and its counts in one
    (later calls take one statement: test_caller_ingest)."""
    project.monitor_baseline_rate = 0.0
    project.save()
    client = token_client(lead)
    assert client.post(events_url(project.pk), [event(1)], format="json").status_code == 201
    caller_ingest._kept_projects.clear()
    with CaptureQueriesContext(connection) as queries:
        response = client.post(events_url(project.pk), [event(2)], format="json")
    assert response.json() == {"created": 1, "duplicates": 0, "routed": 0}
    statements = [q["sql"] for q in queries.captured_queries]
    if on_postgres:
        assert len(statements) == 2, statements
        assert "projects_apitoken" in statements[0] and "projects_membership" in statements[0]
        assert "monitor_predictionevent" in statements[1]


@pytest.mark.postgres
def test_a_routed_event_is_searchable_when_its_call_answers(project, lead):
    project.monitor_baseline_rate = 1.0
    project.save()
    response = token_client(lead).post(
        events_url(project.pk), [event(1), event(2, label="negative")], format="json"
    )
    assert response.json() == {"created": 2, "duplicates": 0, "routed": 2}
    items = Item.objects.filter(project=project)
    assert sorted(items.values_list("external_id", flat=True)) == ["event:e1", "event:e2"]
    assert ItemSearch.objects.filter(item__in=items).count() == 2
    assert items_not_searchable_count(project.pk) == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("wait", [False, True])
def test_a_call_commits_without_waiting_for_the_flush_unless_asked(project, lead, settings, wait):
    """The setting holds for the call's own transaction only (seen here inside a transaction
    around the call): the connection's next statements wait for their flush as every other
    write does."""
    from django.db import transaction

    settings.MONITOR_EVENTS_SYNCHRONOUS_COMMIT = wait
    client = token_client(lead)
    with transaction.atomic():
        response = client.post(events_url(project.pk), [event(1)], format="json")
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            assert cursor.fetchone()[0] == ("on" if wait else "off")
    assert response.json() == {"created": 1, "duplicates": 0, "routed": 0}
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
    assert PredictionEvent.objects.filter(project=project).count() == 1
