"""Signed webhooks: events recorded in their cause's transaction (an outbox), delivered by
Celery one at a time per webhook in event order, retried with exponential backoff for up to a
day, and paused after too many failures in a row (the project's leads are told by mail).

Public: WEBHOOK_EVENTS, webhook_url_check, webhook_create, webhook_update, webhook_resume,
webhooks_event_record, webhook_deliver_pending, delivery_redeliver, deliveries_due,
signature_header, signature_verify.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from labeling.integrations.models import Webhook, WebhookDelivery, WebhookEvent
from labeling.integrations.outbound import OutboundRefused, outbound_url_check
from labeling.integrations.secrets import secret_decrypt, secret_encrypt
from projects.models import Membership, Project

log = logging.getLogger(__name__)

WEBHOOK_EVENTS = (
    "item.created",
    "annotation.created",
    "annotation.updated",
    "item.resolved",
    "review.decided",
    "import.finished",
    "export.finished",
    "monitor.alert",
    "project.updated",
)
OPEN = (WebhookDelivery.Status.PENDING, WebhookDelivery.Status.RETRYING)
EXCERPT_CHARS = 2000


class WebhookRefused(ValueError):
    """Bad webhook settings; `field` names the field the message is about."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def webhook_url_check(url: str) -> None:
    """Refuse what is not http(s), and hosts resolving to loopback, private, link-local (or
    otherwise non-public) addresses unless WEBHOOKS_ALLOW_PRIVATE_HOSTS: a webhook must not be
    a way to probe the server's own network. Checked on save and again before each request."""
    try:
        outbound_url_check(
            url,
            field="url",
            allow_private=settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS,
            setting="WEBHOOKS_ALLOW_PRIVATE_HOSTS",
        )
    except OutboundRefused as exc:
        raise WebhookRefused(exc.field, str(exc)) from exc


def _events_check(events: Any) -> list[str]:
    if not isinstance(events, list) or not events:
        raise WebhookRefused("events", "Name at least one event, as a list.")
    unknown = sorted({str(e) for e in events} - set(WEBHOOK_EVENTS))
    if unknown:
        raise WebhookRefused(
            "events", f"Unknown events {unknown}; known: {', '.join(WEBHOOK_EVENTS)}."
        )
    return [e for e in WEBHOOK_EVENTS if e in events]


def webhook_create(
    *,
    project: Project | None,
    url: str,
    events: list[str],
    user,
    secret: str = "",
    send_payload: bool = True,
    is_active: bool = True,
) -> tuple[Webhook, str]:
    """Create a webhook; return it with its plain secret (generated when none is given), which
    the caller shows once."""
    webhook_url_check(url)
    events = _events_check(events)
    secret = secret or secrets.token_urlsafe(32)
    webhook = Webhook.objects.create(
        project=project,
        url=url,
        events=events,
        secret_encrypted=secret_encrypt(secret),
        send_payload=send_payload,
        is_active=is_active,
        created_by=user,
    )
    return webhook, secret


def webhook_update(*, webhook: Webhook, changes: dict[str, Any]) -> Webhook:
    """Change url, events, secret, send_payload or is_active; re-activating resumes delivery."""
    if "url" in changes:
        webhook_url_check(changes["url"])
        webhook.url = changes["url"]
    if "events" in changes:
        webhook.events = _events_check(changes["events"])
    if changes.get("secret"):
        webhook.secret_encrypted = secret_encrypt(changes["secret"])
    if "send_payload" in changes:
        webhook.send_payload = bool(changes["send_payload"])
    resumed = changes.get("is_active") is True and not webhook.is_active
    if "is_active" in changes:
        webhook.is_active = bool(changes["is_active"])
    if resumed:
        webhook.paused_reason = ""
        webhook.consecutive_failures = 0
    webhook.save()
    if resumed:
        _enqueue(webhook.pk)
    return webhook


def webhook_resume(*, webhook: Webhook) -> Webhook:
    return webhook_update(webhook=webhook, changes={"is_active": True})


# --- recording events (called inside the cause's transaction) -------------------------------


def webhooks_listening(*, project_id: int, event: str) -> list[Webhook]:
    """Active webhooks of the project, and global ones, that receive the event."""
    hooks = Webhook.objects.filter(Q(project_id=project_id) | Q(project__isnull=True)).filter(
        is_active=True
    )
    return [hook for hook in hooks if event in hook.events]


