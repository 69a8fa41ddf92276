"""Imports through the API, in-process and on a real Celery worker: CSV end to end, re-import,
column mapping, roles, the error report."""

import pytest

from projects.models import ImportJob, Item, Prediction
from tests.projects.imports.import_support import error_report, import_file, import_mode, upload

__all__ = ["import_mode"]


def test_csv_import_end_to_end(import_mode, lead_api, project):
    content = (
        b"external_id,text,priority,gold\n"
        b"t1,Great service,5,positive\n"
        b't2,"Slow, and\nrude",1,\n'
        b"t3,,2,\n"  # missing the text the schema reads
        b"t4,fine,x,\n"  # priority is not a number
        b"t5,ok\n"  # ragged
        b"t6,Nothing to say,0,neutral\n"
    )
    job = import_file(lead_api, project, "tickets.csv", content)
    assert job["status"] == "done", job
    assert job["format"] == "csv"
    assert (job["rows_read"], job["created_count"], job["skipped_count"], job["failed_count"]) == (
        6,
        3,
        0,
        3,
    )
    assert job["percent"] == 100.0
    items = {i.external_id: i for i in Item.objects.filter(project=project)}
    assert set(items) == {"t1", "t2", "t6"}
    assert items["t2"].data == {"text": "Slow, and\nrude"}
    assert items["t1"].priority == 5
    assert {i.status for i in items.values()} == {Item.Status.OPEN}
    assert items["t1"].annotation_count == 0 and items["t1"].created_at is not None
    assert items["t1"].gold == {"sentiment": "positive"}
    assert items["t2"].gold is None
    assert items["t1"].id < items["t2"].id < items["t6"].id  # file order is kept
    rows = error_report(lead_api, job["id"])
    assert rows[0] == ["line", "reason"]
    assert [r[0] for r in rows[1:]] == ["5", "6", "7"]  # the quoted newline makes t2 two lines
    assert "text" in rows[1][1]
    assert "priority 'x'" in rows[2][1]
    assert "has 2 fields, the header has 4" in rows[3][1]


def test_reimport_adds_nothing_and_counts_duplicates(import_mode, lead_api, project):
    content = b"external_id,text\na,one\nb,two\nc,three\n"
    first = import_file(lead_api, project, "a.csv", content)
    assert first["created_count"] == 3, first["message"]
    second = import_file(lead_api, project, "a.csv", content + b"d,four\n")
    assert (second["created_count"], second["skipped_count"]) == (1, 3)
    assert Item.objects.filter(project=project).count() == 4
    # without an external id, the data's hash keys the rows
    third = import_file(lead_api, project, "b.jsonl", b'{"text": "x"}\n{"text": "y"}\n')
    fourth = import_file(lead_api, project, "b.jsonl", b'{"text": "x"}\n{"text": "y"}\n')
    assert (third["created_count"], fourth["created_count"], fourth["skipped_count"]) == (2, 0, 2)


def test_column_mapping_key_priority_gold_and_prediction(import_mode, lead_api, project):
    content = (
        b"id,body,prio,answer,guess,confidence,note\n"
        b"k1,Loved it,3,positive,positive,0.9,a\n"
        b"k2,Hated it,1,,negative,0.7,b\n"
    )
    mapping = (
        '{"columns": {"body": "text", "note": ""}, "external_id": "id", "priority": "prio", '
        '"gold": "answer", "prediction": "guess", "prediction_score": "confidence", '
        '"model_version": "m2"}'
    )
    job = import_file(lead_api, project, "mapped.csv", content, mapping=mapping)
    assert job["status"] == "done" and job["created_count"] == 2, job
    k1 = Item.objects.get(project=project, external_id="k1")
    assert k1.data == {"text": "Loved it"}
    assert (k1.priority, k1.gold) == (3, {"sentiment": "positive"})
    prediction = Prediction.objects.get(item=k1)
    assert (prediction.result, prediction.score, prediction.model_version) == (
        {"sentiment": "positive"},
        0.9,
        "m2",
    )
    # re-importing does not add the predictions again
    import_file(lead_api, project, "mapped.csv", content, mapping=mapping)
    assert Prediction.objects.filter(item__project=project).count() == 2


def test_bad_prediction_is_a_row_error(import_mode, lead_api, project):
    content = b'{"text": "a", "prediction": "maybe"}\n{"text": "b", "prediction": "positive"}\n'
    job = import_file(lead_api, project, "p.jsonl", content)
    assert (job["created_count"], job["failed_count"]) == (1, 1)
    assert "prediction #1" in error_report(lead_api, job["id"])[1][1]


@pytest.mark.django_db
def test_only_leads_import(annotator_api, lead_api, project):
    response = upload(annotator_api, project, "a.csv", b"text\nhello\n")
    assert response.status_code == 403
    assert not ImportJob.objects.exists()
    response = upload(lead_api, project, "a.csv", b"text\nhello\n", format="nope")
    assert response.status_code == 400
    job = ImportJob.objects.create(project=project)
    assert annotator_api.get(f"/api/imports/{job.pk}/").status_code == 403
    assert annotator_api.post(f"/api/imports/{job.pk}/cancel/").status_code == 403
    assert annotator_api.get(f"/api/imports/{job.pk}/errors/").status_code == 403


@pytest.mark.django_db(transaction=True)
def test_jobs_list_is_paginated(lead_api, project):
    for n in range(3):
        import_file(lead_api, project, f"f{n}.csv", f"text\nrow {n}\n".encode())
    body = lead_api.get(f"/api/projects/{project.pk}/imports/").json()
    assert {"results", "next", "count"} <= set(body)
    assert [j["original_name"] for j in body["results"]] == ["f2.csv", "f1.csv", "f0.csv"]
    assert {"id", "status", "rows_read", "created_count", "skipped_count", "failed_count"} <= set(
        body["results"][0]
    )
