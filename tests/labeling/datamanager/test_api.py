"""`GET /api/projects/{id}/items/` and the bulk endpoints, over HTTP."""

import json
import time

import pytest
import yaml

from exports.models import ExportJob
from labeling.models import ItemBulkJob
from projects.models import Item, Membership
from tests.conftest import api_client_for
from tests.factories import ItemFactory, MembershipFactory, UserFactory


def url(table, tail="") -> str:
    return f"/api/projects/{table.project.pk}/items/{tail}"


@pytest.mark.django_db
def test_the_list_filters_sorts_and_pages_with_next_links(table, lead_api):
    response = lead_api.get(url(table), {"ordering": "-priority", "size": 2, "gold": "false"})
    assert response.status_code == 200
    body = response.json()
    assert [row["external_id"] for row in body["results"]] == ["c", "b"]
    assert body["ordering"] == "-priority"
    seen = [row["external_id"] for row in body["results"]]
    while body["next"]:
        assert "gold=false" in body["next"] and "cursor=" in body["next"]
        body = lead_api.get(body["next"]).json()
        seen += [row["external_id"] for row in body["results"]]
    assert seen == ["c", "b", "a", "f", "e"]


@pytest.mark.django_db
def test_a_row_carries_every_column(table, lead_api):
    rows = {r["external_id"]: r for r in lead_api.get(url(table)).json()["results"]}
    c, f = rows["c"], rows["f"]
    assert (c["status"], c["answers"], c["wanted"], c["agreement"]) == ("in_review", 2, 2, 0.5)
    assert c["resolution"] == {
        "result": {"sentiment": "positive"},
        "method": "majority",
        "state": "pending",
    }
    assert f["prediction"] == {
        "result": {"sentiment": "positive"},
        "model_version": "v2",
        "score": 0.8,
    }
    assert f["preview"] == "Rain stopped play" and f["data"]["meta"] == {"source": "blog"}
    assert rows["d"]["gold"] == {"sentiment": "neutral"} and rows["b"]["priority"] == 5


@pytest.mark.django_db
def test_the_example_of_the_issue(table, lead_api):
    response = lead_api.get(
        url(table),
        {"status": "resolved", "label": "positive", "agreement_min": "0.5", "search": "crowd"},
    )
    assert [r["external_id"] for r in response.json()["results"]] == ["b"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("agreement_min=lots", "agreement_min"),
        ("ordering=-colour", "ordering"),
        ("status=done", "status"),
        ("stauts=open", "stauts"),
        ("cursor=xyz", "cursor"),
        ("size=100000", "size"),
    ],
)
def test_bad_input_answers_400_naming_the_parameter(table, lead_api, query, field):
    response = lead_api.get(f"{url(table)}?{query}")
    assert response.status_code == 400
    assert field in response.json() and isinstance(response.json()[field], list)


@pytest.mark.django_db
def test_roles(table, annotator_api):
    assert annotator_api.get(url(table)).status_code == 403
    reviewer = UserFactory(username="rev")
    MembershipFactory(project=table.project, user=reviewer, role=Membership.Role.REVIEWER)
    reviewer_api = api_client_for(reviewer)
    assert reviewer_api.get(url(table)).status_code == 200
    body = {"action": "delete", "selection": {"query": ""}}
    assert reviewer_api.post(url(table, "bulk/"), body, format="json").status_code == 403
    outsider = api_client_for(UserFactory())
    assert outsider.get(url(table)).status_code == 404  # the project's existence stays unknown
    assert Item.objects.filter(project=table.project).count() == 6


@pytest.mark.django_db
def test_adding_items_still_posts_to_the_same_path(table, lead_api):
    response = lead_api.post(
        url(table), [{"data": {"text": "new"}, "external_id": "g"}], format="json"
    )
    assert response.status_code == 201 and response.json()["created"] == 1


