"""The integrations through a real Celery worker on Redis: a CSV import run by the worker makes
item.created reach the model backend (pre-annotation in batches) and a webhook, and a storage
sync started through the API is done by the worker against the moto S3 server."""

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from labeling.integrations import backends, webhooks
from labeling.integrations import storage as storage_svc
from labeling.integrations.models import CloudStorage
from projects.models import Item, Prediction
from tests.labeling.integrations.s3_server import ACCESS_KEY, REGION, SECRET_KEY

pytestmark = [pytest.mark.worker, pytest.mark.postgres]


@pytest.fixture
def worker_allowing_loopback(celery_worker_process, monkeypatch):
    monkeypatch.setenv("WEBHOOKS_ALLOW_PRIVATE_HOSTS", "true")
    celery_worker_process.stop_all()
    worker = celery_worker_process.start()
    yield worker
    celery_worker_process.stop_all()


def wait_until(check, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


def test_an_import_by_the_worker_is_pre_annotated_and_announced(
    worker_allowing_loopback, project, lead, lead_api, receiver, ml_backend, settings
):
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = True
    webhooks.webhook_create(
        project=project, url=receiver.url, events=["item.created", "import.finished"], user=lead
    )
    ml_backend.fit(
        [
            {
                "data": {"text": t},
                "annotations": [
                    {
                        "result": [
                            {"from_name": "sentiment", "type": "choices", "value": {"choices": [v]}}
                        ]
                    }
                ],
            }
            for t, v in [("lovely great", "positive"), ("awful terrible", "negative")]
        ],
        backends.project_label_config(project),
    )
    backends.backend_create(project=project, fields={"url": ml_backend.url, "batch_size": 2})
    upload = SimpleUploadedFile(
        "rows.csv", b"external_id,text\na,lovely day\nb,terrible day\nc,great lovely\n"
    )
    response = lead_api.post(
        f"/api/projects/{project.pk}/imports/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 202
    wait_until(lambda: Prediction.objects.count() == 3)
    results = {
        p.item.external_id: p.result["sentiment"] for p in Prediction.objects.select_related("item")
    }
    assert results == {"a": "positive", "b": "negative", "c": "positive"}
    events = [r.json["event"] for r in receiver.wait_for(2)]
    assert events == ["item.created", "import.finished"]


def test_a_sync_started_through_the_api_is_done_by_the_worker(
    celery_worker_process, project, lead_api, bucket, s3_endpoint
):
    project.label_schema = {
        "controls": [{"name": "animal", "kind": "choice", "source": "image", "labels": ["a"]}]
    }
    project.save()
    for n in range(25):
        bucket.put_object(Bucket="quorum-test", Key=f"w/{n:03d}.jpg", Body=b"x")
    storage = storage_svc.storage_create(
        project=project,
        fields={
            "role": "source",
            "bucket": "quorum-test",
            "prefix": "w/",
            "endpoint_url": s3_endpoint,
            "region": REGION,
        },
        access_key=ACCESS_KEY,
        secret_key=SECRET_KEY,
    )
    assert lead_api.post(f"/api/storages/{storage.pk}/sync/").status_code == 202
    wait_until(lambda: CloudStorage.objects.get(pk=storage.pk).sync_status == "done")
    assert Item.objects.filter(project=project).count() == 25
