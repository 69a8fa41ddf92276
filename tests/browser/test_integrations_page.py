"""The lead connects a webhook and a model backend on the Integrations page, sees the
backend's health and the webhook's delivery log, and the project page's summary."""

import pytest

from labeling.annotate.submit import annotation_submit
from labeling.integrations.models import Webhook
from projects.models import Membership
from tests.browser.conftest import login, screenshot
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory
from tests.labeling.integrations.ml_backend_server import MLBackend
from tests.labeling.integrations.receivers import Receiver

pytestmark = pytest.mark.django_db(transaction=True)


def test_lead_connects_a_webhook_and_a_model_backend(page, page_errors, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = True
    receiver, backend = Receiver().start(), MLBackend().start()
    try:
        lead = UserFactory(username="lena")
        annotator = UserFactory(username="anna")
        project = ProjectFactory(name="Reviews", created_by=lead)
        MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
        MembershipFactory(project=project, user=annotator, role=Membership.Role.ANNOTATOR)

        login(page, "lena")
        page.goto(f"/projects/{project.pk}/")
        page.get_by_role("link", name="Webhooks, storage, model backends").click()
        page.wait_for_url(f"**/projects/{project.pk}/integrations/")

        webhooks = page.locator("#webhooks")
        webhooks.get_by_label("URL").fill(receiver.url)
        webhooks.get_by_label("annotation.created").check()
        webhooks.get_by_role("button", name="Add webhook").click()
        page.get_by_text("Its signing secret (shown once)").wait_for()

        backends = page.locator("#backends")
        backends.get_by_label("Title").fill("sentiment model")
        backends.get_by_label("URL").fill(backend.url)
        backends.get_by_label("Train every").fill("10")
        backends.get_by_role("button", name="Connect backend").click()
        page.get_by_text("Model backend connected: up.").wait_for()
        row = page.locator("#backends tbody tr").first
        assert row.locator("[data-testid=backend-health]").inner_text().startswith("up")
        assert "every 10 resolved" in row.locator("[data-testid=backend-training]").inner_text()
        screenshot(page, "integrations-page")

        annotation_submit(
            item=ItemFactory(project=project),
            annotator=annotator,
            result={"sentiment": "positive"},
        )
        receiver.wait_for(1)
        page.goto(f"/webhooks/{Webhook.objects.get().pk}/")
        status = page.locator("[data-testid=delivery-status]").first
        assert status.inner_text() == "succeeded"
        screenshot(page, "webhook-deliveries")

        page.goto(f"/projects/{project.pk}/")
        page.locator("#integrations-panel").wait_for()
        assert "1 webhook" in page.locator("#integrations-panel").inner_text()
        assert page_errors == []
    finally:
        receiver.stop()
        backend.stop()
