"""Label Studio JSON goes back and forth: importing our own export gives the same items and
answers (through the import API and the Label Studio importer of projects/imports/readers/)."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from labeling.models import Annotation
from projects.models import Item, Membership, Prediction
from tests.exports.helpers import export_run
from tests.factories import MembershipFactory, ProjectFactory

WAIT_SECONDS = 60


def import_wait(client, job_id: int) -> dict:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        job = client.get(f"/api/imports/{job_id}/").json()
        if job["status"] in ("done", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"import {job_id} did not finish: {job}")


def answered(result: dict | None) -> dict | None:
    """The answered controls of a result (an empty list and a missing key say the same)."""
    if result is None:
        return None
    return {name: value for name, value in result.items() if value not in (None, "", [])}


def answers(project, by) -> dict:
    """item key -> {annotator email -> result}"""
    out: dict = {}
    for annotation in Annotation.objects.filter(project=project).select_related(
        "item", "annotator"
    ):
        email = annotation.annotator.email
        out.setdefault(by(annotation.item), {})[email] = answered(annotation.result)
    return out


def _approx(value):
    if isinstance(value, float):
        return pytest.approx(value, abs=1e-6)
    if isinstance(value, list):
        return [_approx(v) for v in value]
    if isinstance(value, dict):
        return {k: _approx(v) for k, v in value.items()}
    return value


@pytest.mark.parametrize("fixture", ["text_project", "image_project"])
def test_our_label_studio_export_imports_as_the_same_items_and_answers(
    request, fixture, lead, lead_api, transactional_db, tmp_path
):
    source = request.getfixturevalue(fixture)
    _, path = export_run(
        source.project,
        lead,
        "label_studio",
        tmp_path,
        only_resolved=False,
        include_annotations=True,
        include_gold=True,
        include_predictions=True,
    )
    target = ProjectFactory(label_schema=source.project.label_schema, created_by=lead)
    MembershipFactory(project=target, user=lead, role=Membership.Role.LEAD)
    response = lead_api.post(
        f"/api/projects/{target.pk}/imports/",
        {"file": SimpleUploadedFile("export.json", path.read_bytes()), "format": "label_studio"},
        format="multipart",
    )
    assert response.status_code == 202, response.content
    job = import_wait(lead_api, response.json()["id"])
    assert job["status"] == "done", job

    originals = list(Item.objects.filter(project=source.project).order_by("id"))
    copies = list(Item.objects.filter(project=target).order_by("id"))
    assert [c.data for c in copies] == [o.data for o in originals]
    assert [c.external_id for c in copies] == [o.external_id for o in originals]
    # Imported predictions feed the uncertainty ordering like predictions sent to the API.
    newest_scores = [
        Prediction.objects.filter(item=c).order_by("-id").values_list("score", flat=True).first()
        for c in copies
    ]
    assert [c.prediction_score for c in copies] == newest_scores
    assert [(c.width, c.height) for c in copies if c.width] == [
        (o.width, o.height) for o in originals if o.width and o.status == "resolved"
    ]
    # The same answers by the same annotators (matched by email), shapes back in pixels.
    by_data = lambda item: repr(sorted(item.data.items()))  # noqa: E731
    theirs = answers(target, by_data)
    assert theirs == _approx(answers(source.project, by_data))
    assert [answered(c.gold) for c in copies] == _approx([answered(o.gold) for o in originals])
    assert sorted(
        Prediction.objects.filter(item__project=target).values_list("model_version", "score")
    ) == sorted(
        Prediction.objects.filter(item__project=source.project).values_list(
            "model_version", "score"
        )
    )
