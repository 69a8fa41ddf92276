"""The project page follows an import live: the job table polls (htmx) and its progress bar and
counts move as the job row does; a running job can be cancelled from the page."""

import pytest

from projects.models import ImportJob, Membership
from tests.browser.conftest import login, screenshot
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_progress_bar_and_counts_follow_the_job_and_cancel_works(page, page_errors):
    lead = UserFactory(username="importer")
    project = ProjectFactory(name="Reviews")
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    job = ImportJob.objects.create(
        project=project,
        created_by=lead,
        status=ImportJob.Status.RUNNING,
        format="jsonl",
        original_name="reviews.jsonl",
        progress_total=1000,
        progress_done=100,
        rows_read=100,
        created_count=90,
        skipped_count=5,
        failed_count=5,
    )
    login(page, "importer")
    page.goto(f"/projects/{project.pk}/")
    row = page.get_by_test_id(f"import-job-{job.pk}")
    assert row.get_by_test_id("import-created").inner_text() == "90"
    assert row.locator("progress").get_attribute("value") == "10.0"

    # the worker commits a batch: the page catches up by itself
    ImportJob.objects.filter(pk=job.pk).update(progress_done=600, rows_read=600, created_count=580)
    page.wait_for_function(
        "id => document.querySelector(`[data-testid=import-job-${id}] progress`)"
        ".getAttribute('value') === '60.0'",
        arg=job.pk,
    )
    assert row.get_by_test_id("import-created").inner_text() == "580"
    screenshot(page, "import-progress")

    row.get_by_role("button", name="Cancel").click()
    page.wait_for_function(
        "id => document.querySelector(`[data-testid=import-job-${id}] [data-testid=import-status]`)"
        ".innerText === 'cancelled'",
        arg=job.pk,
    )
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED
    assert page_errors == []
