"""Test-wide settings overrides and fixtures.

The database is whatever DATABASE_URL names: `make test` runs the suite on PostgreSQL and the
fast subset again on SQLite. Tests marked `postgres` are skipped on SQLite.
"""

from pathlib import Path

import pytest
from django.db import connection
from rest_framework.test import APIClient

from projects.models import Membership
from tests.factories import MembershipFactory, ProjectFactory, UserFactory

pytest_plugins = ["tests.celery_worker"]

# Real Label Studio 1.23.2 exports, kept in the repository (see their README.md).
LABEL_STUDIO_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "label-studio"


@pytest.fixture(autouse=True)
def _cache_cleared():
    """Each test starts with an empty cache: ids of a flushed database come round again, and
    login throttling counts live there."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CELERY_TASK_ALWAYS_EAGER = True
    # The peers the tests start (S3 servers, model backends) listen on loopback.
    settings.INTEGRATIONS_PRIVATE_HOSTS = ["127.0.0.0/8", "::1"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def pytest_collection_modifyitems(config, items):
    from django.conf import settings

    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords and not on_postgres:
            item.add_marker(skip)


@pytest.fixture
def on_postgres():
    return connection.vendor == "postgresql"


@pytest.fixture
def lead(db):
    return UserFactory(username="lead", is_staff=True)


@pytest.fixture
def annotator(db):
    return UserFactory(username="ann1")


@pytest.fixture
def project(db, lead, annotator):
    project = ProjectFactory(created_by=lead)
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    MembershipFactory(project=project, user=annotator, role=Membership.Role.ANNOTATOR)
    return project


def api_client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def lead_api(lead):
    return api_client_for(lead)


@pytest.fixture
def annotator_api(annotator):
    return api_client_for(annotator)


@pytest.fixture
def ls_fixtures() -> Path:
    return LABEL_STUDIO_FIXTURES
