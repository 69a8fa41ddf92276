"""Items keep stable paths of their files, and URLs are made when a page, the API or an export
needs one (issue 18): on object storage (moto's S3 server on 127.0.0.1) a URL presigned at that
moment, for the public endpoint; an item that stored a presigned URL before is signed afresh;
another project's file is never signed nor bundled. Local disk keeps the stable path."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image
from storages.backends.s3 import S3Storage

from exports.jobs import export_job_create, export_job_run
from projects.media import MediaLinks, media_name
from projects.models import ImportJob, Item, Membership
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.labeling.integrations.s3_server import ACCESS_KEY, REGION, SECRET_KEY, s3_client
from tests.projects.imports.import_support import import_file

pytestmark = pytest.mark.django_db(transaction=True)

BUCKET = "quorum-media"
IMAGE_SCHEMA = {
    "controls": [
        {"name": "objects", "kind": "boxes", "source": "image", "labels": ["car"]},
    ]
}


@pytest.fixture
def s3_endpoint():
    from tests.labeling.integrations.s3_server import s3_server

    with s3_server() as endpoint:
        yield endpoint


def s3_storages(internal: str, public: str) -> dict:
    """The settings' S3 storages, for this server (settings.S3_OPTIONS: what S3_BUCKET sets)."""
    options = {
        **django_settings.S3_OPTIONS,
        "bucket_name": BUCKET,
        "endpoint_url": internal,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "region_name": REGION,
    }
    backend = "storages.backends.s3.S3Storage"
    return {
        "default": {"BACKEND": backend, "OPTIONS": options},
        "media_links": {"BACKEND": backend, "OPTIONS": {**options, "endpoint_url": public}},
    }


@pytest.fixture
def s3_media(settings, s3_endpoint):
    """The media storage on S3, reached by the servers as 127.0.0.1 and by browsers as
    localhost (the public endpoint): the same server under two names."""
    s3_client(s3_endpoint).create_bucket(Bucket=BUCKET)
    public = s3_endpoint.replace("127.0.0.1", "localhost")
    settings.STORAGES = {**settings.STORAGES, **s3_storages(s3_endpoint, public)}
    return public


