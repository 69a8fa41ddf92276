"""URLs the server calls on a lead's say-so (model backends, storage endpoints): hosts on
loopback, private or link-local addresses are refused with a 400 naming the field unless
INTEGRATIONS_PRIVATE_HOSTS lists them (by name or network; `*` for any but link-local), on
create, on update and again before each call; what a backend answers is echoed only as a short
excerpt, and its redirects are not followed."""

import pytest

from labeling.integrations import backends
from labeling.integrations import storage as storage_svc
from labeling.integrations.api import BackendSerializer
from labeling.integrations.models import CloudStorage, ModelBackend
from labeling.integrations.outbound import (
    OutboundRefused,
    PrivateHosts,
    integrations_private_hosts,
    outbound_url_check,
)
from tests.labeling.integrations.receivers import Answerer
from tests.labeling.integrations.s3_server import ACCESS_KEY, REGION, SECRET_KEY

pytestmark = pytest.mark.django_db
BUCKET = "quorum-test"
REFUSED = [
    "http://127.0.0.1:9000",
    "http://localhost:9000",
    "http://2130706433:9000",  # 127.0.0.1 written as one number
    "http://[::1]:9000",
    "http://10.1.2.3:9000",
    "http://192.168.0.10",
    "http://172.16.5.4:9000",
    "http://169.254.169.254/latest/meta-data/",  # the cloud metadata service
    "http://[fe80::1]:9000",
    "http://0.0.0.0:9000",
    "http://[::ffff:10.0.0.1]:9000",
]


@pytest.fixture
def no_private_hosts(settings):
    """Production's default: INTEGRATIONS_PRIVATE_HOSTS empty."""
    settings.INTEGRATIONS_PRIVATE_HOSTS = []
    return settings


def storage_payload(endpoint, **fields):
    return {
        "role": "source",
        "bucket": BUCKET,
        "endpoint_url": endpoint,
        "region": REGION,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        **fields,
    }


def refusal(response, field):
    assert response.status_code == 400, response.content
    message = response.json()[field][0]
    assert "private, loopback or link-local" in message
    assert "INTEGRATIONS_PRIVATE_HOSTS" in message
    return message


@pytest.mark.parametrize("url", REFUSED)
def test_private_storage_endpoints_are_refused_on_create(lead_api, project, no_private_hosts, url):
    response = lead_api.post(
        f"/api/projects/{project.pk}/storages/", storage_payload(url), format="json"
    )
    refusal(response, "endpoint_url")
    assert not CloudStorage.objects.exists()


@pytest.mark.parametrize("url", REFUSED)
def test_private_backend_urls_are_refused_on_create(lead_api, project, no_private_hosts, url):
    response = lead_api.post(
        f"/api/projects/{project.pk}/model-backends/", {"url": url}, format="json"
    )
    refusal(response, "url")
    assert not ModelBackend.objects.exists()


def test_a_storage_endpoint_is_checked_on_update_and_before_each_sync(
    lead_api, project, bucket, s3_endpoint, settings
):
    created = lead_api.post(
        f"/api/projects/{project.pk}/storages/", storage_payload(s3_endpoint), format="json"
    )
    assert created.status_code == 201, created.content  # loopback listed (tests/conftest.py)
    storage_id = created.json()["id"]

    settings.INTEGRATIONS_PRIVATE_HOSTS = []
    moved = lead_api.patch(
        f"/api/storages/{storage_id}/",
        {"endpoint_url": "http://169.254.169.254/"},
        format="json",
    )
    refusal(moved, "endpoint_url")
    assert CloudStorage.objects.get().endpoint_url == s3_endpoint

    report = storage_svc.storage_sync(storage_id=storage_id)
    assert report.seen == 0
    row = CloudStorage.objects.get()
    assert row.sync_status == "failed" and "INTEGRATIONS_PRIVATE_HOSTS" in row.sync_message


def test_a_backend_url_is_checked_on_update_and_before_each_call(
    lead_api, project, ml_backend, settings
):
    created = lead_api.post(
        f"/api/projects/{project.pk}/model-backends/", {"url": ml_backend.url}, format="json"
    )
    assert created.status_code == 201 and created.json()["health"] == "up"
    backend_id = created.json()["id"]

    settings.INTEGRATIONS_PRIVATE_HOSTS = []
    moved = lead_api.patch(
        f"/api/model-backends/{backend_id}/", {"url": "http://10.0.0.7:9090"}, format="json"
    )
    refusal(moved, "url")
    assert ModelBackend.objects.get().url == ml_backend.url

    calls = len(ml_backend.paths("/health"))
    refreshed = lead_api.post(f"/api/model-backends/{backend_id}/check/")
    assert refreshed.json()["health"] == "down"
    assert "/health not called" in refreshed.json()["health_message"]
    assert len(ml_backend.paths("/health")) == calls  # no request went out


