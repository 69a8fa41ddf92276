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
