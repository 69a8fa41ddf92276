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
def s3_endpoint():
    from tests.labeling.integrations.s3_server import s3_server

    with s3_server() as endpoint:
        yield endpoint


@pytest.fixture
def bucket(s3_endpoint):
    """An empty bucket `quorum-test` on the moto server, and a client for it."""
    from tests.labeling.integrations.s3_server import s3_client

    client = s3_client(s3_endpoint)
    client.create_bucket(Bucket="quorum-test")
    return client


@pytest.fixture
def ml_backend():
    from tests.labeling.integrations.ml_backend_server import MLBackend

    server = MLBackend().start()
    yield server
    server.stop()