def png(colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def images_zip(**images: bytes) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for name, content in images.items():
            zf.writestr(name, content)
    return archive.getvalue()


def image_project(lead, annotator=None):
    project = ProjectFactory(created_by=lead, label_schema=IMAGE_SCHEMA)
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    if annotator is not None:
        MembershipFactory(project=project, user=annotator, role=Membership.Role.ANNOTATOR)
    return project


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def signed_now(url: str, public: str, since: datetime) -> bool:
    """A URL presigned for the public endpoint, at or after `since`."""
    query = parse_qs(urlsplit(url).query)
    made = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    return url.startswith(public + "/") and "X-Amz-Signature" in query and made >= since


@pytest.fixture
def imported(s3_media, lead_api, lead, annotator):
    """A zip of two images imported into an image project, on S3."""
    project = image_project(lead, annotator)
    job = import_file(lead_api, project, "pics.zip", images_zip(**{"a.png": png(), "b.png": png()}))
    assert job["status"] == "done", job
    return project, job["id"]


def test_an_import_stores_stable_paths_and_every_answer_presigns_them_then(
    imported, s3_media, lead_api, annotator
):
    project, job_id = imported
    since = datetime.now(UTC).replace(microsecond=0)
    item = Item.objects.get(project=project, external_id="a.png")
    assert item.data["image"] == f"/media/imports/{job_id}/a.png"
    assert item.data["thumbnail"] == f"/media/imports/{job_id}/thumbnails/a.png.jpg"
    assert default_storage.exists(f"imports/{job_id}/a.png")  # in the bucket

    # The item API, the annotator's queue, the data manager's table: URLs signed now.
    image = lead_api.get(f"/api/items/{item.pk}/").json()["data"]["image"]
    assert signed_now(image, s3_media, since), image
    assert requests.get(image, timeout=10).content == png()
    annotator_api = Client()
    annotator_api.force_login(annotator)
    queued = annotator_api.get(f"/api/projects/{project.pk}/next/").json()["item"]["data"]
    assert signed_now(queued["image"], s3_media, since) and signed_now(
        queued["thumbnail"], s3_media, since
    )
    table = lead_api.get(f"/api/projects/{project.pk}/items/").json()["results"]
    assert all(signed_now(row["data"]["image"], s3_media, since) for row in table)
    assert all(signed_now(row["thumbnail"], s3_media, since) for row in table)
    assert requests.get(table[0]["thumbnail"], timeout=10).content.startswith(b"\xff\xd8")
    # The pages: the data manager's item page and table show signed images.
    lead = project.memberships.get(role="lead").user
    page = client_for(lead).get(f"/projects/{project.pk}/items/{item.pk}/").content.decode()
    assert f'src="{s3_media}/{"quorum-media"}/imports/{job_id}/a.png?' in page
    table_page = client_for(lead).get(f"/projects/{project.pk}/items/").content.decode()
    assert f"{s3_media}/quorum-media/imports/{job_id}/thumbnails/" in table_page
    assert Item.objects.get(pk=item.pk).data == item.data  # nothing signed was stored


def test_the_stable_path_redirects_members_to_a_fresh_url_and_outsiders_get_404(
    imported, s3_media, annotator
):
    project, job_id = imported
    since = datetime.now(UTC).replace(microsecond=0)
    path = Item.objects.get(project=project, external_id="b.png").data["image"]
    response = client_for(annotator).get(path)
    assert response.status_code == 302
    assert signed_now(response["Location"], s3_media, since)
    assert response["Cache-Control"] == "private, no-store"
    assert requests.get(response["Location"], timeout=10).content == png()
    outsider = UserFactory(username="outsider")
    assert client_for(outsider).get(path).status_code == 404


def test_an_item_that_stored_a_presigned_url_is_signed_afresh(imported, s3_media, lead_api):
    project, job_id = imported
    item = Item.objects.get(project=project, external_id="a.png")
    # What imports stored before: the storage's own presigned URL (internal name, an hour,
    # signed the storage's old way), here and as a thumbnail signed the current way.
    options = s3_storages(default_storage.endpoint_url, s3_media)["default"]["OPTIONS"]
    legacy_storage = S3Storage(**{**options, "signature_version": "s3"})
    stored = legacy_storage.url(f"imports/{job_id}/a.png")
    assert "127.0.0.1" in stored and "Signature=" in stored and "X-Amz" not in stored
    stored_thumbnail = default_storage.url(f"imports/{job_id}/thumbnails/a.png.jpg")
    assert "127.0.0.1" in stored_thumbnail and "X-Amz-Signature" in stored_thumbnail
    Item.objects.filter(pk=item.pk).update(
        data={**item.data, "image": stored, "thumbnail": stored_thumbnail}
    )
    since = datetime.now(UTC).replace(microsecond=0)
    data = lead_api.get(f"/api/items/{item.pk}/").json()["data"]
    assert signed_now(data["image"], s3_media, since) and data["image"] != stored
    assert signed_now(data["thumbnail"], s3_media, since)
    assert requests.get(data["image"], timeout=10).content == png()
    assert media_name(stored) == f"imports/{job_id}/a.png"


def test_exports_carry_urls_signed_at_export_time_and_bundle_from_the_bucket(
    imported, s3_media, lead
):
    project, job_id = imported
    since = datetime.now(UTC).replace(microsecond=0)
    job = export_job_run(
        job_id=export_job_create(
            project=project, user=lead, format="jsonl", raw_options={"only_resolved": False}
        ).pk
    )
    with job.file.open("rb") as stream:
        rows = [json.loads(line) for line in stream.read().splitlines()]
    assert len(rows) == 2
    assert all(signed_now(row["data"]["image"], s3_media, since) for row in rows)
    coco = export_job_run(
        job_id=export_job_create(
            project=project,
            user=lead,
            format="coco",
            raw_options={"only_resolved": False, "bundle_images": True},
        ).pk
    )
    with coco.file.open("rb") as stream, zipfile.ZipFile(io.BytesIO(stream.read())) as zf:
        bundled = sorted(n for n in zf.namelist() if n.startswith("images/"))
        assert len(bundled) == 2 and zf.read(bundled[0]) == png()


def test_another_projects_file_is_neither_signed_nor_bundled(imported, s3_media, lead):
    project, job_id = imported
    thief_lead = UserFactory(username="other-lead")
    other = image_project(thief_lead)
    path = f"/media/imports/{job_id}/a.png"  # the first project's image, named by a guess
    signed = default_storage.url(f"imports/{job_id}/a.png")
    Item.objects.create(project=other, external_id="guess", data={"image": path})
    Item.objects.create(project=other, external_id="old-url", data={"image": signed})
    api = Client()
    api.force_login(thief_lead)
    table = api.get(f"/api/projects/{other.pk}/items/").json()["results"]
    assert {row["data"]["image"] for row in table} == {path, signed}  # left as they are
    assert api.get(path).status_code == 404
    export = export_job_run(
        job_id=export_job_create(
            project=other,
            user=thief_lead,
            format="coco",
            raw_options={"only_resolved": False, "bundle_images": True},
        ).pk
    )
    assert export.manifest["writer_report"] == {"images_not_bundled": 2}, export.manifest


def test_on_local_disk_the_stable_path_is_what_everyone_gets(lead, annotator, lead_api, settings):
    project = image_project(lead, annotator)
    job = import_file(lead_api, project, "pics.zip", images_zip(**{"a.png": png()}))
    item = Item.objects.get(project=project)
    path = f"/media/imports/{job['id']}/a.png"
    assert item.data["image"] == path
    assert lead_api.get(f"/api/items/{item.pk}/").json()["data"]["image"] == path
    assert client_for(annotator).get(path).status_code == 200
    links = MediaLinks(project.pk)
    assert not links.active and links.data(item.data) is item.data


def test_a_file_of_the_bucket_outside_the_imports_is_never_signed(s3_media, lead, project):
    default_storage.save("backups/db.sql", ContentFile(b"secret"))
    job = ImportJob.objects.create(project=project, status=ImportJob.Status.DONE)
    links = MediaLinks(project.pk)
    assert links.value("/media/backups/db.sql") == "/media/backups/db.sql"
    assert links.value(f"/media/imports/{job.pk}/../../backups/db.sql").startswith("/media/")
    assert links.value("https://elsewhere.example/a.png?Signature=x") == (
        "https://elsewhere.example/a.png?Signature=x"
    )


def test_the_settings_sign_for_the_public_endpoint_and_the_pages_may_show_its_images(db):
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.STORAGES['default']['OPTIONS']['endpoint_url']); "
        "print(s.STORAGES['media_links']['OPTIONS']['endpoint_url']); "
        "print(s.CONTENT_SECURITY_POLICY)"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "labeling.site.settings",
        "PATH": "/usr/bin:/bin",
        "DEBUG": "false",
        "SECRET_KEY": "media-links-test",
        "S3_BUCKET": "media",
        "S3_ENDPOINT_URL": "http://minio:9000",
        "S3_PUBLIC_ENDPOINT_URL": "http://127.0.0.1:9000",
    }
    root = Path(__file__).resolve().parents[2]
    internal, public, policy = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=root, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert (internal, public) == ("http://minio:9000", "http://127.0.0.1:9000")
    img_src = next(part for part in policy.split(";") if part.strip().startswith("img-src"))
    assert "http://127.0.0.1:9000" in img_src.split()
