"""The monitoring API end to end over HTTP (eager tasks): events, upload, rules, actuals."""

from datetime import timedelta

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from labeling.monitor.models import PredictionEvent, RoutingRule
from projects.models import ImportJob
from tests.labeling.monitor.helpers import event

pytestmark = pytest.mark.django_db


def url(project, tail):
    return f"/api/projects/{project.pk}/monitor/{tail}"


def test_events_post_and_list(project, lead_api, annotator_api):
    response = lead_api.post(
        url(project, "events/"), [event(1), event(2, version="v2")], format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json() == {"created": 2, "duplicates": 0, "routed": 0}
    again = lead_api.post(url(project, "events/"), [event(1)], format="json")
    assert again.json() == {"created": 0, "duplicates": 1, "routed": 0}
    bad = lead_api.post(url(project, "events/"), [event(3), event(4, score=-1)], format="json")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["line"] == 2 and "score" in bad.json()["errors"][0]
    assert (
        lead_api.post(url(project, "events/"), {"not": "a list"}, format="json").status_code == 400
    )
    listed = lead_api.get(url(project, "events/"), {"model_version": "v2"}).json()
    assert [e["event_id"] for e in listed["results"]] == ["e2"]
    assert annotator_api.post(url(project, "events/"), [event(5)], format="json").status_code == 403


def test_models_listed(project, lead_api):
    lead_api.post(url(project, "events/"), [event(1), event(2, version="v2")], format="json")
    models = lead_api.get(url(project, "models/")).json()
    assert [v["version"] for v in models[0]["versions"]] == ["v1", "v2"]


def test_upload_keeps_good_lines_and_reports_bad(
    project, lead_api, django_capture_on_commit_callbacks
):
    lines = [orjson.dumps(event(n)) for n in range(10)]
    lines[3] = orjson.dumps(event(3, score=7))
    lines[6] = b"{not json"
    lines.append(orjson.dumps(event(0)))  # a duplicate
    body = b"\n".join(lines) + b"\n"
    upload = SimpleUploadedFile("events.jsonl", body, content_type="application/jsonl")
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_api.post(
            url(project, "events/upload/"), {"file": upload}, format="multipart"
        )
    assert response.status_code == 202, response.content
    job = ImportJob.objects.get(pk=response.json()["id"])
    assert job.status == "done", job.message
    assert (job.rows_read, job.created_count, job.skipped_count, job.failed_count) == (11, 8, 1, 2)
    assert [e["line"] for e in job.errors] == [4, 7]
    assert "outside [0, 1]" in job.errors[0]["reason"]
    report = lead_api.get(f"/api/imports/{job.pk}/errors/")
    assert b"invalid JSON" in b"".join(report.streaming_content)
    assert PredictionEvent.objects.filter(project=project).count() == 8


def test_rules_crud_validation_and_dry_run(project, lead_api):
    refused = lead_api.post(
        url(project, "rules/"),
        {"name": "x", "condition": {"field": "confidence", "op": "<", "value": 0.5}},
        format="json",
    )
    assert refused.status_code == 400
    assert "unknown field 'confidence'" in refused.json()["condition"][0]
    created = lead_api.post(
        url(project, "rules/"),
        {
            "name": "unsure",
            "condition": {"field": "score", "op": "<", "value": 0.5},
            "sample_rate": 1.0,
            "cap_per_day": 3,
            "priority": 2,
            "is_active": False,
        },
        format="json",
    )
    assert created.status_code == 201, created.content
    rule_id = created.json()["id"]
    # Noon yesterday and the minutes before: one day for the cap, whatever the time now.
    noon = timezone.now().replace(hour=12, minute=0, second=0, microsecond=0) - timedelta(days=1)
    events = [
        event(n, score=0.2 if n % 2 else 0.9, at=noon - timedelta(minutes=n)) for n in range(10)
    ]
    lead_api.post(url(project, "events/"), events, format="json")
    dry = lead_api.get(url(project, f"rules/{rule_id}/dry-run/"), {"days": 2}).json()
    assert (dry["events"], dry["matched"], dry["would_route"]) == (10, 5, 3)
    patched = lead_api.patch(url(project, f"rules/{rule_id}/"), {"is_active": True}, format="json")
    assert patched.json()["is_active"] is True
    assert lead_api.get(url(project, f"rules/{rule_id}/dry-run/"), {"days": 0}).status_code == 400
    assert lead_api.delete(url(project, f"rules/{rule_id}/")).status_code == 204
    assert not RoutingRule.objects.exists()


def test_actuals_joined_by_event_id(project, lead_api, django_capture_on_commit_callbacks):
    lead_api.post(url(project, "events/"), [event(1), event(2)], format="json")
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_api.post(
            url(project, "actuals/"),
            [
                {"event_id": "e1", "result": {"sentiment": "negative"}},
                {"event_id": "nope", "result": {"sentiment": "negative"}},
            ],
            format="json",
        )
    assert response.json() == {"matched": 1, "unknown": ["nope"]}
    assert PredictionEvent.objects.get(event_id="e1").actual_label == "negative"
    bad = lead_api.post(url(project, "actuals/"), [{"event_id": "e2", "result": {}}], format="json")
    assert bad.status_code == 400 and bad.json()["errors"][0]["result"] == {"sentiment": "required"}
    series = lead_api.get(url(project, "metrics/"), {"bucket": "day"}).json()["series"]
    assert series[0]["actual_n"] == 1 and series[0]["accuracy"] == 0.0
