"""The events POST in one statement once the process knows the project (caller_ingest): the
statement admits the caller and checks the project is as kept, or stores nothing and the call
takes the full way, with its answers in its own words. Outside a test's transaction, as
production calls run (inside one, the full way answers)."""

import copy
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from labeling.monitor import event_post
from labeling.monitor.models import EventCount, PredictionEvent, RoutingRule, RuleUsage
from projects.items.search_index import items_not_searchable_count
from projects.models import ApiToken, Item, Membership
from tests.factories import MembershipFactory, UserFactory
from tests.labeling.monitor.helpers import event
from tests.labeling.monitor.test_event_post import REFUSED_TOKENS, events_url, token_client

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def one_statement(monkeypatch):
    """For each lean call, whether the one statement answered it (False: the full way did)."""
    answered = []
    original = event_post.events_store_as_caller

    def recording(**kwargs):
        report = original(**kwargs)
        answered.append(report is not None)
        return report

    monkeypatch.setattr(event_post, "events_store_as_caller", recording)
    return answered


@pytest.fixture
def known(project, lead):
    """The project known to the process: a lead's call has been admitted the full way."""
    project.monitor_baseline_rate = 0.0
    project.save()
    client = token_client(lead)
    assert client.post(events_url(project.pk), [event(0)], format="json").status_code == 201
    return client


def post(client, project, events):
    return client.post(events_url(project.pk), events, format="json")


def test_a_known_projects_call_is_one_statement(project, lead, known, one_statement):
    with CaptureQueriesContext(connection) as queries:
        response = post(known, project, [event(1), event(2), event(1)])
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 2, "duplicates": 1, "routed": 0}
    statements = [q["sql"] for q in queries.captured_queries]
    assert len(statements) == 1, statements
    assert "projects_apitoken" in statements[0] and "monitor_predictionevent" in statements[0]
    assert one_statement == [True]
    again = post(known, project, [event(2), event(3)])
    assert again.json() == {"created": 1, "duplicates": 1, "routed": 0}
    assert post(known, project, [event(3)]).json() == {"created": 0, "duplicates": 1, "routed": 0}
    assert one_statement == [True, True, True]
    stored = PredictionEvent.objects.filter(project=project).order_by("event_id")
    assert list(stored.values_list("event_id", "label", "score")) == [
        ("e0", "positive", 0.9),
        ("e1", "positive", 0.9),
        ("e2", "positive", 0.9),
        ("e3", "positive", 0.9),
    ]
    labels = EventCount.objects.filter(project_id=project.pk, kind="label")
    assert sum(labels.values_list("count", flat=True)) == 4  # each new event counted once


def test_the_statement_notes_the_tokens_use_once_a_minute(project, lead, known, one_statement):
    long_ago = timezone.now() - timedelta(hours=1)
    ApiToken.objects.filter(user=lead).update(last_used_at=long_ago)
    assert post(known, project, [event(1)]).status_code == 201
    noted = ApiToken.objects.get(user=lead).last_used_at
    assert noted > long_ago
    assert post(known, project, [event(2)]).status_code == 201
    assert ApiToken.objects.get(user=lead).last_used_at == noted  # within the minute: kept
    assert one_statement == [True, True]


@pytest.mark.parametrize("make, detail", REFUSED_TOKENS.values(), ids=REFUSED_TOKENS.keys())
def test_a_refused_token_stores_nothing_and_gets_the_full_ways_401(
    project, lead, known, one_statement, make, detail
):
    response = post(make(lead), project, [event(1)])
    assert response.status_code == 401
    assert response.json() == {"detail": detail}
    assert one_statement in ([], [False])  # a malformed header never reaches the statement
    assert list(PredictionEvent.objects.values_list("event_id", flat=True)) == ["e0"]


