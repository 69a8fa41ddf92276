"""Schemathesis fuzzes every operation of the OpenAPI schema against a live server: no answer
may be a server error, and every answer must match the schema (status, content type, body).

Bounded and repeatable: a fixed seed and a fixed number of cases per operation (FUZZ_EXAMPLES,
default 12; `make fuzz` runs more). The ids the fuzzer tries are small numbers, so the database
starts from reset sequences with a project, items, answers and jobs at ids 1, 2, 3...
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from exports.models import ExportJob
from labeling.models import Annotation, Assignment
from projects.models import ImportJob, Membership
from tests.factories import (
    ItemFactory,
    MembershipFactory,
    ProjectFactory,
    UserFactory,
    api_token_secret,
)

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")
CHECKS = "not_a_server_error,response_schema_conformance,content_type_conformance"
# Operations that make the server call out (webhook deliveries, model backends, bucket syncs) are
# left out: fuzzed URLs would send traffic to made-up hosts. Their bad input has its own tests
# against real peers on 127.0.0.1 (tests/labeling/integrations/).
CALLS_OUT = r"^/api/(projects/[^/]+/)?(webhooks|storages|model-backends)(/|$)"
# Revoking a token would revoke the fuzzer's own (id 1) and turn every later call into a 401;
# tests/projects/test_api_tokens.py covers it.
REVOKES_ITSELF = "tokens_destroy"


def _fuzz_world():
    """A lead (the fuzzing caller) of a project with items, answers, an assignment and jobs."""
    lead = UserFactory(username="fuzz-lead", is_staff=True)
    other = UserFactory(username="fuzz-annotator")
    for _ in range(2):
        project = ProjectFactory(created_by=lead, overlap=2)
        MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
        MembershipFactory(project=project, user=other, role=Membership.Role.ANNOTATOR)
        items = [ItemFactory(project=project, data={"text": f"item {n}"}) for n in range(4)]
        Annotation.objects.create(
            project=project, item=items[0], annotator=other, result={"sentiment": "positive"}
        )
        Assignment.objects.create(
            item=items[1], annotator=lead, project=project, expires_at="2099-01-01T00:00:00Z"
        )
        ImportJob.objects.create(project=project, created_by=lead, format="jsonl")
        ExportJob.objects.create(project=project, created_by=lead, format="jsonl")
    return api_token_secret(lead, name="fuzzing")


# On PostgreSQL, the database that refuses what SQLite lets through (NUL characters, huge ints).
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, reset_sequences=True)
def test_fuzzing_finds_no_server_error_and_no_schema_violation(live_server, tmp_path):
    token = _fuzz_world()
    examples = os.environ.get("FUZZ_EXAMPLES", "12")
    command = [
        str(SCHEMATHESIS),
        "--config-file",
        str(CONFIG),
        "--no-color",
        "run",
        f"{live_server.url}/api/schema/",
        "--url",
        live_server.url,
        "--header",
        f"Authorization: Token {token}",
        "--checks",
        CHECKS,
        "--exclude-path-regex",
        CALLS_OUT,
        "--exclude-operation-id",
        REVOKES_ITSELF,
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        examples,
        "--seed",
        "18",
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--report",
        "junit",
        "--report-dir",
        str(tmp_path),
    ]
    run = subprocess.run(
        command,
        stdout=subprocess.PIPE,
        text=True,
        timeout=900,
        env={**os.environ, "NO_COLOR": "1"},
        cwd=tmp_path,  # schemathesis keeps a cache where it runs
    )
    print(run.stdout[-20000:])
    assert run.returncode == 0, run.stdout[-8000:]
