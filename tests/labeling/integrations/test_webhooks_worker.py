"""Webhook delivery through a real Celery worker on Redis: a receiver that fails three times is
retried by delayed tasks with doubling delays, keeps the event id, and gets the events in order."""

import pytest

from labeling.integrations import webhooks
from labeling.integrations.models import WebhookDelivery
from tests.conftest import api_client_for
from tests.factories import ItemFactory

pytestmark = [pytest.mark.worker, pytest.mark.postgres]


@pytest.fixture
def worker_with_fast_retries(celery_worker_process, monkeypatch):
    """A worker of its own, started with loopback allowed and a 0.5 s retry base."""
    monkeypatch.setenv("WEBHOOKS_ALLOW_PRIVATE_HOSTS", "true")
    monkeypatch.setenv("WEBHOOKS_RETRY_BASE_SECONDS", "0.5")
    celery_worker_process.stop_all()
    worker = celery_worker_process.start()
    yield worker
    celery_worker_process.stop_all()  # the next test starts a worker with the usual settings


def test_a_worker_retries_a_failing_receiver_with_backoff_until_it_recovers(
    worker_with_fast_retries, project, lead, annotator, flaky_receiver, settings
):
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = True
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 0.5
    webhooks.webhook_create(
        project=project, url=flaky_receiver.url, events=["annotation.created"], user=lead
    )
    project.overlap = 2
    project.save()
    first, second = ItemFactory.create_batch(2, project=project)
    api = api_client_for(annotator)
    for item in (first, second):
        response = api.post(
            f"/api/items/{item.pk}/annotations/",
            {"result": {"sentiment": "positive"}},
            format="json",
        )
        assert response.status_code == 201

    accepted = flaky_receiver.wait_for(2, timeout=60)
    attempts = flaky_receiver.requests
    assert [r.answered for r in attempts[:3]] == [503, 503, 503]
    first_event = attempts[0].headers["X-Quorum-Delivery"]
    assert all(r.headers["X-Quorum-Delivery"] == first_event for r in attempts[:4])
    assert [r.json["data"]["item"]["id"] for r in accepted] == [first.pk, second.pk]
    gaps = [b.at - a.at for a, b in zip(attempts[:4], attempts[1:4], strict=False)]
    # Retries wait 0.5, 1 and 2 s (a second task may try once early: it still counts).
    assert gaps[-1] >= 1.8 and gaps[-1] > gaps[0]
    head = WebhookDelivery.objects.order_by("id").first()
    assert head.status == "succeeded" and head.attempts >= 4
