"""Issue 15: `make run`'s demo opens on a project per family with answers to review and chart."""

import io

import pytest
from django.core.management import call_command

from projects.models import Project
from tests.browser.conftest import login, screenshot
from tests.browser.workspace_support import workspace_wait_ready

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_has_review_and_dashboard_content_in_every_family(page, page_errors):
    # The site's own role-checked media view serves the demo's pictures (img.decode() below
    # fails on a 404).
    call_command("demo_setup", stdout=io.StringIO())
    login(page, "admin", "admin-quorum")
    for project in Project.objects.order_by("id"):
        page.goto(f"/projects/{project.pk}/review/")
        page.wait_for_function("document.getElementById('review').dataset.itemId")
        assert page.locator("#rv-answers thead th").count() == 4  # control, anna, ben, proposal
        assert page.locator("#rv-reason").inner_text().startswith("In review: ")
        slug = project.name.split(": ")[1].replace(" ", "-")
        if project.label_schema["controls"][0]["kind"] == "boxes":
            page.locator("#rv-item .rv-stage img").evaluate("img => img.decode()")
            assert page.locator("#rv-item svg .rv-shape").count() >= 4
        screenshot(page, f"i15-demo-review-{slug}")
        page.goto(f"/projects/{project.pk}/dashboard/")
        assert page.get_by_role("img", name="Progress over time").count() == 1
        assert page.locator("#annotator-table tbody tr").count() == 2
    screenshot(page, "i15-demo-dashboard")

    street = Project.objects.get(name="Demo: street scenes")
    page.context.clear_cookies()
    login(page, "anna", "anna-quorum")
    page.goto(f"/projects/{street.pk}/label/")
    workspace_wait_ready(page)
    page.locator('.stage[data-ready="true"]').wait_for()
    assert page.locator("#workspace .stage").count() == 1  # boxes and polygons share it
    page.locator(".stage img").evaluate("img => img.decode()")
    assert page.locator(".stage img").evaluate("img => img.naturalWidth") == 800
    screenshot(page, "i15-demo-street-workspace")
    assert page_errors == []