@pytest.mark.parametrize(
    "allowed",
    [["127.0.0.1"], ["127.0.0.0/8"], ["localhost"], ["*"], "ml, localhost ,10.0.0.0/8"],
)
def test_listed_private_hosts_are_allowed(
    lead_api, project, bucket, s3_endpoint, ml_backend, settings, allowed
):
    settings.INTEGRATIONS_PRIVATE_HOSTS = allowed
    by_name = "localhost" in str(allowed)
    endpoint = s3_endpoint.replace("127.0.0.1", "localhost") if by_name else s3_endpoint
    backend_url = ml_backend.url.replace("127.0.0.1", "localhost") if by_name else ml_backend.url
    storage = lead_api.post(
        f"/api/projects/{project.pk}/storages/", storage_payload(endpoint), format="json"
    )
    assert storage.status_code == 201, storage.content
    backend = lead_api.post(
        f"/api/projects/{project.pk}/model-backends/", {"url": backend_url}, format="json"
    )
    assert backend.status_code == 201 and backend.json()["health"] == "up", backend.content


def test_a_listed_host_name_is_taken_without_resolving_it(settings):
    # docker-compose's service names: a URL's form does not refuse them, and a listed name is
    # trusted whatever it resolves to (here nothing: no lookup leaves the machine).
    assert BackendSerializer(data={"url": "http://ml:9090"}, partial=True).is_valid()
    settings.INTEGRATIONS_PRIVATE_HOSTS = ["ml", "minio"]
    backends.backend_url_check("http://ml:9090")
    outbound_url_check(
        "http://MINIO.:9000", field="endpoint_url", allow_private=integrations_private_hosts()
    )
    with pytest.raises(backends.BackendRefused) as refused:
        backends.backend_url_check("http://127.0.0.1:9090")
    assert refused.value.field == "url"


def test_link_local_addresses_need_listing_even_with_a_star():
    star = PrivateHosts.parse("*")
    outbound_url_check("http://10.0.0.1:9000", field="url", allow_private=star)
    outbound_url_check("http://[fd12::1]:9000", field="url", allow_private=star)
    for url in ("http://169.254.169.254/", "http://[fe80::1]/", "http://[fd00:ec2::254]/"):
        with pytest.raises(OutboundRefused) as refused:
            outbound_url_check(url, field="endpoint_url", allow_private=star)
        assert refused.value.field == "endpoint_url"
    listed = PrivateHosts.parse(["169.254.169.254", "fe80::/10"])
    outbound_url_check("http://169.254.169.254/", field="url", allow_private=listed)
    outbound_url_check("http://[fe80::1]/", field="url", allow_private=listed)
    with pytest.raises(OutboundRefused):
        outbound_url_check("http://169.254.1.1/", field="url", allow_private=listed)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("ftp://files.example/", "Only http and https"),
        ("http://user:pass@example.com/", "credentials"),
        ("http:///nohost", "names no host"),
        ("http://example.com:99999/", "Not a valid URL"),
    ],
)
def test_what_is_not_a_plain_http_url_is_refused(url, says):
    with pytest.raises(OutboundRefused, match=says):
        outbound_url_check(url, field="url", allow_private=True)


@pytest.fixture
def error_page():
    server = Answerer(
        status=500,
        body=b"<html><body>internal admin console: " + b"row-of-secrets " * 500 + b"</body>",
        headers={"Content-Type": "text/html"},
    ).start()
    yield server
    server.stop()


def test_a_backend_error_is_echoed_as_a_short_excerpt_only(project, error_page):
    backend = backends.backend_create(project=project, fields={"url": error_page.url})
    assert backend.health == "down" and backend.health_message == "/health answered 500"
    backends.backend_setup(backend=backend)
    backend.refresh_from_db()
    assert backend.last_error.startswith("/setup answered 500: <html><body>internal admin")
    assert len(backend.last_error) <= len("/setup answered 500: ") + backends.ERROR_EXCERPT_CHARS
    assert backend.last_error.count("row-of-secrets") < 10


def test_a_backend_redirect_is_not_followed(project, ml_backend):
    redirect = Answerer(status=307, headers={"Location": f"{ml_backend.url}/setup"}).start()
    try:
        backend = ModelBackend.objects.create(project=project, url=redirect.url)
        assert backends.backend_setup(backend=backend) is None
        backend.refresh_from_db()
        assert backend.last_error == "/setup answered 307"
        assert ml_backend.paths("/setup") == []
    finally:
        redirect.stop()