@pytest.mark.django_db
def test_a_small_selection_is_done_at_once(table, lead_api):
    ids = [table.items["a"].pk, table.items["e"].pk]
    response = lead_api.post(
        url(table, "bulk/"),
        {"action": "set_priority", "params": {"priority": 7}, "selection": {"ids": ids}},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "done" and response.json()["changed_count"] == 2
    assert set(Item.objects.filter(priority=7).values_list("pk", flat=True)) == set(ids)
    jobs = lead_api.get(url(table, "bulk/")).json()
    assert [j["id"] for j in jobs] == [response.json()["id"]]


@pytest.mark.django_db
def test_a_large_selection_is_queued_and_polled(
    table, lead_api, settings, django_capture_on_commit_callbacks
):
    settings.ITEM_BULK_INLINE_LIMIT = 2
    settings.ITEM_BULK_BATCH = 2
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_api.post(
            url(table, "bulk/"),
            {"action": "requeue", "params": {"answers": 1}, "selection": {"query": "gold=false"}},
            format="json",
        )
    assert response.status_code == 202 and response.json()["status"] == "queued"
    job = lead_api.get(f"/api/item-bulk-jobs/{response.json()['id']}/").json()
    assert (job["status"], job["processed_count"], job["batch_count"]) == ("done", 5, 3)


@pytest.mark.django_db
def test_bad_bulk_requests_answer_400_and_store_nothing(table, lead_api):
    response = lead_api.post(
        url(table, "bulk/"),
        {"action": "set_priority", "params": {"priority": "x"}, "selection": {"ids": [1]}},
        format="json",
    )
    assert response.status_code == 400 and "params.priority" in response.json()
    response = lead_api.post(url(table, "bulk/"), {"action": "delete"}, format="json")
    assert response.status_code == 400 and "selection" in response.json()
    assert not ItemBulkJob.objects.exists()


@pytest.mark.django_db
def test_export_of_a_selection(table, lead_api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_api.post(
            f"/api/projects/{table.project.pk}/exports/",
            {
                "format": "jsonl",
                "options": {"only_resolved": False, "selection": {"query": "search=rain stocks"}},
            },
            format="json",
        )
    assert response.status_code == 202
    job = ExportJob.objects.get(pk=response.json()["id"])
    assert job.status == "done"
    with job.file.open("rb") as handle:
        rows = [json.loads(line) for line in handle.read().splitlines()]
    assert rows == []  # "rain stocks": no item has both words
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_api.post(
            f"/api/projects/{table.project.pk}/exports/",
            {
                "format": "jsonl",
                "options": {
                    "only_resolved": False,
                    "selection": {"query": "field=meta.source&field_contains=e"},
                },
            },
            format="json",
        )
    job = ExportJob.objects.get(pk=response.json()["id"])
    with job.file.open("rb") as handle:
        rows = [json.loads(line) for line in handle.read().splitlines()]
    assert sorted(r["external_id"] for r in rows) == ["e"]


@pytest.mark.django_db
def test_export_refuses_a_bad_selection(table, lead_api):
    response = lead_api.post(
        f"/api/projects/{table.project.pk}/exports/",
        {"format": "jsonl", "options": {"selection": {"query": "gold=perhaps"}}},
        format="json",
    )
    assert response.status_code == 400 and "gold" in response.json()["selection"]
    assert not ExportJob.objects.exists()


@pytest.mark.django_db
def test_the_openapi_schema_documents_filters_cursor_and_bulk(lead_api):
    schema = yaml.safe_load(lead_api.get("/api/schema/").content)
    listing = schema["paths"]["/api/projects/{id}/items/"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {
        "search",
        "ordering",
        "status",
        "label",
        "agreement_min",
        "score_max",
        "model_version",
        "gold",
        "disagreement",
        "field",
        "field_min",
        "annotator",
        "cursor",
        "size",
    } <= names
    assert "post" in schema["paths"]["/api/projects/{id}/items/"]
    assert "post" in schema["paths"]["/api/projects/{id}/items/bulk/"]
    assert "/api/item-bulk-jobs/{id}/" in schema["paths"]


@pytest.mark.worker
@pytest.mark.postgres
def test_a_worker_runs_a_bulk_job(celery_worker_process, table, lead_api, settings):
    settings.ITEM_BULK_INLINE_LIMIT = 1
    for n in range(20):
        ItemFactory(project=table.project, external_id=f"w{n}")
    response = lead_api.post(
        url(table, "bulk/"),
        {
            "action": "set_priority",
            "params": {"priority": 4},
            "selection": {"query": "status=open"},
        },
        format="json",
    )
    assert response.status_code == 202
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = ItemBulkJob.objects.get(pk=response.json()["id"])
        if job.is_finished:
            break
        time.sleep(0.2)
    assert job.status == "done" and job.changed_count == 24
    assert Item.objects.filter(project=table.project, priority=4).count() == 24
