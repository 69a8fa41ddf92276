"""A lead reads the model health page, writes a routing rule with a dry run, and exports what a
rule routed."""

import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from exports.models import ExportJob
from labeling.monitor.events import events_ingest
from labeling.monitor.models import PredictionEvent, RoutingRule
from projects.models import Item
from tests.browser.conftest import login, screenshot
from tests.labeling.monitor.helpers import event
from tests.labeling.monitor.simulation import monitored_project

pytestmark = pytest.mark.django_db(transaction=True)


def test_model_health_page_shows_the_drop(page, page_errors, project, annotator):
    project, _ = monitored_project(project, annotator)
    login(page, "lead")
    page.goto(f"/projects/{project.pk}/")
    page.get_by_role("link", name="Model health").click()
    page.wait_for_url(f"**/projects/{project.pk}/monitor/")
    assert page.locator("svg[aria-label='Accuracy per model version (95% CI bands)']").is_visible()
    assert page.locator("svg[aria-label='Reliability diagram']").is_visible()
    assert page.locator("svg[aria-label='Confusion matrix']").is_visible()
    assert page.locator("#series tbody tr").count() == 4
    assert page.locator("#alerts tbody tr").filter(has_text="Accuracy below threshold").count() >= 1
    screenshot(page, "model-health")
    # A recent failure opens its item's page in the data manager.
    failure = page.locator("#failures a").first
    href = failure.get_attribute("href")
    assert href.startswith(f"/projects/{project.pk}/items/")
    failure.click()
    page.wait_for_url(f"**{href}")
    # "Item N (event:...)": the routed event's id is the item's external id
    assert page.get_by_role("heading", name=re.compile(r"^Item \d+ \(event:")).is_visible()
    assert page.get_by_role("heading", name="Predictions").is_visible()
    screenshot(page, "model-health-failure-item")
    page.go_back()
    page.get_by_role("link", name="week").click()
    assert page.locator("#series tbody tr").count() == 1
    assert page_errors == []


def test_rule_editor_with_dry_run(page, page_errors, project):
    now = timezone.now()
    events_ingest(
        project=project,
        raw_events=[
            event(n, score=0.2 if n % 4 == 0 else 0.9, at=now - timedelta(hours=n))
            for n in range(48)
        ],
    )
    login(page, "lead")
    page.goto(f"/projects/{project.pk}/monitor/rules/")
    page.get_by_label("Name").fill("unsure")
    page.locator("textarea[name=condition]").fill(
        '{"field": "confidence", "op": "<", "value": 0.5}'
    )
    page.get_by_role("button", name="Save and dry run").click()
    assert "unknown field 'confidence'" in page.locator("[role=alert]").inner_text()
    page.locator("textarea[name=condition]").fill('{"field": "score", "op": "<", "value": 0.5}')
    page.get_by_role("button", name="Save and dry run").click()
    dry = page.locator("#dry-run")
    dry.wait_for()
    assert dry.locator(".dry-events").inner_text() == "48"
    assert dry.locator(".dry-route").inner_text() == "12"
    rule = RoutingRule.objects.get(project=project)
    row = page.locator(f"tr[data-rule='{rule.pk}']")
    row.locator("input[name=days]").fill("1")
    row.get_by_role("button", name="Dry run").click()
    page.wait_for_url("**dry_run=*days=1*")
    assert page.locator("#dry-run .dry-events").inner_text() in ("24", "25")
    assert row.locator("input[name=days]").input_value() == "1"  # the days last asked
    screenshot(page, "rule-editor-dry-run")
    assert page_errors == []


def test_export_panel_takes_the_monitor_filter(page, page_errors, project, annotator):
    project, _ = monitored_project(project, annotator)
    rule = RoutingRule.objects.get(project=project)
    routed_by_rule = PredictionEvent.objects.filter(project=project, rule=rule)
    expected = {
        f"event:{event_id}"
        for event_id in routed_by_rule.values_list("event_id", flat=True)
        if Item.objects.filter(
            project=project, external_id=f"event:{event_id}", status="resolved"
        ).exists()
    }
    login(page, "lead")
    page.goto(f"/projects/{project.pk}/")
    panel = page.locator("#export-panel")
    panel.get_by_label("Routed by").wait_for()  # the panel arrives by htmx
    options = panel.get_by_label("Routed by").locator("option").all_inner_texts()
    assert options == ["any rule or the baseline", f"rule: {rule.name}"]
    panel.get_by_label("Routed by").select_option(str(rule.pk))
    screenshot(page, "export-panel-monitor-filter")
    page.get_by_role("button", name="Start export").click()
    page.locator("#export-jobs-table tr[data-status='done']").first.wait_for()
    job = ExportJob.objects.get(project=project)
    assert job.options["monitor"] == {"rule": rule.pk}
    with job.file.open("rb") as stream:
        exported = {json.loads(line)["external_id"] for line in stream.read().splitlines()}
    assert exported == expected and expected
    assert page_errors == []