def webhooks_event_record(
    *, project_id: int, event: str, ids: dict[str, Any], data_build
) -> WebhookEvent | None:
    """Record the event and one delivery per listening webhook, in the caller's transaction;
    the deliveries are sent once it commits. `data_build()` makes the full object, called only
    if a listening webhook wants it."""
    hooks = webhooks_listening(project_id=project_id, event=event)
    if not hooks:
        return None
    data = data_build() if any(h.send_payload for h in hooks) else None
    recorded = WebhookEvent.objects.create(project_id=project_id, event=event, ids=ids, data=data)
    WebhookDelivery.objects.bulk_create(WebhookDelivery(webhook=h, event=recorded) for h in hooks)
    for hook in hooks:
        _enqueue(hook.pk)
    return recorded


def _enqueue(webhook_id: int, *, countdown: float | None = None) -> None:
    from labeling.integrations.tasks import webhook_deliver  # tasks import this module

    def send() -> None:
        if countdown is None:
            webhook_deliver.delay(webhook_id)
        elif not settings.CELERY_TASK_ALWAYS_EAGER:  # in-process mode has no delayed tasks
            webhook_deliver.apply_async((webhook_id,), countdown=countdown)

    transaction.on_commit(send)


# --- delivering -------------------------------------------------------------------------------


def payload_body(*, event: WebhookEvent, full: bool) -> bytes:
    """The request body: the same bytes for every attempt of a delivery."""
    body = {
        "id": str(event.id),
        "event": event.event,
        "created_at": event.created_at.isoformat(),
        "project": event.project_id,
        "data": event.data if full and event.data is not None else event.ids,
    }
    return json.dumps(body, separators=(",", ":"), sort_keys=True).encode()


def signature_header(*, secret: str, body: bytes, timestamp: int | None = None) -> str:
    """`t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (the Stripe scheme)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signature_verify(*, secret: str, body: bytes, header: str, tolerance: int = 300) -> bool:
    """What a receiver does (the README shows the same in a few lines)."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance:
        return False
    expected = signature_header(secret=secret, body=body, timestamp=timestamp).split("v1=")[1]
    return hmac.compare_digest(expected, parts.get("v1", ""))


@dataclass
class AttemptOutcome:
    ok: bool
    response_code: int | None = None
    excerpt: str = ""
    error: str = ""
    duration_ms: int = 0


def _attempt(*, webhook: Webhook, delivery: WebhookDelivery) -> AttemptOutcome:
    import requests  # where it is used: every process loads this module, few send webhooks

    body = payload_body(event=delivery.event, full=webhook.send_payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Quorum-Webhooks/1",
        "X-Quorum-Event": delivery.event.event,
        "X-Quorum-Delivery": str(delivery.event_id),
        "X-Quorum-Signature": signature_header(
            secret=secret_decrypt(webhook.secret_encrypted), body=body
        ),
    }
    started = time.monotonic()
    try:
        webhook_url_check(webhook.url)  # again: the host's addresses may have changed
        response = requests.post(
            webhook.url,
            data=body,
            headers=headers,
            timeout=settings.WEBHOOKS_TIMEOUT_SECONDS,
            allow_redirects=False,
        )
    except (requests.RequestException, WebhookRefused) as exc:
        elapsed = int((time.monotonic() - started) * 1000)
        return AttemptOutcome(
            ok=False, error=f"{type(exc).__name__}: {exc}"[:EXCERPT_CHARS], duration_ms=elapsed
        )
    elapsed = int((time.monotonic() - started) * 1000)
    ok = 200 <= response.status_code < 300
    return AttemptOutcome(
        ok=ok,
        response_code=response.status_code,
        excerpt=response.text[:EXCERPT_CHARS],
        error="" if ok else f"the receiver answered {response.status_code}",
        duration_ms=elapsed,
    )


def retry_delay(attempts: int) -> float:
    """Seconds before the next attempt after `attempts` failed ones: doubling from the base."""
    base = settings.WEBHOOKS_RETRY_BASE_SECONDS
    return min(base * 2 ** max(attempts - 1, 0), settings.WEBHOOKS_RETRY_MAX_DELAY_SECONDS)


