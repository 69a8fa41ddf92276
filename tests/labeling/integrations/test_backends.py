"""Model backends over Label Studio's ML backend protocol, against a real server with a real
scikit-learn model (tests/labeling/integrations/ml_backend_server.py): setup and health,
training on the project's resolved labels (on a click and every N resolved items), batch
pre-annotation after an import, on-demand prediction within the time limit, and the failures
(timeout, backend down, results the schema cannot hold) that never break labeling."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from labeling.annotate.submit import annotation_submit
from labeling.integrations import backends
from labeling.integrations.models import ModelBackend
from projects.models import Item, Prediction
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db

POSITIVE = ["what a great lovely day", "great fun and lovely people", "lovely great work"]
NEGATIVE = ["awful terrible service", "terrible awful weather", "an awful terrible mess"]


def connect(project, server, **fields):
    return backends.backend_create(project=project, fields={"url": server.url, **fields})


def labeled(project, annotator, capture):
    """Six resolved items, three of each sentiment."""
    for text, value in [(t, "positive") for t in POSITIVE] + [(t, "negative") for t in NEGATIVE]:
        item = ItemFactory(project=project, data={"text": text})
        with capture(execute=True):
            annotation_submit(item=item, annotator=annotator, result={"sentiment": value})


def test_connecting_checks_health_and_sends_the_label_studio_config_to_setup(project, ml_backend):
    backend = connect(project, ml_backend)
    assert backend.health == "up" and "TfidfLogReg" in backend.health_message
    assert backend.model_version == "untrained"
    (setup,) = ml_backend.paths("/setup")
    assert setup["project"].startswith(f"{project.pk}.")
    assert '<Choices name="sentiment" toName="text"' in setup["schema"]
    assert '<Text name="text" value="$text"' in setup["schema"]


def test_a_lead_trains_the_backend_on_resolved_labels_and_new_items_are_pre_annotated(
    project, lead_api, annotator, ml_backend, django_capture_on_commit_callbacks
):
    backend = connect(project, ml_backend, batch_size=2)
    labeled(project, annotator, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_api.post(f"/api/model-backends/{backend.pk}/train/")
    assert response.status_code == 202
    backend.refresh_from_db()
    assert backend.training == "done" and backend.training_message == "trained on 6 resolved items"
    assert backend.model_version == "tfidf-logreg-v1"
    (train,) = ml_backend.paths("/train")
    choices = {
        a["result"][0]["value"]["choices"][0]
        for t in train["annotations"]
        for a in t["annotations"]
    }
    assert choices == {"positive", "negative"}

    upload = SimpleUploadedFile(
        "new.csv",
        b"external_id,text\nn1,such a lovely great film\nn2,terrible awful food\n"
        b"n3,great lovely music\n",
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            lead_api.post(
                f"/api/projects/{project.pk}/imports/", {"file": upload}, format="multipart"
            ).status_code
            == 202
        )
    predicted = {p.item.external_id: p for p in Prediction.objects.select_related("item")}
    assert set(predicted) == {"n1", "n2", "n3"}
    assert predicted["n1"].result == {"sentiment": "positive"}
    assert predicted["n2"].result == {"sentiment": "negative"}
    assert predicted["n1"].model_version == "tfidf-logreg-v1"
    assert 0.5 < predicted["n1"].score <= 1.0
    assert len(ml_backend.paths("/predict")) == 2  # batches of two: [n1, n2], [n3]
    item = Item.objects.get(external_id="n2")
    assert (item.prediction_score, item.prediction_model_version) == (
        predicted["n2"].score,
        "tfidf-logreg-v1",
    )


def test_training_is_asked_for_every_n_resolved_items(
    project, annotator, ml_backend, django_capture_on_commit_callbacks
):
    backend = connect(project, ml_backend, train_every=3, pre_annotate=False)
    labeled(project, annotator, django_capture_on_commit_callbacks)  # six resolutions
    assert len(ml_backend.paths("/train")) == 2
    backend.refresh_from_db()
    assert backend.training == "done" and backend.resolved_since_training == 0


def test_a_backend_without_train_gets_the_start_training_webhook(
    project, annotator, ml_backend, django_capture_on_commit_callbacks
):
    ml_backend.train_path_missing = True
    backend = connect(project, ml_backend)
    labeled(project, annotator, django_capture_on_commit_callbacks)
    assert backends.backend_train(backend_id=backend.pk) == "done"
    assert ml_backend.paths("/webhook")[0]["action"] == "START_TRAINING"


def test_an_annotator_opening_an_item_without_a_prediction_gets_one_on_demand(
    project, annotator, annotator_api, ml_backend, django_capture_on_commit_callbacks
):
    # A generous limit: the machine running the tests may be busy (the limit has its own test).
    backend = connect(project, ml_backend, pre_annotate=False, predict_timeout_ms=10_000)
    labeled(project, annotator, django_capture_on_commit_callbacks)
    backends.backend_train(backend_id=backend.pk)
    item = ItemFactory(project=project, data={"text": "terrible awful awful day"})
    body = annotator_api.get(f"/api/projects/{project.pk}/next/").json()
    assert body["item"]["id"] == item.pk
    assert body["prediction"]["result"] == {"sentiment": "negative"}
    assert body["prediction"]["model_version"] == "tfidf-logreg-v1"
    assert Prediction.objects.filter(item=item).count() == 1


def test_a_slow_backend_is_not_waited_for_beyond_the_time_limit(
    project, annotator, annotator_api, ml_backend, django_capture_on_commit_callbacks
):
    backend = connect(project, ml_backend, pre_annotate=False, predict_timeout_ms=200)
    labeled(project, annotator, django_capture_on_commit_callbacks)
    backends.backend_train(backend_id=backend.pk)
    ml_backend.delay = 3.0
    item = ItemFactory(project=project, data={"text": "lovely"})
    response = annotator_api.get(f"/api/projects/{project.pk}/next/")
    assert response.status_code == 200
    assert response.json()["item"]["id"] == item.pk and response.json()["prediction"] is None
    backend.refresh_from_db()
    assert "took over 0.2 s" in backend.last_error
    ml_backend.delay = 0.0


def test_a_backend_that_is_down_shows_as_down_and_labeling_goes_on(
    project, annotator, annotator_api, ml_backend, django_capture_on_commit_callbacks
):
    backend = connect(project, ml_backend)
    ml_backend.stop()
    item = ItemFactory(project=project)
    assert backends.items_predict(backend_id=backend.pk, item_ids=[item.pk]) == 0
    backend.refresh_from_db()
    assert "/predict is unreachable" in backend.last_error
    assert backends.backend_health_check(backend=backend) == "down"
    body = annotator_api.get(f"/api/projects/{project.pk}/next/").json()
    assert body["item"]["id"] == item.pk and body["prediction"] is None
    response = annotator_api.post(
        f"/api/items/{item.pk}/annotations/", {"result": {"sentiment": "neutral"}}, format="json"
    )
    assert response.status_code == 201
    with django_capture_on_commit_callbacks(execute=True):
        assert backends.backend_train(backend_id=backend.pk) == "failed"
    backend.refresh_from_db()
    assert backend.training == "failed" and "/train is unreachable" in backend.training_message
    client = Client()
    client.force_login(project.memberships.get(role="lead").user)
    panel = client.get(f"/projects/{project.pk}/integrations/panel/").content.decode()
    assert "down" in panel and "failed" in panel and "unreachable" in panel


def test_results_the_schema_cannot_hold_are_counted_and_named_never_stored(
    project, annotator, ml_backend, django_capture_on_commit_callbacks
):
    backend = connect(project, ml_backend)
    labeled(project, annotator, django_capture_on_commit_callbacks)
    backends.backend_train(backend_id=backend.pk)
    ml_backend.bad_labels = True
    item = ItemFactory(project=project, data={"text": "lovely"})
    assert backends.items_predict(backend_id=backend.pk, item_ids=[item.pk]) == 0
    assert not Prediction.objects.filter(item=item).exists()
    backend.refresh_from_db()
    assert backend.predictions_refused == 1
    assert "the schema cannot hold it" in backend.last_error
    assert item.external_id in backend.last_error


def test_bad_backend_settings_answer_the_field_and_store_nothing(lead_api, project):
    response = lead_api.post(
        f"/api/projects/{project.pk}/model-backends/",
        {"url": "http://127.0.0.1:9", "predict_timeout_ms": 0},
        format="json",
    )
    assert response.status_code == 400 and "predict_timeout_ms" in response.json()
    response = lead_api.post(
        f"/api/projects/{project.pk}/model-backends/", {"url": "ftp://x"}, format="json"
    )
    assert response.status_code == 400 and "url" in response.json()
    assert not ModelBackend.objects.exists()


def test_the_api_and_page_show_health_and_training(project, lead, lead_api, ml_backend):
    response = lead_api.post(
        f"/api/projects/{project.pk}/model-backends/",
        {"url": ml_backend.url, "train_every": 50, "title": "sentiment model"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["health"] == "up" and body["training"] == "idle" and body["train_every"] == 50
    assert lead_api.post(f"/api/model-backends/{body['id']}/check/").json()["health"] == "up"
    client = Client()
    client.force_login(lead)
    page = client.get(f"/projects/{project.pk}/integrations/").content.decode()
    assert "sentiment model" in page and "every 50 resolved" in page
