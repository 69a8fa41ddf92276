"""The API tokens page (issue 18) in Chromium with the site's Content-Security-Policy enforced:
reached from the menu, a token made, its secret shown once and copied, then revoked."""

import pytest

from projects.models import ApiToken
from tests.browser.conftest import login, screenshot
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_token_is_made_copied_and_revoked_on_the_page(browser, live_server):
    UserFactory(username="scripter")
    context = browser.new_context(viewport={"width": 1280, "height": 720}, base_url=live_server.url)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    problems = []
    page.on(
        "console",
        lambda message: "Content Security Policy" in message.text and problems.append(message.text),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    try:
        login(page, "scripter")
        page.get_by_role("link", name="API tokens").click()
        page.get_by_role("heading", name="API tokens", level=1).wait_for()
        page.get_by_label("Name").fill("training pipeline")
        page.get_by_label("Expires after").select_option(label="30 days")
        page.get_by_role("button", name="Make token").click()

        shown = page.get_by_label("The new token")
        secret = shown.input_value()
        assert secret.startswith("qrm_")
        assert "not shown again" in page.get_by_test_id("new-token").inner_text()
        page.get_by_role("button", name="Copy").click()
        page.get_by_role("button", name="Copied").wait_for()  # the module ran under the policy
        assert page.evaluate("navigator.clipboard.readText()") == secret
        screenshot(page, "i18-api-token-made")

        token = ApiToken.objects.get()
        row = page.get_by_test_id(f"token-{token.pk}")
        assert "training pipeline" in row.inner_text() and token.prefix in row.inner_text()
        page.reload()  # sends the form again: no second token, and the secret is gone
        page.get_by_text("That form was sent already").wait_for()
        assert page.get_by_label("The new token").count() == 0
        assert secret not in page.content()
        assert ApiToken.objects.count() == 1

        page.get_by_role("button", name=f"Revoke training pipeline ({token.prefix}…)").click()
        page.get_by_text(f"Token {token.prefix}… (training pipeline) revoked.").wait_for()
        assert "revoked" in page.get_by_test_id(f"token-{token.pk}").inner_text()
        screenshot(page, "i18-api-token-revoked")
    finally:
        context.close()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert problems == []
