"""The production shape (issue 18, part 5): a health endpoint that checks the database, the
cache and the broker; request ids on answers and log records; JSON logs; persistent database
connections with health checks; compose with a buffering proxy before the web server (Granian)."""

import io
import json
import logging
import os
from pathlib import Path

import pytest
import yaml
from django.conf import settings

from labeling.site.request_logging import JsonFormatter, RequestIdFilter, request_id_var
from tests.celery_worker import app_connections_reset

ROOT = Path(settings.BASE_DIR)


@pytest.mark.django_db
def test_health_answers_ok_when_everything_answers(client):
    response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok", "broker": "ok"}


@pytest.mark.django_db
def test_health_names_what_fails(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:9/0"  # nothing listens there
    app_connections_reset()  # the Celery app reads the settings anew
    try:
        response = client.get("/health/")
    finally:
        app_connections_reset()
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "cache": "ok", "broker": "failing"}


@pytest.mark.django_db
def test_answers_carry_a_request_id_and_keep_a_sane_given_one(client):
    made = client.get("/accounts/login/")
    assert len(made["X-Request-ID"]) == 32
    given = client.get("/accounts/login/", HTTP_X_REQUEST_ID="proxy-id.42")
    assert given["X-Request-ID"] == "proxy-id.42"
    hostile = client.get("/accounts/login/", HTTP_X_REQUEST_ID="a b\nc")
    assert hostile["X-Request-ID"] != "a b\nc"


def test_json_log_lines_carry_the_request_id():
    record = logging.LogRecord("quorum", logging.WARNING, __file__, 1, "hello %s", ("you",), None)
    token = request_id_var.set("abc123")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id_var.reset(token)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "hello you" and line["request_id"] == "abc123"
    assert line["level"] == "WARNING" and line["logger"] == "quorum"


def test_database_connections_persist_with_health_checks():
    assert "CONN_MAX_AGE" in settings.DATABASES["default"]
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


def test_compose_puts_a_buffering_proxy_before_the_web_server_and_runs_beat():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert "proxy" in services and "beat" in services
    assert "ports" not in services["web"]  # reached through the proxy only
    assert services["proxy"]["ports"]
    config = compose["configs"]["nginx"]["content"]
    assert "proxy_request_buffering on" in config and "proxy_buffering on" in config
    assert "client_max_body_size" in config and "internal;" in config  # X-Accel-Redirect
    assert "celery" in " ".join(services["beat"]["command"])
    assert "beat" in services["beat"]["command"]
    web_env = services["web"]["environment"]
    assert web_env["CONN_MAX_AGE"] and web_env["CACHE_URL"].startswith("redis://")
    assert "/health/" in " ".join(services["web"]["healthcheck"]["test"])


def test_the_web_server_entry_keeps_the_process_environment_out_of_requests(monkeypatch):
    """Granian copies the server's environment into every environ; the entry drops it, keeps
    the request's own keys, and says the input ends at the body's end."""
    from labeling.site import web_server

    seen = {}

    def django_application(environ, start_response):
        seen.update(environ)
        return []

    monkeypatch.setattr(web_server, "django_application", django_application)
    process_key = next(iter(web_server._PROCESS_KEYS))
    environ = {
        **os.environ,
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/api/projects/",
        "SERVER_NAME": "127.0.0.1",
        "HTTP_AUTHORIZATION": "Token abc",
        "wsgi.input": io.BytesIO(b""),
    }
    web_server.application(environ, lambda *args: None)
    assert process_key not in seen and "DATABASE_URL" not in seen
    assert seen["REQUEST_METHOD"] == "POST" and seen["PATH_INFO"] == "/api/projects/"
    assert seen["SERVER_NAME"] == "127.0.0.1" and seen["HTTP_AUTHORIZATION"] == "Token abc"
    assert seen["wsgi.input_terminated"] is True