def webhook_deliver_pending(*, webhook_id: int, limit: int = 500) -> int:
    """Send the webhook's open deliveries in order until one fails or none is due; return how
    many succeeded. The webhook's row is locked meanwhile, so one sender at a time keeps the
    order. A failure schedules its retry; later deliveries wait behind it."""
    sent = 0
    for _ in range(limit):
        with transaction.atomic():
            webhook = Webhook.objects.select_for_update().filter(pk=webhook_id).first()
            if webhook is None or not webhook.is_active:
                return sent
            delivery = (
                WebhookDelivery.objects.select_related("event")
                .filter(webhook=webhook, status__in=OPEN)
                .order_by("id")
                .first()
            )
            if delivery is None:
                return sent
            now = timezone.now()
            if delivery.next_attempt_at and delivery.next_attempt_at > now:
                return sent  # its retry is scheduled
            outcome = _attempt(webhook=webhook, delivery=delivery)
            _outcome_record(webhook=webhook, delivery=delivery, outcome=outcome)
            if not outcome.ok and delivery.status == WebhookDelivery.Status.RETRYING:
                return sent
            sent += outcome.ok
    _enqueue(webhook_id)  # more than one call's worth: go on in a fresh task
    return sent


def _outcome_record(
    *, webhook: Webhook, delivery: WebhookDelivery, outcome: AttemptOutcome
) -> None:
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_attempt_at = now
    delivery.response_code = outcome.response_code
    delivery.response_excerpt = outcome.excerpt
    delivery.error = outcome.error
    delivery.duration_ms = outcome.duration_ms
    if outcome.ok:
        delivery.status = WebhookDelivery.Status.SUCCEEDED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        webhook.consecutive_failures = 0
    else:
        webhook.consecutive_failures += 1
        window_end = delivery.created_at + timedelta(seconds=settings.WEBHOOKS_RETRY_FOR_SECONDS)
        delay = retry_delay(delivery.attempts)
        if now + timedelta(seconds=delay) > window_end:
            delivery.status = WebhookDelivery.Status.FAILED  # gave up: the next one goes on
            delivery.next_attempt_at = None
        else:
            delivery.status = WebhookDelivery.Status.RETRYING
            delivery.next_attempt_at = now + timedelta(seconds=delay)
            _enqueue(webhook.pk, countdown=delay)
        if webhook.consecutive_failures >= settings.WEBHOOKS_PAUSE_AFTER_FAILURES:
            _pause(webhook=webhook, reason=outcome.error)
    delivery.save()
    webhook.save(update_fields=["consecutive_failures", "is_active", "paused_reason"])


def _pause(*, webhook: Webhook, reason: str) -> None:
    webhook.is_active = False
    webhook.paused_reason = (
        f"Paused after {webhook.consecutive_failures} failed attempts in a row; last: {reason}"
    )[:500]
    if webhook.project_id is None:
        recipients = list(
            get_user_model().objects.filter(is_staff=True).values_list("email", flat=True)
        )
    else:
        recipients = list(
            Membership.objects.filter(
                project_id=webhook.project_id, role=Membership.Role.LEAD
            ).values_list("user__email", flat=True)
        )
    recipients = [r for r in recipients if r]
    if recipients:
        transaction.on_commit(
            lambda: send_mail(
                subject=f"Quorum: webhook to {webhook.url} paused",
                message=f"{webhook.paused_reason}\n\nResume it from the project's webhooks page"
                " once the receiver is fixed; the deliveries waiting will be sent in order.",
                from_email=None,
                recipient_list=recipients,
                fail_silently=True,
            )
        )
    log.warning("webhook %s paused: %s", webhook.pk, webhook.paused_reason)


def delivery_redeliver(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send the delivery's event again (same event id, so receivers can dedupe), as a new
    delivery queued behind the webhook's open ones."""
    again = WebhookDelivery.objects.create(webhook=delivery.webhook, event=delivery.event)
    _enqueue(delivery.webhook_id)
    return again


def deliveries_due() -> int:
    """Enqueue the webhooks whose next retry is due (the beat's safety net for lost tasks)."""
    now = timezone.now()
    webhook_ids = set(
        WebhookDelivery.objects.filter(status__in=OPEN, webhook__is_active=True)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .values_list("webhook_id", flat=True)
    )
    with transaction.atomic():
        for webhook_id in webhook_ids:
            _enqueue(webhook_id)
    return len(webhook_ids)
