"""One model for every process: two real web servers against the test database and one
Redis cache. A refit asked of one server is seen by the other, which resolves with it."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import redis
import requests

from labeling.annotate.submit import annotation_submit
from labeling.consensus.fitted_model import consensus_model_current
from labeling.models import Resolution
from projects.models import Membership, Project
from tests.celery_worker import BROKER_URL, database_url_for_workers
from tests.factories import (
    ItemFactory,
    MembershipFactory,
    ProjectFactory,
    UserFactory,
    api_token_secret,
)
from tests.loopback import free_port, web_server_start, web_server_wait_ready

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SCHEMA = {"controls": [{"name": "relevant", "kind": "choice", "labels": ["yes", "no"]}]}


def server_start(port: int, log: Path) -> subprocess.Popen:
    return web_server_start(
        port,
        log,
        {
            "DATABASE_URL": database_url_for_workers(),
            "CACHE_URL": BROKER_URL,  # the shared cache; no broker: refits run in the server
            "CELERY_BROKER_URL": "",
            "SECRET_KEY": "two-processes-test",
            "DEBUG": "true",
        },
    )


def wait_ready(base: str, process: subprocess.Popen, log: Path) -> None:
    web_server_wait_ready(f"{base}/api/projects/", process, log)


@pytest.fixture
def two_servers(tmp_path):
    servers = []
    for name in ("a", "b"):
        port = free_port()
        log = tmp_path / f"server-{name}.log"
        servers.append((f"http://127.0.0.1:{port}", server_start(port, log), log))
    try:
        for base, process, log in servers:
            wait_ready(base, process, log)
        yield [base for base, _, _ in servers]
    finally:
        for _, process, _ in servers:
            process.terminate()
        for _, process, _ in servers:
            process.wait(timeout=20)


def test_a_refit_through_one_server_is_used_by_the_other(two_servers):
    server_a, server_b = two_servers
    lead = UserFactory(username="lead2p")
    project = ProjectFactory(
        label_schema=SCHEMA,
        overlap=3,
        review_policy=Project.ReviewPolicy.NONE,
        aggregation=Project.Aggregation.DAWID_SKENE,
    )
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    good = [UserFactory(username=f"g{n}") for n in range(2)]
    spammer = UserFactory(username="spam")
    for user in [*good, spammer]:
        MembershipFactory(project=project, user=user)
    for n in range(12):  # the spammer says "yes" to everything; the good pair alternates
        item = ItemFactory(project=project, external_id=f"x{n}")
        label = ["yes", "no"][n % 2]
        for user in good:
            annotation_submit(item=item, annotator=user, result={"relevant": label})
        annotation_submit(item=item, annotator=spammer, result={"relevant": "yes"})
    headers = {"Authorization": f"Token {api_token_secret(lead)}"}

    def consensus(base):
        response = requests.get(f"{base}/api/projects/{project.pk}/consensus/", headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    assert consensus(server_a)["model_version"] == consensus(server_b)["model_version"] == 0
    refresh = requests.post(
        f"{server_a}/api/projects/{project.pk}/resolutions/refresh/", headers=headers
    )
    assert refresh.status_code == 202, refresh.text
    job_url = f"{server_b}/api/projects/{project.pk}/resolutions/refresh/{refresh.json()['id']}/"
    deadline = time.monotonic() + 30
    while (job := requests.get(job_url, headers=headers).json())["status"] != "done":
        assert job["status"] in ("queued", "running") and time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["model_version"] == 1 and job["answers_count"] == 36
    seen_a, seen_b = consensus(server_a), consensus(server_b)
    assert seen_a["model_version"] == seen_b["model_version"] == 1
    assert seen_a["reliability"] == seen_b["reliability"]
    # The fitted model sits in the shared Redis cache under its version.
    shared = redis.Redis.from_url(BROKER_URL)
    assert shared.keys(f"*quorum:consensus-model:{project.pk}:*:1")

    # Both servers resolve the same answers the same way, with the new model.
    model = consensus_model_current(project=project).controls["relevant"]
    for base, name in ((server_a, "ya"), (server_b, "yb")):
        item = ItemFactory(project=project, external_id=name)
        for user in [good[0], spammer, good[1]]:
            token = api_token_secret(user)
            response = requests.post(
                f"{base}/api/items/{item.pk}/annotations/",
                json={"result": {"relevant": "no" if user in good else "yes"}},
                headers={"Authorization": f"Token {token}"},
            )
            assert response.status_code == 201, response.text
        resolution = Resolution.objects.get(item=item, is_current=True)
        assert resolution.result == {"relevant": "no"}
        assert resolution.details["model_version"] == 1
        expected = model.posterior([(good[0].pk, 1), (spammer.pk, 0), (good[1].pk, 1)])[1]
        assert resolution.confidence == pytest.approx(float(expected))
