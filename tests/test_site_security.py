"""Site security (issue 18, part 3): `check --deploy` clean with production settings, a
Content-Security-Policy the pages pass (no inline script or style), Django's password
validators."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError

ROOT = Path(settings.BASE_DIR)
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(60),
    "ALLOWED_HOSTS": "quorum.example.org",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true",
    "SECURE_HSTS_PRELOAD": "true",
}


INLINE_SCRIPT = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>")


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = {**os.environ, **PRODUCTION, "QUORUM_DATA_DIR": str(tmp_path)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop(
        "DJANGO_ALLOW_ASYNC_UNSAFE", None
    )  # set for the test process (Playwright), never deployed
    run = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "no issues" in run.stdout


def test_password_validators_refuse_weak_passwords():
    for weak in ("short", "password123", "1234567890123"):
        with pytest.raises(ValidationError):
            validate_password(weak)
    validate_password("correct horse battery staple")


@pytest.mark.django_db
def test_pages_carry_a_policy_they_pass(client, project, lead):
    client.force_login(lead)
    policy = settings.CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    urls = [
        "/",
        f"/projects/{project.pk}/",
        f"/projects/{project.pk}/settings/",
        f"/projects/{project.pk}/label/",
        f"/projects/{project.pk}/review/",
        f"/projects/{project.pk}/dashboard/",
        f"/projects/{project.pk}/history/",
        "/account/tokens/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Security-Policy"] == policy, url
        html = response.content.decode()
        # every script is a file (JSON data blocks, which never run, aside); no <style>
        # element, style attribute or inline handler
        assert not INLINE_SCRIPT.search(html), url
        assert "<style" not in html and " style=" not in html, url
        assert not re.search(r"\son[a-z]+=", html), url
    docs = client.get("/api/docs/")  # Swagger UI: its script a file, its <style> allowed
    assert "script-src 'self';" in docs["Content-Security-Policy"]
    assert not INLINE_SCRIPT.search(docs.content.decode())
