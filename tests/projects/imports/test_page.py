"""The import parts of the project page: upload form, the live job table (htmx partial) with its
progress bar and counts, cancel, and the error report link."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from projects.models import ImportJob, Item

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_upload_from_the_page_and_watch_the_job(lead, project):
    client = client_for(lead)
    page = client.get(reverse("project-detail", args=[project.pk])).content.decode()
    assert f'hx-get="/projects/{project.pk}/imports/"' in page
    assert 'hx-trigger="every 2s"' in page
    assert "Detect from the file" in page
    upload = SimpleUploadedFile("t.csv", b"external_id,text\na,one\nb,\nc,three\n")
    response = client.post(
        reverse("project-upload", args=[project.pk]), {"file": upload, "format": "csv"}
    )
    assert response.status_code == 302
    assert Item.objects.filter(project=project).count() == 2
    job = ImportJob.objects.get(project=project)
    partial = client.get(reverse("project-import-jobs", args=[project.pk])).content.decode()
    assert 'data-testid="import-status">done<' in partial
    assert '<progress max="100" value="100.0"' in partial
    assert 'data-testid="import-created">2<' in partial
    assert "line 3: missing the field the schema reads: text" in partial
    assert f'href="/api/imports/{job.pk}/errors/"' in partial
    assert "Cancel" not in partial


def test_refused_upload_says_why(lead, project):
    client = client_for(lead)
    upload = SimpleUploadedFile("blob.bin", b"\x00\x01 no format")
    response = client.post(
        reverse("project-upload", args=[project.pk]), {"file": upload}, follow=True
    )
    assert "Cannot tell the file&#x27;s format" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_cancel_a_running_job_from_the_page(lead, project):
    job = ImportJob.objects.create(
        project=project,
        status=ImportJob.Status.RUNNING,
        original_name="big.jsonl",
        progress_total=1000,
        progress_done=250,
        rows_read=10,
    )
    client = client_for(lead)
    partial = client.get(reverse("project-import-jobs", args=[project.pk])).content.decode()
    assert '<progress max="100" value="25.0"' in partial
    assert "Cancel" in partial
    response = client.post(reverse("import-job-cancel", args=[job.pk]), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert 'data-testid="import-status">cancelled<' in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportJob.Status.CANCELLED


def test_annotators_see_no_imports(annotator, project):
    client = client_for(annotator)
    assert client.get(reverse("project-import-jobs", args=[project.pk])).status_code == 403
    job = ImportJob.objects.create(project=project, status=ImportJob.Status.RUNNING)
    assert client.post(reverse("import-job-cancel", args=[job.pk])).status_code == 403
    job.refresh_from_db()
    assert job.status == ImportJob.Status.RUNNING
