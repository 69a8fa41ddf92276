"""The API's call of one event: rules and versions come from the cache (no query for them), the
event and its counts go in by one statement, and a rule saved or deleted routes the next call.

Committed rows (transactional_db): readers fill the cache only outside a transaction."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labeling.monitor.models import EventCount, PredictionEvent
from projects.models import Item
from tests.labeling.monitor.helpers import event

pytestmark = pytest.mark.django_db(transaction=True)


def url(project, tail):
    return f"/api/projects/{project.pk}/monitor/{tail}"


def post(lead_api, project, *events):
    response = lead_api.post(url(project, "events/"), list(events), format="json")
    assert response.status_code == 201, response.content
    return response.json()


def test_one_event_costs_no_lookup_once_cached(project, lead_api):
    project.monitor_baseline_rate = 0.0
    project.save()
    assert post(lead_api, project, event(1)) == {"created": 1, "duplicates": 0, "routed": 0}
    with CaptureQueriesContext(connection) as queries:
        assert post(lead_api, project, event(2)) == {"created": 1, "duplicates": 0, "routed": 0}
    statements = [q["sql"] for q in queries.captured_queries]
    assert not [s for s in statements if "monitor_routingrule" in s or "monitor_modelversion" in s]
    if connection.vendor == "postgresql":
        # The project with the caller's role, then the event and its counts in one statement,
        # with no transaction of its own.
        assert len(statements) == 2, statements
        assert "monitor_predictionevent" in statements[1]
        assert "monitor_eventcount" in statements[1]
    with CaptureQueriesContext(connection) as queries:
        assert post(lead_api, project, event(2)) == {"created": 0, "duplicates": 1, "routed": 0}
    assert PredictionEvent.objects.filter(project=project).count() == 2
    labels = EventCount.objects.filter(project=project, kind="label")
    assert sum(labels.values_list("count", flat=True)) == 2


def test_a_rule_saved_or_deleted_routes_the_next_call(project, lead_api):
    project.monitor_baseline_rate = 0.0
    project.save()
    assert post(lead_api, project, event(1, score=0.2))["routed"] == 0  # rules now cached
    rule = lead_api.post(
        url(project, "rules/"),
        {"name": "unsure", "condition": {"field": "score", "op": "<", "value": 0.5}},
        format="json",
    ).json()
    assert post(lead_api, project, event(2, score=0.2))["routed"] == 1
    assert Item.objects.filter(project=project).get().external_id == "event:e2"
    changed = lead_api.patch(url(project, f"rules/{rule['id']}/"), {"is_active": False})
    assert changed.status_code == 200
    assert post(lead_api, project, event(3, score=0.2))["routed"] == 0
    lead_api.patch(url(project, f"rules/{rule['id']}/"), {"is_active": True})
    assert post(lead_api, project, event(4, score=0.2))["routed"] == 1
    assert lead_api.delete(url(project, f"rules/{rule['id']}/")).status_code == 204
    assert post(lead_api, project, event(5, score=0.2))["routed"] == 0
    routed = PredictionEvent.objects.filter(project=project, rule__isnull=False)
    assert sorted(routed.values_list("event_id", flat=True)) == ["e2", "e4"]


def test_a_project_saved_from_a_stale_copy_keeps_the_rules_generation(project, lead_api):
    """Settings saved from a project read before a rule changed (a form, the API) must not put
    the old generation back: processes holding the old rules under it would route by them."""
    from labeling.monitor.models import RoutingRule
    from projects.models import Project

    project.monitor_baseline_rate = 0.0
    project.save()
    stale = Project.objects.get(pk=project.pk)
    assert post(lead_api, project, event(1, score=0.2))["routed"] == 0  # no rules, kept so
    rule = lead_api.post(
        url(project, "rules/"),
        {"name": "unsure", "condition": {"field": "score", "op": "<", "value": 0.5}},
        format="json",
    ).json()
    stale.name = "renamed"
    stale.save()
    fresh = Project.objects.get(pk=project.pk)
    assert fresh.name == "renamed"
    assert fresh.monitor_rules_generation not in (0, stale.monitor_rules_generation)
    assert post(lead_api, project, event(2, score=0.2))["routed"] == 1
    assert RoutingRule.objects.get(pk=rule["id"]).project_id == project.pk


def test_a_rule_made_anywhere_routes_the_next_call(project, lead_api):
    """The rules' generation is the rule's own invariant: a rule saved by any code (here the
    ORM, as the demo does) renews it, with no call to remember."""
    from labeling.monitor.models import RoutingRule

    project.monitor_baseline_rate = 0.0
    project.save()
    assert post(lead_api, project, event(1, score=0.2))["routed"] == 0  # no rules, kept so
    rule = RoutingRule.objects.create(
        project_id=project.pk, name="unsure", condition={"field": "score", "op": "<", "value": 0.5}
    )
    assert post(lead_api, project, event(2, score=0.2))["routed"] == 1
    rule.delete()
    assert post(lead_api, project, event(3, score=0.2))["routed"] == 0
