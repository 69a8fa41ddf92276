"""The pages pass the site's Content-Security-Policy (issue 18): with the policy enforced,
Chromium reports no violation on the lead's, the annotator's and the reviewer's pages."""

import pytest

from labeling.annotate.submit import annotation_submit
from projects.models import Membership
from tests.browser.conftest import PASSWORD, screenshot
from tests.browser.workspace_support import png_create
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


BOXES_SCHEMA = {
    "controls": [
        {"name": "objects", "kind": "boxes", "source": "image", "labels": ["car", "person"]}
    ]
}


def _box(x: float, label: str) -> dict:
    return {"objects": [{"x": x, "y": 10, "width": 30, "height": 20, "label": label}]}


def test_pages_report_no_policy_violation(browser, live_server, media_served):
    lead = UserFactory(username="csp-lead", is_staff=True)
    other = UserFactory(username="csp-other")
    project = ProjectFactory(created_by=lead, overlap=2)
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    MembershipFactory(project=project, user=other, role=Membership.Role.ANNOTATOR)
    disputed = ItemFactory(project=project, data={"text": "a disputed text"})
    annotation_submit(item=disputed, annotator=other, result={"sentiment": "positive"})
    annotation_submit(item=disputed, annotator=lead, result={"sentiment": "negative"})
    ItemFactory(project=project, data={"text": "a text to label"})
    # An image project: shapes drawn on the stage (coloured through the CSSOM), a disputed
    # item for review and the data manager's item page.
    images = ProjectFactory(created_by=lead, overlap=2, label_schema=BOXES_SCHEMA)
    MembershipFactory(project=images, user=lead, role=Membership.Role.LEAD)
    MembershipFactory(project=images, user=other, role=Membership.Role.ANNOTATOR)
    image = ItemFactory(
        project=images, data={"image": png_create("csp.png", 200, 100)}, width=200, height=100
    )
    annotation_submit(item=image, annotator=other, result=_box(10, "car"))
    annotation_submit(item=image, annotator=lead, result=_box(60, "person"))
    ItemFactory(
        project=images, data={"image": png_create("csp-2.png", 200, 100)}, width=200, height=100
    )

    context = browser.new_context(viewport={"width": 1280, "height": 720}, base_url=live_server.url)
    page = context.new_page()
    page.set_default_timeout(10_000)
    violations, errors = [], []

    def on_console(message):
        if "Content Security Policy" in message.text:
            violations.append(f"{page.url}: {message.text[:60]} at {message.location}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto("/accounts/login/")
        page.get_by_label("Username").fill("csp-lead")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)
        for path in ("", "settings/", "label/", "review/", "dashboard/", "history/"):
            page.goto(f"/projects/{project.pk}/{path}")
            page.wait_for_load_state("networkidle")
            screenshot(page, f"csp-{path.strip('/') or 'project'}")
        for path in ("label/", "review/", "items/", f"items/{image.pk}/", "monitor/"):
            page.goto(f"/projects/{images.pk}/{path}")
            page.wait_for_load_state("networkidle")
            screenshot(page, f"csp-images-{path.strip('/').replace('/', '-')}")
        page.goto("/api/docs/")
        page.wait_for_selector(".swagger-ui .info")  # its script, a file, ran
    finally:
        context.close()
    assert violations == [] and errors == [], violations + errors
