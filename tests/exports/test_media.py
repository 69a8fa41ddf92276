"""Media served through a view that checks the caller's project role (issue 18): imported
images to members, source uploads and export files to leads, 404 to everyone else; with
DEBUG off as well; X-Accel-Redirect behind a setting; export files under unguessable names."""

import io
import re
import zipfile

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from exports.jobs import export_job_create, export_job_run
from projects.models import ApiToken, ImportJob, Membership
from tests.factories import MembershipFactory, ProjectFactory, UserFactory, api_token_secret
from tests.projects.imports.import_support import import_file

pytestmark = pytest.mark.django_db(transaction=True)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def outsider():
    user = UserFactory(username="outsider")
    MembershipFactory(project=ProjectFactory(), user=user, role=Membership.Role.LEAD)
    return user


@pytest.fixture
def image_item_url(lead_api, project):

    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (1, 2, 3)).save(buffer, format="PNG")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("pic.png", buffer.getvalue())
    project.label_schema = {
        "controls": [{"name": "c", "kind": "choice", "source": "image", "labels": ["a"]}]
    }
    project.save()
    job = import_file(lead_api, project, "pics.zip", archive.getvalue())
    assert job["status"] == "done", job
    return project.items.get().data["image"]


def test_imported_images_are_served_to_members_only(
    image_item_url, lead, annotator, outsider, settings
):
    settings.DEBUG = False
    assert image_item_url.startswith("/media/imports/")
    response = client_for(annotator).get(image_item_url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    assert client_for(outsider).get(image_item_url).status_code == 404
    anonymous = Client().get(image_item_url)
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_a_script_with_a_token_reads_what_the_api_hands_out(image_item_url, lead, outsider):
    """The API hands out these paths: a token's call is its user's, as on the API."""
    by_token = Client(HTTP_AUTHORIZATION=f"Token {api_token_secret(lead)}").get(image_item_url)
    assert by_token.status_code == 200
    assert b"".join(by_token.streaming_content).startswith(b"\x89PNG")
    outside = Client(HTTP_AUTHORIZATION=f"Token {api_token_secret(outsider)}")
    assert outside.get(image_item_url).status_code == 404
    for header, detail in [
        ("Token qrm_" + "x" * 43, "Invalid token."),
        ("Token two parts", "Invalid token header."),
    ]:
        refused = Client(HTTP_AUTHORIZATION=header).get(image_item_url)
        assert refused.status_code == 401
        assert refused.json() == {"detail": detail}
        assert refused["WWW-Authenticate"] == "Token"
    revoked = api_token_secret(lead, name="old")
    ApiToken.objects.filter(name="old").update(revoked_at=timezone.now())
    refused = Client(HTTP_AUTHORIZATION=f"Token {revoked}").get(image_item_url)
    assert (refused.status_code, refused.json()) == (401, {"detail": "Token revoked."})
    other_scheme = Client(HTTP_AUTHORIZATION="Basic Zm9vOmJhcg==").get(image_item_url)
    assert other_scheme.status_code == 302  # not a token: the page's own login


def test_export_files_go_to_leads_only_under_unguessable_names(project, lead, annotator):
    job = export_job_run(
        job_id=export_job_create(project=project, user=lead, format="jsonl", raw_options={}).pk
    )
    assert re.fullmatch(r"exports/[A-Za-z0-9_-]{24}/[^/]+\.jsonl", job.file.name), job.file.name
    url = f"/media/{job.file.name}"
    assert client_for(lead).get(url).status_code == 200
    assert client_for(annotator).get(url).status_code == 404


def test_source_uploads_go_to_leads_only(lead_api, project, lead, annotator):
    job = import_file(lead_api, project, "rows.jsonl", b'{"text": "a"}\n')
    name = ImportJob.objects.get(pk=job["id"]).file.name
    assert re.fullmatch(r"imports/uploads/[A-Za-z0-9_-]{24}/rows\.jsonl", name), name
    assert client_for(lead).get(f"/media/{name}").status_code == 200
    assert client_for(annotator).get(f"/media/{name}").status_code == 404
    assert client_for(lead).get("/media/imports/uploads/../../secret_key").status_code == 404
    assert client_for(lead).get("/media/anything/else.png").status_code == 404


def test_a_proxy_sends_the_file_when_told_to(image_item_url, annotator, settings):
    settings.MEDIA_ACCEL_REDIRECT = "/protected-media/"
    response = client_for(annotator).get(image_item_url)
    assert response.status_code == 200
    assert response["X-Accel-Redirect"] == "/protected-media/" + image_item_url[len("/media/") :]
    assert response.content == b""
