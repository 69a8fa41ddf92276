"""Issue 2 in Chromium: a lead creates a project, adds a member, uploads items, sees progress."""

import pytest

from projects.models import Item, Membership, Project
from tests.browser.conftest import login, screenshot
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_lead_creates_project_adds_member_uploads_csv_and_sees_progress(page, tmp_path):
    UserFactory(username="boss", is_staff=True)
    UserFactory(username="anna")

    login(page, "boss")
    page.get_by_role("link", name="New project").click()
    page.get_by_label("Name").fill("Support tickets")
    page.get_by_label("Instructions").fill("Pick the **team** that should answer.")
    # The schema builder: one single-choice control with three labels.
    page.get_by_role("button", name="Add control").click()
    for number, value in enumerate(("billing", "bug", "other"), start=1):
        if number > 1:
            page.get_by_role("button", name="Add a label to label").click()
        page.get_by_label(f"Label {number} of label").fill(value)
    page.get_by_role("button", name="Create project").click()
    page.get_by_role("heading", name="Support tickets").wait_for()
    project = Project.objects.get(name="Support tickets")
    assert [lb["value"] for lb in project.label_schema["controls"][0]["labels"]] == [
        "billing",
        "bug",
        "other",
    ]

    page.get_by_label("Username", exact=True).fill("anna")
    page.locator("#id_role").select_option("annotator")
    page.get_by_role("button", name="Add member").click()
    page.locator("tr[data-member=anna]").wait_for()
    assert project.memberships.get(user__username="anna").role == Membership.Role.ANNOTATOR

    csv_file = tmp_path / "tickets.csv"
    csv_file.write_text("external_id,text\nt1,Refund please\nt2,App crashes\nt3,Hello\n")
    page.get_by_label("CSV, TSV or JSONL file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Upload").click()
    page.get_by_test_id("labeled-count").wait_for()
    page.wait_for_function("() => document.body.innerText.includes('of 3 items labeled')")
    assert Item.objects.filter(project=project).count() == 3
    screenshot(page, "lead-project-page")
