"""Webhooks against a real HTTP receiver on 127.0.0.1: signature, headers and body, order per
item, retries with backoff against a receiver that fails then recovers, dedupe ids on redelivery,
pausing after failures in a row, and the refusal of URLs that would reach the server's network."""

import hashlib
import hmac
import json
import time

import pytest
from django.core import mail
from django.test import Client

from labeling.annotate.submit import annotation_submit
from labeling.integrations import webhooks
from labeling.integrations.models import Webhook, WebhookDelivery, WebhookEvent
from tests.conftest import api_client_for
from tests.factories import ItemFactory, UserFactory

pytestmark = pytest.mark.django_db


def webhook_for(project, url, events, *, lead, send_payload=True, secret="s3cret"):
    webhook, _ = webhooks.webhook_create(
        project=project,
        url=url,
        events=events,
        user=lead,
        secret=secret,
        send_payload=send_payload,
    )
    return webhook


def expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    # Computed here independently of the code under test, as a receiver would.
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def test_an_annotation_is_posted_signed_with_the_event_id_and_the_full_object(
    project, lead, annotator, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    webhook_for(project, receiver.url, ["annotation.created", "item.resolved"], lead=lead)
    item = ItemFactory(project=project)
    with django_capture_on_commit_callbacks(execute=True):
        annotation, _ = annotation_submit(
            item=item, annotator=annotator, result={"sentiment": "positive"}
        )

    first, second = receiver.wait_for(2)
    assert first.headers["X-Quorum-Event"] == "annotation.created"
    assert second.headers["X-Quorum-Event"] == "item.resolved"
    body = first.json
    assert set(body) == {"id", "event", "created_at", "project", "data"}
    assert body["event"] == "annotation.created" and body["project"] == project.pk
    assert first.headers["X-Quorum-Delivery"] == body["id"]
    assert body["data"]["annotation"]["id"] == annotation.pk
    assert body["data"]["annotation"]["result"] == {"sentiment": "positive"}
    assert body["data"]["annotation"]["annotator"] == annotator.username
    assert body["data"]["item"]["external_id"] == item.external_id
    assert second.json["data"]["resolution"]["result"] == {"sentiment": "positive"}
    signature = dict(p.split("=", 1) for p in first.headers["X-Quorum-Signature"].split(","))
    assert abs(int(signature["t"]) - time.time()) < 60
    assert signature["v1"] == expected_signature("s3cret", signature["t"], first.body)
    assert webhooks.signature_verify(
        secret="s3cret", body=first.body, header=first.headers["X-Quorum-Signature"]
    )
    assert not webhooks.signature_verify(
        secret="other", body=first.body, header=first.headers["X-Quorum-Signature"]
    )
    delivery = WebhookDelivery.objects.get(event__event="annotation.created")
    assert delivery.status == "succeeded" and delivery.attempts == 1
    assert delivery.response_code == 200 and delivery.duration_ms is not None


def test_ids_only_webhooks_get_ids_and_an_unsubscribed_event_records_nothing(
    project, lead, annotator, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    webhook_for(project, receiver.url, ["annotation.created"], lead=lead, send_payload=False)
    item = ItemFactory(project=project)
    with django_capture_on_commit_callbacks(execute=True):
        annotation, _ = annotation_submit(
            item=item, annotator=annotator, result={"sentiment": "negative"}
        )
    (request,) = receiver.wait_for(1)
    assert request.json["data"] == {"annotation": annotation.pk, "item": item.pk}
    # item.resolved happened too, but no webhook listens for it: no outbox row.
    assert list(WebhookEvent.objects.values_list("event", flat=True)) == ["annotation.created"]
    assert WebhookEvent.objects.get().data is None  # nobody wanted the full object


def test_events_reach_the_receiver_in_order_per_item(
    project, lead, annotator, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    project.overlap = 2
    project.save()
    webhook_for(
        project,
        receiver.url,
        ["item.created", "annotation.created", "annotation.updated", "item.resolved"],
        lead=lead,
    )
    other = UserFactory(username="other")
    project.memberships.create(user=other, role="annotator")
    api = api_client_for(lead)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(
            f"/api/projects/{project.pk}/items/",
            [{"external_id": f"e{n}", "data": {"text": f"text {n}"}} for n in range(3)],
            format="json",
        )
    assert response.status_code == 201, response.content
    items = list(project.items.order_by("id"))
    for item in items:
        with django_capture_on_commit_callbacks(execute=True):
            annotation_submit(item=item, annotator=annotator, result={"sentiment": "neutral"})
        with django_capture_on_commit_callbacks(execute=True):
            annotation_submit(item=item, annotator=annotator, result={"sentiment": "positive"})
        with django_capture_on_commit_callbacks(execute=True):
            annotation_submit(item=item, annotator=other, result={"sentiment": "positive"})

    received = receiver.wait_for(1 + 4 * len(items))
    assert received[0].json["event"] == "item.created"
    assert [i["external_id"] for i in received[0].json["data"]["items"]] == ["e0", "e1", "e2"]
    for item in items:
        mine = [r.json["event"] for r in received[1:] if r.json["data"]["item"]["id"] == item.pk]
        assert mine == [
            "annotation.created",
            "annotation.updated",
            "annotation.created",
            "item.resolved",
        ]
    assert len({r.json["id"] for r in received}) == len(received)  # one id per event


def test_a_failing_receiver_is_retried_with_backoff_keeping_order_and_event_ids(
    project,
    lead,
    annotator,
    flaky_receiver,
    loopback_allowed,
    settings,
    django_capture_on_commit_callbacks,
):
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 0.0  # each retry due at once: the test drives them
    webhook = webhook_for(project, flaky_receiver.url, ["annotation.created"], lead=lead)
    project.overlap = 3
    project.save()
    first, second = ItemFactory.create_batch(2, project=project)
    with django_capture_on_commit_callbacks(execute=True):
        annotation_submit(item=first, annotator=annotator, result={"sentiment": "positive"})
        annotation_submit(item=second, annotator=annotator, result={"sentiment": "negative"})
    # Both enqueued tasks (one per event) ran in-process and each tried the head delivery
    # (its retry was due at once): two 503s; the second delivery waits behind it.
    head = WebhookDelivery.objects.order_by("id").first()
    assert head.status == "retrying" and head.response_code == 503 and head.attempts == 2
    assert WebhookDelivery.objects.order_by("id").last().attempts == 0  # waits behind it

    for _ in range(5):
        webhooks.webhook_deliver_pending(webhook_id=webhook.pk)
    received = flaky_receiver.requests
    assert [r.answered for r in received] == [503, 503, 503, 200, 200]
    # The retries carried the same event id (receivers dedupe by it) and the same body.
    assert len({r.headers["X-Quorum-Delivery"] for r in received[:4]}) == 1
    assert len({r.body for r in received[:4]}) == 1
    items_in_order = [r.json["data"]["item"]["id"] for r in flaky_receiver.accepted()]
    assert items_in_order == [first.pk, second.pk]
    head.refresh_from_db()
    assert head.status == "succeeded" and head.attempts == 4
    webhook.refresh_from_db()
    assert webhook.consecutive_failures == 0


def test_backoff_doubles_up_to_its_cap(settings):
    settings.WEBHOOKS_RETRY_BASE_SECONDS = 30
    settings.WEBHOOKS_RETRY_MAX_DELAY_SECONDS = 3600
    assert [webhooks.retry_delay(n) for n in range(1, 9)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
    ]


def test_a_delivery_gives_up_when_the_retry_window_closes_and_the_next_goes_on(
    project, lead, annotator, loopback_allowed, settings, django_capture_on_commit_callbacks
):
    from tests.labeling.integrations.receivers import Receiver

    receiver = Receiver(fail_first=1).start()
    try:
        settings.WEBHOOKS_RETRY_FOR_SECONDS = 0.0  # no time left to retry in
        webhook = webhook_for(project, receiver.url, ["annotation.created"], lead=lead)
        project.overlap = 2
        project.save()
        first, second = ItemFactory.create_batch(2, project=project)
        with django_capture_on_commit_callbacks(execute=True):
            annotation_submit(item=first, annotator=annotator, result={"sentiment": "positive"})
            annotation_submit(item=second, annotator=annotator, result={"sentiment": "negative"})
        statuses = list(WebhookDelivery.objects.order_by("id").values_list("status", flat=True))
        assert statuses == ["failed", "succeeded"]
        assert receiver.accepted()[0].json["data"]["item"]["id"] == second.pk
        webhook.refresh_from_db()
        assert webhook.is_active
    finally:
        receiver.stop()


def test_a_webhook_failing_n_times_in_a_row_is_paused_the_lead_told_and_resume_sends_the_rest(
    project, lead, annotator, loopback_allowed, settings, django_capture_on_commit_callbacks
):
    from tests.labeling.integrations.receivers import Receiver

    receiver = Receiver(fail_first=3).start()
    try:
        settings.WEBHOOKS_RETRY_BASE_SECONDS = 0.0
        settings.WEBHOOKS_PAUSE_AFTER_FAILURES = 3
        webhook = webhook_for(project, receiver.url, ["annotation.created"], lead=lead)
        item = ItemFactory(project=project)
        with django_capture_on_commit_callbacks(execute=True):
            annotation_submit(item=item, annotator=annotator, result={"sentiment": "positive"})
        with django_capture_on_commit_callbacks(execute=True):
            webhooks.webhook_deliver_pending(webhook_id=webhook.pk)
            webhooks.webhook_deliver_pending(webhook_id=webhook.pk)
        webhook.refresh_from_db()
        assert not webhook.is_active and "3 failed attempts in a row" in webhook.paused_reason
        assert len(mail.outbox) == 1 and mail.outbox[0].to == [lead.email]
        assert "paused" in mail.outbox[0].subject
        webhooks.webhook_deliver_pending(webhook_id=webhook.pk)
        assert len(receiver.requests) == 3  # paused: nothing more is sent

        api = api_client_for(lead)
        with django_capture_on_commit_callbacks(execute=True):
            response = api.patch(f"/api/webhooks/{webhook.pk}/", {"is_active": True}, format="json")
        assert response.status_code == 200 and response.json()["paused_reason"] == ""
        assert len(receiver.accepted()) == 1
    finally:
        receiver.stop()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_private_loopback_and_link_local_urls_are_refused_by_default(lead_api, project, url):
    response = lead_api.post(
        f"/api/projects/{project.pk}/webhooks/",
        {"url": url, "events": ["item.resolved"]},
        format="json",
    )
    assert response.status_code == 400, response.content
    assert "url" in response.json() and "private" in response.json()["url"][0]
    assert not Webhook.objects.exists()


@pytest.mark.parametrize("url", ["ftp://example.com/x", "file:///etc/passwd", "gopher://x/"])
def test_only_http_urls_are_accepted(lead_api, project, url, loopback_allowed):
    response = lead_api.post(
        f"/api/projects/{project.pk}/webhooks/",
        {"url": url, "events": ["item.resolved"]},
        format="json",
    )
    assert response.status_code == 400 and "url" in response.json()
    assert not Webhook.objects.exists()


def test_unknown_events_are_refused_naming_the_field(lead_api, project, loopback_allowed):
    response = lead_api.post(
        f"/api/projects/{project.pk}/webhooks/",
        {"url": "http://127.0.0.1:9/h", "events": ["item.exploded"]},
        format="json",
    )
    assert response.status_code == 400 and "events" in response.json()
    assert not Webhook.objects.exists()


def test_the_api_creates_lists_logs_and_redelivers_with_the_same_event_id(
    project,
    lead,
    lead_api,
    annotator,
    annotator_api,
    receiver,
    loopback_allowed,
    django_capture_on_commit_callbacks,
):
    response = lead_api.post(
        f"/api/projects/{project.pk}/webhooks/",
        {"url": receiver.url, "events": ["annotation.created"], "send_payload": False},
        format="json",
    )
    assert response.status_code == 201, response.content
    created = response.json()
    assert len(created["secret"]) >= 32 and created["send_payload"] is False
    webhook_id = created["id"]
    listed = lead_api.get(f"/api/projects/{project.pk}/webhooks/").json()
    assert [w["id"] for w in listed] == [webhook_id] and "secret" not in listed[0]
    assert Webhook.objects.get().secret_encrypted != created["secret"]  # encrypted at rest
    assert annotator_api.get(f"/api/projects/{project.pk}/webhooks/").status_code == 403

    item = ItemFactory(project=project)
    with django_capture_on_commit_callbacks(execute=True):
        annotation_submit(item=item, annotator=annotator, result={"sentiment": "positive"})
    log = lead_api.get(f"/api/webhooks/{webhook_id}/deliveries/").json()
    (row,) = log["results"]
    assert row["status"] == "succeeded" and row["response_code"] == 200 and row["attempts"] == 1
    assert row["event"] == "annotation.created"
    with django_capture_on_commit_callbacks(execute=True):
        again = lead_api.post(f"/api/webhooks/{webhook_id}/deliveries/{row['id']}/redeliver/")
    assert again.status_code == 202 and again.json()["event_id"] == row["event_id"]
    first, second = receiver.wait_for(2)
    assert first.headers["X-Quorum-Delivery"] == second.headers["X-Quorum-Delivery"]
    assert first.headers["X-Quorum-Delivery"] == row["event_id"]
    assert annotator_api.get(f"/api/webhooks/{webhook_id}/deliveries/").status_code == 403
    missing = lead_api.post(f"/api/webhooks/{webhook_id}/deliveries/999999/redeliver/")
    assert missing.status_code == 404


def test_global_webhooks_are_staff_only_and_hear_every_project(
    project, lead, annotator, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    denied = api_client_for(annotator).post(
        "/api/webhooks/", {"url": receiver.url, "events": ["item.resolved"]}, format="json"
    )
    assert denied.status_code == 403
    staff = api_client_for(lead)  # the lead fixture is staff
    response = staff.post(
        "/api/webhooks/", {"url": receiver.url, "events": ["item.resolved"]}, format="json"
    )
    assert response.status_code == 201 and response.json()["project"] is None
    assert [w["id"] for w in staff.get("/api/webhooks/").json()] == [response.json()["id"]]
    item = ItemFactory(project=project)
    with django_capture_on_commit_callbacks(execute=True):
        annotation_submit(item=item, annotator=annotator, result={"sentiment": "positive"})
    (request,) = receiver.wait_for(1)
    assert request.json["event"] == "item.resolved" and request.json["project"] == project.pk


def test_import_finished_and_project_updated_come_from_projects_through_the_hook(
    project, lead, lead_api, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    webhook_for(project, receiver.url, ["import.finished", "project.updated"], lead=lead)
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("rows.csv", b"external_id,text\na,hello\nb,world\n")
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            lead_api.post(
                f"/api/projects/{project.pk}/imports/", {"file": upload}, format="multipart"
            ).status_code
            == 202
        )
    with django_capture_on_commit_callbacks(execute=True):
        lead_api.patch(f"/api/projects/{project.pk}/", {"name": "Renamed"}, format="json")
    imported, updated = receiver.wait_for(2)
    assert imported.json["event"] == "import.finished"
    assert imported.json["data"]["import"]["created"] == 2
    assert updated.json["data"]["project"]["name"] == "Renamed"


def test_the_pages_add_a_webhook_and_show_its_delivery_log(
    project, lead, annotator, receiver, loopback_allowed, django_capture_on_commit_callbacks
):
    client = Client()
    client.force_login(lead)
    page = client.get(f"/projects/{project.pk}/integrations/")
    assert page.status_code == 200 and b"Add a webhook" in page.content
    response = client.post(
        f"/projects/{project.pk}/integrations/",
        {
            "add": "webhook",
            "url": receiver.url,
            "events": ["annotation.created"],
            "send_payload": "on",
        },
    )
    assert response.status_code == 302
    webhook = Webhook.objects.get()
    item = ItemFactory(project=project)
    with django_capture_on_commit_callbacks(execute=True):
        annotation_submit(item=item, annotator=annotator, result={"sentiment": "positive"})
    detail = client.get(f"/webhooks/{webhook.pk}/")
    assert detail.status_code == 200
    assert b"annotation.created" in detail.content and b"succeeded" in detail.content
    panel = client.get(f"/projects/{project.pk}/integrations/panel/")
    assert b"1 webhook" in panel.content
    refused = client.post(
        f"/projects/{project.pk}/integrations/",
        {"add": "webhook", "url": "ftp://x.example/", "events": ["item.resolved"]},
    )
    assert refused.status_code == 200 and Webhook.objects.count() == 1
    annotator_client = Client()
    annotator_client.force_login(annotator)
    assert annotator_client.get(f"/projects/{project.pk}/integrations/").status_code == 403
    assert json.loads(b"{}") == {}


def test_the_beat_sweep_sends_a_retry_whose_delayed_task_was_lost(
    project, lead, annotator, loopback_allowed, settings, django_capture_on_commit_callbacks
):
    from datetime import timedelta

    from django.utils import timezone

    from tests.labeling.integrations.receivers import Receiver

    receiver = Receiver(fail_first=1).start()
    try:
        settings.WEBHOOKS_RETRY_BASE_SECONDS = 3600.0  # the retry is an hour away
        webhook = webhook_for(project, receiver.url, ["annotation.created"], lead=lead)
        item = ItemFactory(project=project)
        with django_capture_on_commit_callbacks(execute=True):
            annotation_submit(item=item, annotator=annotator, result={"sentiment": "positive"})
        delivery = WebhookDelivery.objects.get()
        assert delivery.status == "retrying"
        with django_capture_on_commit_callbacks(execute=True):
            assert webhooks.deliveries_due() == 0  # not due yet
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )
        with django_capture_on_commit_callbacks(execute=True):
            assert webhooks.deliveries_due() == 1
        delivery.refresh_from_db()
        assert delivery.status == "succeeded" and delivery.attempts == 2
        assert webhook.pk == delivery.webhook_id
    finally:
        receiver.stop()


def test_staff_add_global_webhooks_on_their_page(lead, annotator, loopback_allowed, receiver):
    staff = Client()
    staff.force_login(lead)  # the lead fixture is staff
    assert staff.get("/integrations/webhooks/").status_code == 200
    response = staff.post(
        "/integrations/webhooks/",
        {"add": "webhook", "url": receiver.url, "events": ["item.resolved"]},
    )
    assert response.status_code == 302
    webhook = Webhook.objects.get()
    assert webhook.project is None and webhook.send_payload is False  # box left unticked
    assert receiver.url.encode() in staff.get("/integrations/webhooks/").content
    assert staff.get(f"/webhooks/{webhook.pk}/").status_code == 200
    other = Client()
    other.force_login(annotator)
    assert other.get("/integrations/webhooks/").status_code == 403
    assert other.get(f"/webhooks/{webhook.pk}/").status_code == 403


def test_an_event_in_a_project_without_integrations_costs_one_query(
    project, django_assert_num_queries
):
    from labeling.integrations.events import integrations_listener

    with django_assert_num_queries(1):
        integrations_listener.emit(
            project_id=project.pk,
            event="item.resolved",
            ids={"item": 1, "resolution": 1},
            data=None,
        )
    with django_assert_num_queries(1):
        assert not integrations_listener.wanted(project_id=project.pk, event="item.created")
    assert not WebhookEvent.objects.exists()
