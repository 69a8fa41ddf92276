"""Predictions: the bulk API (all or nothing, validated like annotations), the item's score for
the uncertainty ordering, and pre-filling the workspace through /next/."""

import math

import pytest
from django.db import transaction

from projects.items.predictions import predictions_store
from projects.models import Item, Prediction
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


def post(api, project, rows):
    return api.post(f"/api/projects/{project.pk}/predictions/", rows, format="json")


def test_bulk_predictions_by_id_or_external_id_are_stored_with_the_newest_score(project, lead_api):
    first, second = ItemFactory.create_batch(2, project=project)
    response = post(
        lead_api,
        project,
        [
            {
                "item": first.pk,
                "model_version": "m1",
                "result": {"sentiment": "positive"},
                "score": 0.8,
            },
            {"external_id": second.external_id, "result": {"sentiment": "negative"}, "score": 0.3},
            {
                "item": first.pk,
                "model_version": "m2",
                "result": {"sentiment": "neutral"},
                "score": 0.4,
            },
        ],
    )
    assert response.status_code == 201, response.json()
    assert response.json() == {"created": 3}
    assert Prediction.objects.count() == 3
    newest = Item.objects.get(pk=first.pk)
    assert (newest.prediction_score, newest.prediction_model_version) == (0.4, "m2")
    assert newest.predictions.first().model_version == "m2"  # ids follow the rows' order
    assert Item.objects.get(pk=second.pk).prediction_score == 0.3
    stored = Prediction.objects.get(item=second)
    assert (stored.model_version, stored.result, stored.score) == (
        "",
        {"sentiment": "negative"},
        0.3,
    )


def test_a_bad_result_gets_400_naming_the_control_and_nothing_is_stored(project, lead_api):
    good, bad = ItemFactory.create_batch(2, project=project)
    response = post(
        lead_api,
        project,
        [
            {"item": good.pk, "result": {"sentiment": "positive"}, "score": 0.9},
            {"item": bad.pk, "result": {"sentiment": "furious"}, "score": 0.1},
        ],
    )
    assert response.status_code == 400
    (error,) = response.json()["errors"]
    assert error["line"] == 2 and "sentiment" in error["result"]
    assert not Prediction.objects.exists()
    assert Item.objects.filter(prediction_score__isnull=False).count() == 0


def test_every_bad_row_is_reported_by_line(project, lead_api):
    item = ItemFactory(project=project)
    other_project_item = ItemFactory()
    response = post(
        lead_api,
        project,
        [
            {"item": item.pk, "result": {"sentiment": "positive"}, "score": "high"},
            {"external_id": "nope", "result": {"sentiment": "positive"}},
            {"item": other_project_item.pk, "result": {"sentiment": "positive"}},
            {"item": item.pk},
            "not an object",
            {"result": {"sentiment": "positive"}},
            {"item": item.pk, "result": {"sentiment": "positive", "unknown": 1}},
        ],
    )
    assert response.status_code == 400
    errors = {e["line"]: e for e in response.json()["errors"]}
    assert set(errors) == {1, 2, 3, 4, 5, 6, 7}
    assert "score" in errors[1]
    assert "item" in errors[2] and "item" in errors[3] and "item" in errors[6]
    assert "result" in errors[4]
    assert "unknown" in errors[7]["result"]
    assert not Prediction.objects.exists()


def test_only_leads_add_predictions(project, annotator_api):
    item = ItemFactory(project=project)
    response = post(
        annotator_api, project, [{"item": item.pk, "result": {"sentiment": "positive"}}]
    )
    assert response.status_code == 403


def test_next_carries_the_newest_prediction_when_the_project_prefills(
    project, lead_api, annotator_api
):
    item = ItemFactory(project=project)
    post(
        lead_api,
        project,
        [
            {
                "item": item.pk,
                "model_version": "old",
                "result": {"sentiment": "negative"},
                "score": 0.2,
            }
        ],
    )
    post(
        lead_api,
        project,
        [
            {
                "item": item.pk,
                "model_version": "new",
                "result": {"sentiment": "positive"},
                "score": 0.7,
            }
        ],
    )

    body = annotator_api.get(f"/api/projects/{project.pk}/next/").json()
    assert body["prediction"] is None  # the project does not pre-fill

    project.prefill_predictions = True
    project.save()
    body = annotator_api.get(f"/api/projects/{project.pk}/next/").json()
    assert body["item"]["id"] == item.pk
    assert body["prediction"] == {
        "result": {"sentiment": "positive"},
        "model_version": "new",
        "score": 0.7,
    }


def test_next_has_a_null_prediction_for_an_item_without_one(project, annotator_api):
    project.prefill_predictions = True
    project.save()
    ItemFactory(project=project)
    assert annotator_api.get(f"/api/projects/{project.pk}/next/").json()["prediction"] is None


def test_a_score_that_is_not_a_finite_number_is_stored_as_none(project):
    """A model server's JSON may hold NaN or Infinity: neither is a score to order by."""
    items = ItemFactory.create_batch(3, project=project)
    with transaction.atomic():
        predictions_store(
            [
                Prediction(item_id=item.pk, model_version="m", result={"a": 1}, score=score)
                for item, score in zip(items, [math.nan, math.inf, 0.25], strict=True)
            ]
        )
    scores = dict(Item.objects.values_list("pk", "prediction_score"))
    assert [scores[item.pk] for item in items] == [None, None, 0.25]
    stored = dict(Prediction.objects.values_list("item_id", "score"))
    assert [stored[item.pk] for item in items] == [None, None, 0.25]
