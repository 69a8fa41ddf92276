"""The project page's quick downloads: the labeled set as JSONL and CSV, streamed."""

import csv
import io
import json

import pytest

from labeling.annotate.submit import annotation_submit
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def labeled(project, annotator):
    items = [ItemFactory(project=project, data={"text": f"text, {n}"}) for n in range(3)]
    for item, label in zip(items[:2], ["positive", "negative"], strict=True):
        annotation_submit(item=item, annotator=annotator, result={"sentiment": label})
    return items


def body_of(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_jsonl_download_has_one_resolved_item_per_line(project, labeled, lead_api):
    response = lead_api.get(f"/api/projects/{project.pk}/download/?format=jsonl")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/x-ndjson"
    rows = [json.loads(line) for line in body_of(response).splitlines()]
    assert [r["result"]["sentiment"] for r in rows] == ["positive", "negative"]
    assert rows[0]["data"] == labeled[0].data
    assert rows[0]["method"] == "single"


def test_csv_download_has_a_column_per_control(project, labeled, lead_api):
    response = lead_api.get(f"/api/projects/{project.pk}/download/?format=csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(body_of(response))))
    assert [(r["text"], r["sentiment"]) for r in rows] == [
        ("text, 0", "positive"),
        ("text, 1", "negative"),
    ]


def test_unknown_download_format_is_a_400(project, lead_api):
    assert lead_api.get(f"/api/projects/{project.pk}/download/?format=xml").status_code == 400


def test_annotators_cannot_download(project, annotator_api):
    assert annotator_api.get(f"/api/projects/{project.pk}/download/").status_code == 403
