"""Answers carried by a Label Studio import: counted, refused with a reason, mapped to users,
anonymous ones made distinct or refused; an import with answers refits the project's model."""

import json
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from labeling.models import Annotation, ConsensusJob, ConsensusState
from projects.models import Membership, Project
from tests.factories import MembershipFactory, ProjectFactory, UserFactory
from tests.projects.imports.import_support import error_report, import_file, import_mode  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


def answer(annotation_id, completed_by, label="positive", **extra):
    body = {
        "id": annotation_id,
        "result": [
            {
                "from_name": "sentiment",
                "to_name": "text",
                "type": "choices",
                "value": {"choices": [label]},
            }
        ],
        **extra,
    }
    if completed_by != "missing":
        body["completed_by"] = completed_by
    return body


def export() -> bytes:
    tasks = [
        {
            "id": 1,
            "data": {"text": "one"},
            "annotations": [
                answer(11, {"id": 1, "email": "known@example.com"}),
                answer(12, {"id": 2, "email": "New.Person@example.com"}, "negative"),
            ],
        },
        {
            "id": 2,
            "data": {"text": "two"},
            "annotations": [
                answer(21, 3),
                answer(22, 3, "negative"),  # the same worker again
                answer(23, None, "neutral"),
            ],
        },
        {
            "id": 3,
            "data": {"text": "three"},
            "annotations": [answer(31, 0), answer(32, "missing", "negative")],
        },
    ]
    return json.dumps(tasks).encode()


@pytest.fixture
def ds_project(lead):
    project = ProjectFactory(
        overlap=2,
        aggregation=Project.Aggregation.DAWID_SKENE,
        review_policy=Project.ReviewPolicy.NONE,
    )
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    return project


def test_answers_are_counted_mapped_and_anonymous_ones_made_distinct(
    import_mode,  # noqa: F811
    lead_api,
    ds_project,
):
    known = UserFactory(username="known", email="known@example.com")
    job = import_file(lead_api, ds_project, "export.json", export(), format="label_studio")
    assert job["status"] == "done", job
    assert (job["created_count"], job["answers_carried"], job["answers_skipped"]) == (3, 6, 1)
    report = error_report(lead_api, job["id"])
    assert any("annotation 22: a second answer by labelstudio-3" in r[1] for r in report)
    by_task = {}
    for annotation in Annotation.objects.filter(project=ds_project).select_related(
        "annotator", "item"
    ):
        by_task.setdefault(annotation.item.external_id, []).append(annotation.annotator)
    assert known in by_task["1"]  # matched by email
    assert "new.person@example.com" in {u.email for u in by_task["1"]}
    anonymous = [u for u in by_task["2"] + by_task["3"] if u.username.startswith("anonymous-")]
    assert len(anonymous) == 3 and len({u.pk for u in anonymous}) == 3
    assert all(not u.has_usable_password() for u in anonymous)
    # The import carried answers: a worker refitted the model, and it read all six.
    deadline = time.monotonic() + 60
    while (refit := ConsensusJob.objects.get(project=ds_project)).status != "done":
        assert refit.status in ("queued", "running") and time.monotonic() < deadline, refit
        time.sleep(0.1)
    assert (refit.trigger, refit.status, refit.answers_count) == ("import", "done", 6)
    state = ConsensusState.objects.get(pk=ds_project.pk)
    assert state.model_version == 1 and state.fitted_changes == state.answer_changes == 6


@pytest.mark.django_db(transaction=True)
def test_anonymous_answers_can_be_refused(lead_api, ds_project):
    job = import_file(
        lead_api,
        ds_project,
        "export.json",
        export(),
        format="label_studio",
        anonymous_answers="refuse",
    )
    assert (job["answers_carried"], job["answers_skipped"]) == (3, 4)
    reasons = [r[1] for r in error_report(lead_api, job["id"])]
    assert sum("no annotator (completed_by), refused" in r for r in reasons) == 3
    assert not Annotation.objects.filter(annotator__username__startswith="anonymous-").exists()


@pytest.mark.django_db(transaction=True)
def test_an_unknown_anonymous_option_is_refused(lead_api, ds_project):
    response = lead_api.post(
        f"/api/projects/{ds_project.pk}/imports/",
        {"file": SimpleUploadedFile("x.json", export()), "anonymous_answers": "merge"},
        format="multipart",
    )
    assert response.status_code == 400 and "anonymous_answers" in response.json()
    assert not ds_project.import_jobs.exists()
