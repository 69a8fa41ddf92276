"""An alert the rollups raise goes to the webhooks subscribed to monitor.alert (the outbox row
commits with the alert), once, to a real receiver on 127.0.0.1."""

from datetime import datetime

import pytest

from labeling.integrations import webhooks
from labeling.integrations.models import WebhookEvent
from labeling.monitor.models import Alert
from labeling.monitor.rollups import monitor_rollups_refresh
from tests.conftest import api_client_for
from tests.labeling.integrations.receivers import Receiver
from tests.labeling.monitor.simulation import monitored_project

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = True
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


def test_an_alert_is_posted_to_the_subscribed_webhook_once(
    project, lead, annotator, receiver, django_capture_on_commit_callbacks
):
    webhooks.webhook_create(
        project=project,
        url=receiver.url,
        events=["monitor.alert"],
        user=lead,
        secret="s3cret",
        send_payload=True,
    )
    with django_capture_on_commit_callbacks(execute=True):
        monitored_project(project, annotator)
    alerts = list(Alert.objects.filter(project=project).order_by("id"))
    assert any(a.kind == Alert.Kind.ACCURACY for a in alerts)
    received = receiver.wait_for(len(alerts))
    assert {r.headers["X-Quorum-Event"] for r in received} == {"monitor.alert"}
    assert webhooks.signature_verify(
        secret="s3cret", body=received[0].body, header=received[0].headers["X-Quorum-Signature"]
    )
    sent = {r.json["data"]["alert"]["id"]: r.json["data"]["alert"] for r in received}
    assert sorted(sent) == [a.pk for a in alerts]
    # What the webhook says of an alert is what the API's alerts list says.
    listed = api_client_for(lead).get(f"/api/projects/{project.pk}/monitor/alerts/").json()
    for shown in listed:
        posted = sent[shown["id"]]
        for name in ("created_at", "bucket_start"):
            assert datetime.fromisoformat(posted.pop(name)) == datetime.fromisoformat(
                shown.pop(name).replace("Z", "+00:00")
            )
        assert posted == shown
    # A refresh that raises nothing new sends nothing.
    with django_capture_on_commit_callbacks(execute=True):
        monitor_rollups_refresh(project_id=project.pk, full=True)
    assert Alert.objects.filter(project=project).count() == len(alerts)
    assert WebhookEvent.objects.filter(event="monitor.alert").count() == len(alerts)
    assert len(receiver.requests) == len(alerts)


def test_no_webhook_no_outbox_row(project, annotator, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        monitored_project(project, annotator)
    assert Alert.objects.filter(project=project).exists()
    assert not WebhookEvent.objects.exists()
