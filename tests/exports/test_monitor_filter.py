"""Exports take a monitoring filter: the labeled events of a rule, a model version, a time range."""

import json
from datetime import timedelta

import pytest

from exports.models import ExportJob
from exports.options import ExportOptions, OptionsError, export_options_parse
from labeling.annotate.submit import annotation_submit
from labeling.monitor.events import events_ingest
from labeling.monitor.models import RoutingRule
from projects.label_schema import LabelSchema
from projects.models import Item
from tests.exports.helpers import export_run
from tests.labeling.monitor.helpers import START, event

pytestmark = pytest.mark.django_db


def test_monitor_option_checked(project):
    schema = LabelSchema(project.label_schema)
    options = export_options_parse(
        {"monitor": {"rule": "3", "model_version": "v2", "since": "2026-11-01T00:00:00"}},
        schema=schema,
    )
    assert options.monitor == {
        "rule": 3,
        "model_version": "v2",
        "since": "2026-11-01T00:00:00+00:00",
    }
    with pytest.raises(OptionsError) as refused:
        export_options_parse({"monitor": {"rules": 1}}, schema=schema)
    assert "unknown key(s) rules" in refused.value.errors["monitor"]
    with pytest.raises(OptionsError):
        export_options_parse({"monitor": {"since": "yesterday"}}, schema=schema)
    assert ExportOptions().monitor is None


def test_export_of_a_rules_labeled_events(project, lead, annotator, tmp_path):
    project.monitor_baseline_rate = 0.0
    project.review_policy = "none"
    project.save()
    unsure = RoutingRule.objects.create(
        project=project, name="unsure", condition={"field": "score", "op": "<", "value": 0.5}
    )
    RoutingRule.objects.create(
        project=project, name="v2", condition={"field": "model_version", "op": "=", "value": "v2"}
    )
    events_ingest(
        project=project,
        raw_events=[
            event(1, score=0.2),
            event(2, score=0.9, version="v2"),
            event(3, score=0.3),
            event(4, score=0.1, at=START + timedelta(days=3)),
        ],
    )
    Item.objects.create(project=project, external_id="plain", data={"text": "not an event"})
    for item in Item.objects.filter(project=project):
        annotation_submit(item=item, annotator=annotator, result={"sentiment": "negative"})
    _, path = export_run(project, lead, "jsonl", tmp_path, monitor={"rule": unsure.pk})
    ids = sorted(json.loads(line)["external_id"] for line in path.read_text().splitlines())
    assert ids == ["event:e1", "event:e3", "event:e4"]
    _, path = export_run(
        project,
        lead,
        "jsonl",
        tmp_path,
        monitor={"rule": unsure.pk, "until": (START + timedelta(days=1)).isoformat()},
    )
    assert len(path.read_text().splitlines()) == 2
    _, path = export_run(project, lead, "jsonl", tmp_path, monitor={"model_version": "v2"})
    assert [json.loads(line)["external_id"] for line in path.read_text().splitlines()] == [
        "event:e2"
    ]


def test_the_export_panel_offers_the_monitor_filter(
    project, lead, annotator, client, tmp_path, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    panel = client.get(f"/projects/{project.pk}/exports/")
    assert panel.status_code == 200 and b"export-monitor" not in panel.content
    project.monitor_baseline_rate = 0.0
    project.save()
    unsure = RoutingRule.objects.create(
        project=project, name="unsure", condition={"field": "score", "op": "<", "value": 0.5}
    )
    events_ingest(
        project=project,
        raw_events=[event(1, score=0.2), event(2, score=0.9), event(3, score=0.3, version="v2")],
    )
    Item.objects.create(project=project, external_id="plain", data={"text": "not an event"})
    for item in Item.objects.filter(project=project):
        annotation_submit(item=item, annotator=annotator, result={"sentiment": "negative"})

    html = client.get(f"/projects/{project.pk}/exports/").content.decode()
    fieldset = html[html.index('class="export-monitor"') : html.index("</fieldset>")]
    assert f'<option value="{unsure.pk}">rule: unsure</option>' in fieldset
    for name in ("monitor_rule", "monitor_model_version", "monitor_since", "monitor_until"):
        assert f'name="{name}"' in fieldset
    assert '<option value="v2">v2</option>' in fieldset

    form = {"format": "jsonl", "items": "resolved", "monitor_rule": str(unsure.pk)}
    form |= {"monitor_model_version": "v2", "monitor_since": "2026-10-01T00:00"}
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(f"/projects/{project.pk}/exports/start/", form)
    assert started.status_code == 302
    job = ExportJob.objects.get(project=project)
    assert job.options["monitor"] == {
        "rule": unsure.pk,
        "model_version": "v2",
        "since": "2026-10-01T00:00:00+00:00",
    }
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE, job.message
    with job.file.open("rb") as stream:
        exported = [json.loads(line)["external_id"] for line in stream.read().splitlines()]
    assert exported == ["event:e3"]

    refused = client.post(
        f"/projects/{project.pk}/exports/start/", {"format": "jsonl", "monitor_until": "later"}
    )
    assert refused.status_code == 302
    assert ExportJob.objects.filter(project=project).count() == 1
    page = client.get(refused.url)
    assert b"monitor: until is an ISO 8601 date-time" in page.content
