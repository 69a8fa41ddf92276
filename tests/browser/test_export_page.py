"""The lead starts an export from the project page, watches it finish, and downloads it."""

import pyarrow.parquet as pq
import pytest

from exports.models import ExportJob
from labeling.models import Resolution
from projects.models import Item, Membership
from tests.browser.conftest import login, screenshot
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_lead_exports_parquet_from_the_project_page(page, page_errors, tmp_path):
    lead = UserFactory(username="lena")
    project = ProjectFactory(name="Reviews", created_by=lead)
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    for n in range(30):
        item = Item.objects.create(
            project=project,
            external_id=f"r{n}",
            data={"text": f"Review {n}"},
            status=Item.Status.RESOLVED,
        )
        label = ("positive", "negative", "neutral")[n % 3]
        Resolution.objects.create(item=item, result={"sentiment": label}, method="single")

    login(page, "lena")
    page.goto(f"/projects/{project.pk}/")
    # The export panel arrives by htmx after the page; the upload form has a "Format" too.
    panel = page.locator("#export-panel")
    panel.get_by_label("Format").select_option("parquet")
    panel.get_by_label("Split train/validation/test").fill("80,10,10")
    page.get_by_role("button", name="Start export").click()
    done = page.locator("#export-jobs-table tr[data-status='done']")
    done.wait_for()
    assert done.locator("progress").get_attribute("value") == "30"
    screenshot(page, "export-panel-done")

    job = ExportJob.objects.get()
    assert job.format == "parquet" and job.options["split"] == pytest.approx([0.8, 0.1, 0.1])
    with page.expect_download() as download_info:
        done.get_by_role("link", name=job.manifest["filename"]).click()
    download = download_info.value
    assert download.suggested_filename == job.manifest["filename"]
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    table = pq.read_table(path)
    assert table.num_rows == 30
    assert sorted(set(table.column("split").to_pylist())) == ["test", "train", "validation"]
    assert page_errors == []
