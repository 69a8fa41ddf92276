"""Issue 14's people flow in Chromium: a lead creates an account on the project page, the new
user sets a password through the one-time link, logs in and labels."""

import pytest

from labeling.models import Annotation
from projects.models import Membership
from tests.browser.conftest import login, screenshot
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
NEW_PASSWORD = "Quorum-new-pass-77"


def test_lead_creates_a_user_who_sets_a_password_logs_in_and_labels(page, page_errors):
    lead = UserFactory(username="boss")
    project = ProjectFactory(name="Reviews")
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    item = ItemFactory(project=project, data={"text": "Great product."})

    login(page, "boss")
    page.goto(f"/projects/{project.pk}/")
    page.get_by_label("New username").fill("nora")
    page.get_by_label("Email (optional)").fill("nora@example.com")
    page.locator("#account-role").select_option("annotator")
    page.get_by_role("button", name="Create account").click()
    link = page.locator("#set-password-link")
    link.wait_for()
    url = link.get_attribute("href")
    assert "/accounts/reset/" in url
    row = page.locator("tr[data-member=nora]")
    assert "has not set a password yet" in row.inner_text()
    assert "never" in row.inner_text()
    screenshot(page, "people-account-created")

    # The new user, in a fresh session, follows the link.
    page.context.clear_cookies()
    page.goto(url)
    page.get_by_role("heading", name="Set your password").wait_for()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    screenshot(page, "people-set-password")
    page.get_by_role("button", name="Set password").click()
    page.get_by_role("heading", name="Password set").wait_for()
    # The link works once.
    page.goto(url)
    page.get_by_text("has been used already or has expired").wait_for()

    login(page, "nora", NEW_PASSWORD)
    page.goto(f"/projects/{project.pk}/label/")
    page.wait_for_function("document.getElementById('workspace').dataset.ready === 'true'")
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.getElementById('ws-empty').hidden")
    assert Annotation.objects.get(item=item).annotator.username == "nora"

    # The lead sees the answer and the activity in the members table, then changes the role.
    page.context.clear_cookies()
    login(page, "boss")
    page.goto(f"/projects/{project.pk}/")
    row = page.locator("tr[data-member=nora]")
    assert row.locator("td").nth(3).inner_text() == "1"
    assert "ago" in row.locator("td").nth(2).inner_text()
    page.get_by_label("Role of nora", exact=True).select_option("reviewer")
    page.get_by_role("button", name="Change the role of nora").click()
    page.get_by_text("nora is now reviewer.").wait_for()
    screenshot(page, "people-members-table")
    assert project.memberships.get(user__username="nora").role == "reviewer"
    page.get_by_role("button", name="Remove nora").click()
    page.get_by_text("nora was removed from the project.").wait_for()
    assert not project.memberships.filter(user__username="nora").exists()
    assert page_errors == []


def test_error_pages_carry_the_navigation(page):
    boss = UserFactory(username="boss")
    other = ProjectFactory()
    login(page, "boss")
    # Another team's project is not there for an outsider (404, not 403: nothing is told).
    response = page.goto(f"/projects/{other.pk}/")
    assert response.status == 404
    page.get_by_role("heading", name="Not found").wait_for()
    assert page.locator(".topbar").get_by_role("link", name="Projects", exact=True).count() == 1
    screenshot(page, "error-404")
    # A member without the lead's role is told no.
    MembershipFactory(project=other, user=boss, role=Membership.Role.ANNOTATOR)
    response = page.goto(f"/projects/{other.pk}/settings/")
    assert response.status == 403
    page.get_by_role("heading", name="Not allowed").wait_for()
    assert page.locator(".topbar").get_by_role("link", name="Projects", exact=True).count() == 1
    screenshot(page, "error-403")
