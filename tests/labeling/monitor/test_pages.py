"""The model health page and the rule editor render the figures, without JavaScript."""

import re

import pytest

from labeling.monitor.events import events_ingest
from labeling.monitor.models import RoutingRule
from projects.models import Item
from tests.labeling.monitor.helpers import event

pytestmark = pytest.mark.django_db


def test_model_health_page(monitored, client, lead):
    project, _ = monitored
    client.force_login(lead)
    page = client.get(f"/projects/{project.pk}/monitor/")
    assert page.status_code == 200
    html = page.content.decode()
    for words in (
        "Accuracy per model version",
        "Reliability diagram",
        "Confusion matrix",
        "Drift (PSI)",
        'id="segments"',
        'id="failures"',
        'id="alerts"',
        "Accuracy below threshold",
    ):
        assert words in html, words
    # Each recent failure links to its item's page in the data manager, which opens.
    failures = html[html.index('id="failures"') :]
    failures = failures[: failures.index("</table>")]
    links = re.findall(r'href="(/projects/\d+/items/(\d+)/)"', failures)
    assert links and "/api/items/" not in failures
    routed = set(Item.objects.filter(project=project).values_list("pk", flat=True))
    assert {int(item) for _, item in links} <= routed
    assert client.get(links[0][0]).status_code == 200
    week = client.get(f"/projects/{project.pk}/monitor/?bucket=week")
    assert week.status_code == 200


def test_model_health_page_empty_and_roles(project, client, lead, annotator):
    client.force_login(annotator)
    assert client.get(f"/projects/{project.pk}/monitor/").status_code == 403
    client.force_login(lead)
    assert b"No figures yet" in client.get(f"/projects/{project.pk}/monitor/").content


def test_rule_editor_create_refuse_and_dry_run(project, client, lead):
    from django.utils import timezone

    events_ingest(
        project=project, raw_events=[event(n, score=0.3, at=timezone.now()) for n in range(5)]
    )
    client.force_login(lead)
    bad = client.post(
        f"/projects/{project.pk}/monitor/rules/",
        {
            "name": "x",
            "condition": '{"field": "confidence", "op": "<", "value": 1}',
            "is_active": "on",
        },
    )
    assert bad.status_code == 400 and b"unknown field" in bad.content
    assert not RoutingRule.objects.exists()
    saved = client.post(
        f"/projects/{project.pk}/monitor/rules/",
        {
            "name": "unsure",
            "condition": '{"field": "score", "op": "<", "value": 0.5}',
            "sample_rate": "1",
            "priority": "1",
            "is_active": "on",
        },
        follow=True,
    )
    assert saved.status_code == 200
    html = saved.content.decode()
    assert "Dry run of “unsure”" in html and '<strong class="dry-route">5</strong>' in html
    assert "last 7 days</h2>" in html  # the editor's dry run after a save: 7 days
    rule = RoutingRule.objects.get(project=project, name="unsure")
    one_day = client.get(f"/projects/{project.pk}/monitor/rules/?dry_run={rule.pk}&days=1")
    assert "last 1 day</h2>" in one_day.content.decode()
    assert 'name="days" type="number" min="1" max="90" value="1"' in one_day.content.decode()
    assert 'value="7" class="days-input"' in html  # before any other number is asked
