"""Site wiring: the demo data, the production compose file and settings from the environment."""

import io
from pathlib import Path

import pytest
import yaml
from django.conf import settings
from django.contrib.auth import authenticate

from projects.demo import DEMO_USERS, demo_load
from projects.models import Item, Project

ROOT = Path(settings.BASE_DIR)


@pytest.mark.django_db
def test_demo_load_is_idempotent_and_logins_work():
    project, users = demo_load(item_count=50)
    demo_load(item_count=50)
    assert Project.objects.count() == 1
    assert Item.objects.filter(project=project).count() == 50
    for username, password, role in users:
        user = authenticate(username=username, password=password)
        assert user is not None
        assert project.memberships.get(user=user).role == role
    assert {u for u, *_ in DEMO_USERS} == {"admin", "anna", "ben"}


def test_compose_file_names_the_production_services():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker"} <= set(services)
    assert "labeling.site.web_server:application" in services["web"]["command"]
    assert services["web"]["command"][0] == "granian"
    assert "celery" in " ".join(services["worker"]["command"])
    assert "migrate" in " ".join(services["migrate"]["command"])
    for name in ("postgres", "redis", "web", "worker"):
        assert "healthcheck" in services[name], name
    assert services["web"]["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert services["web"]["environment"]["DATABASE_URL"].startswith("postgres://")
    assert services["web"]["environment"]["CELERY_BROKER_URL"].startswith("redis://")


def test_ci_calls_make_test_and_readme_starts_with_the_two_commands():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```")[1]
    assert "make run" in first_block and "make test" in first_block


def test_settings_come_from_the_environment():
    import subprocess
    import sys

    code = (
        "import django, os; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_TASK_ALWAYS_EAGER, s.ALLOWED_HOSTS)"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "labeling.site.settings",
        "PATH": "/usr/bin:/bin",
        "DATABASE_URL": "postgres://u:p@db:5432/q",
        "CELERY_BROKER_URL": "redis://r:6379/0",
        "ALLOWED_HOSTS": "quorum.example.com",
        "SECRET_KEY": "x" * 50,
        "DEBUG": "false",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["django.db.backends.postgresql", "False", "['quorum.example.com']"]


def test_without_debug_a_secret_key_is_required():
    import subprocess
    import sys

    env = {"DJANGO_SETTINGS_MODULE": "labeling.site.settings", "DEBUG": "false", "PATH": "/usr/bin"}
    run = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0
    assert "SECRET_KEY" in run.stderr


def test_an_s3_bucket_switches_file_storage_to_object_storage():
    import subprocess
    import sys

    code = (
        "import django; django.setup(); "
        "from django.core.files.storage import default_storage as d; d._setup(); "
        "print(type(d._wrapped).__name__, d.bucket_name, d.endpoint_url)"
    )
    env = {
        "DJANGO_SETTINGS_MODULE": "labeling.site.settings",
        "PATH": "/usr/bin:/bin",
        "S3_BUCKET": "labels",
        "S3_ENDPOINT_URL": "http://127.0.0.1:9000",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    assert out == ["S3Storage", "labels", "http://127.0.0.1:9000"]


@pytest.mark.django_db
def test_migrations_match_the_models():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("makemigrations", "--check", "--dry-run", stdout=out)
    assert "No changes detected" in out.getvalue()


@pytest.mark.django_db
def test_demo_setup_makes_one_answered_project_per_family(settings, tmp_path):
    from django.core.management import call_command

    from labeling.models import Annotation

    settings.MEDIA_ROOT = str(tmp_path)
    call_command("demo_setup", stdout=io.StringIO())
    counts = Annotation.objects.count()
    call_command("demo_setup", stdout=io.StringIO())  # again: nothing twice
    assert Annotation.objects.count() == counts
    projects = {p.name: p for p in Project.objects.all()}
    assert len(projects) == 4
    kinds = {name: {c["kind"] for c in p.label_schema["controls"]} for name, p in projects.items()}
    assert {"choice"} in kinds.values()
    assert {"spans", "text"} in kinds.values()
    assert {"boxes", "polygons"} in kinds.values()
    assert {"pairwise", "text"} in kinds.values()
    for project in projects.values():
        statuses = set(project.items.values_list("status", flat=True))
        # Some answers agree (resolved), some do not (in review), the rest wait for annotators.
        assert {Item.Status.RESOLVED, Item.Status.IN_REVIEW, Item.Status.OPEN} <= statuses, (
            project.name
        )
        assert project.skip_reasons
    street = next(p for p in projects.values() if "boxes" in kinds[p.name])
    job = street.import_jobs.get()
    images = sorted(Path(tmp_path, "imports", str(job.pk)).glob("street-*.png"))
    assert len(images) == 6
    item = street.items.order_by("id").first()
    assert (item.width, item.height) == (800, 500)
    assert item.data["image"] == f"/media/imports/{job.pk}/street-1.png"
    # the media view serves the pictures to the project's members (the job owns them)
    from django.contrib.auth import get_user_model
    from django.test import Client

    member = Client()
    member.force_login(get_user_model().objects.get(username="anna"))
    assert member.get(item.data["image"]).status_code == 200