def test_callers_who_are_not_leads_store_nothing(project, lead, annotator, known, one_statement):
    outsider = UserFactory(username="outsider")
    demoted = UserFactory(username="demoted")
    MembershipFactory(project=project, user=demoted, role=Membership.Role.LEAD)
    demoted_client = token_client(demoted)
    assert post(demoted_client, project, [event(1)]).status_code == 201
    Membership.objects.filter(user=demoted).update(role=Membership.Role.REVIEWER)
    for client, status in [
        (token_client(annotator), 403),
        (demoted_client, 403),
        (token_client(outsider), 404),
    ]:
        assert post(client, project, [event(2)]).status_code == status
    assert one_statement == [True, False, False, False]
    assert sorted(PredictionEvent.objects.values_list("event_id", flat=True)) == ["e0", "e1"]
    admin = UserFactory(username="admin", is_superuser=True)
    assert post(token_client(admin), project, [event(3)]).status_code == 201
    assert one_statement[-1] is True  # a superuser acts as a lead


def test_a_changed_schema_is_read_anew(project, lead, known, one_statement):
    """An event good under the kept schema but not under the project's own is refused."""
    schema = copy.deepcopy(project.label_schema)
    schema["controls"][0]["labels"] = [{"value": "positive"}, {"value": "mixed"}]
    project.label_schema = schema
    project.save()
    refused = post(known, project, [event(1, label="negative")])
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["line"] == 1
    accepted = post(known, project, [event(2, label="mixed")])
    assert accepted.status_code == 201, accepted.content
    assert one_statement == [False, True]  # the refused call read the project anew


def test_a_changed_baseline_or_rule_routes_the_next_call(project, lead, known, one_statement):
    project.monitor_baseline_rate = 1.0
    project.save()
    assert post(known, project, [event(1)]).json()["routed"] == 1
    project.monitor_baseline_rate = 0.0
    project.save()
    assert post(known, project, [event(2)]).json()["routed"] == 0
    RoutingRule.objects.create(
        project=project, name="low", condition={"field": "score", "op": "<", "value": 0.5}
    )
    assert post(known, project, [event(3, score=0.2)]).json()["routed"] == 1
    assert post(known, project, [event(4, score=0.9)]).json()["routed"] == 0
    assert post(known, project, [event(5, score=0.1), event(5)]).json() == {
        "created": 1,
        "duplicates": 1,
        "routed": 1,
    }
    assert one_statement == [False, False, False, True, True]
    items = Item.objects.filter(project=project).order_by("external_id")
    assert list(items.values_list("external_id", flat=True)) == ["event:e1", "event:e3", "event:e5"]
    made = items.get(external_id="event:e5")  # as the full way makes it
    assert made.data == {"text": "text 5"}
    assert (made.prediction_score, made.prediction_model_version) == (0.1, "v1")
    assert made.predictions.get().result == {"sentiment": "positive"}
    assert items_not_searchable_count(project.pk) == 0
    assert RuleUsage.objects.get().count == 2


def test_a_deleted_project_takes_no_event(project, lead, known, one_statement):
    project_id = project.pk
    project.delete()
    response = known.post(events_url(project_id), [event(1)], format="json")
    assert response.status_code == 404
    assert one_statement == [False]
    assert not PredictionEvent.objects.filter(project_id=project_id).exists()


def test_a_bad_event_gets_the_full_ways_400(project, lead, known, one_statement):
    response = post(known, project, [event(1), event(2, score=1.5)])
    assert response.status_code == 400
    assert [e["line"] for e in response.json()["errors"]] == [2]
    assert one_statement == [False]
    assert list(PredictionEvent.objects.values_list("event_id", flat=True)) == ["e0"]


def test_a_new_model_version_is_registered_the_full_way(project, lead, known, one_statement):
    assert post(known, project, [event(1, version="v2")]).status_code == 201
    assert post(known, project, [event(2, version="v2")]).status_code == 201
    assert one_statement == [False, True]
    versions = PredictionEvent.objects.order_by("event_id").values_list("version__version")
    assert [v for (v,) in versions] == ["v1", "v2", "v2"]


@pytest.mark.parametrize("wait", [False, True])
def test_the_statement_commits_without_waiting_for_the_flush_unless_asked(
    project, lead, known, one_statement, settings, wait
):
    settings.MONITOR_EVENTS_SYNCHRONOUS_COMMIT = wait
    with CaptureQueriesContext(connection) as queries:
        assert post(known, project, [event(1)]).status_code == 201
    assert one_statement == [True]
    asynchronous = "set_config('synchronous_commit', 'off', true)" in queries[0]["sql"]
    assert asynchronous is not wait
    with connection.cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
