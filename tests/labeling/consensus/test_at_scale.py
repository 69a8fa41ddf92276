"""Issue 13: Dawid-Skene on every item from a stored model, refits in workers, ties that resolve.

crowd-kit's DawidSkene (the reference the suite already uses) decides the simulated project's
labels; our project resolves through the real services (submit, the worker's refit service).
"""

import numpy as np
import pandas as pd
import pytest
from crowdkit.aggregation import DawidSkene

from labeling.annotate.queue import assignment_next
from labeling.annotate.submit import annotation_submit
from labeling.consensus.fitted_model import (
    DEFAULT_ACCURACY,
    consensus_answers_seen,
    consensus_model_current,
    consensus_model_version,
)
from labeling.consensus.refresh import consensus_job_create, consensus_job_run, consensus_refit
from labeling.models import ConsensusJob, ConsensusState, Resolution
from labeling.tasks import consensus_jobs_due_task
from projects.models import Item, Membership, Project
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.filterwarnings(
        "ignore::DeprecationWarning:crowdkit.*", "ignore:The (inplace|copy) keyword"
    ),
]

BINARY = {"controls": [{"name": "relevant", "kind": "choice", "labels": ["yes", "no"]}]}


def ds_project(**fields):
    defaults = {
        "label_schema": BINARY,
        "overlap": 3,
        "review_policy": Project.ReviewPolicy.NONE,
        "aggregation": Project.Aggregation.DAWID_SKENE,
    }
    return ProjectFactory(**{**defaults, **fields})


def current(item) -> Resolution:
    return Resolution.objects.get(item=item, is_current=True)


def simulate(project, seed=3):
    """Three reliable annotators (right 90% of the time) and three who answer the opposite of
    the truth 90% of the time. Panels of three: mixed panels (two reliable, one not) teach the
    model who is who; on the all-unreliable panels the (often unanimous) answers are mostly
    wrong."""
    rng = np.random.default_rng(seed)
    reliable = [UserFactory(username=f"good{n}") for n in range(3)]
    flippers = [UserFactory(username=f"flip{n}") for n in range(3)]
    panels = (
        [
            reliable[:2] + flippers[:1],
            reliable[1:] + flippers[1:2],
            [reliable[0], reliable[2], flippers[2]],
        ]
        * 20
        + [flippers] * 20
        + [reliable] * 10
    )
    rows, truths, items = [], [], []
    for n, panel in enumerate(panels):
        truth = int(rng.integers(2))
        item = ItemFactory(project=project, external_id=f"s{n}")
        for user in panel:
            right = rng.random() < 0.9
            is_reliable = user in reliable
            label = truth if right == is_reliable else 1 - truth
            annotation_submit(item=item, annotator=user, result={"relevant": ["yes", "no"][label]})
            rows.append((item.pk, user.pk, label))
        truths.append(truth)
        items.append(item)
    return items, truths, pd.DataFrame(rows, columns=["task", "worker", "label"])


def test_unanimous_answers_of_unreliable_annotators_follow_crowd_kit():
    project = ds_project()
    items, truths, answers = simulate(project)
    consensus_refit(project=project)  # what the worker runs after the answers moved
    # Run to convergence (tol=-inf: crowd-kit's own stop, on the likelihood, comes too early).
    reference = DawidSkene(n_iter=50, tol=-np.inf).fit(answers)
    expected = reference.labels_
    probas = reference.probas_
    overturned, overturned_right = 0, 0
    for item, truth in zip(items, truths, strict=True):
        resolution = current(item)
        label = ["yes", "no"].index(resolution.result["relevant"])
        assert resolution.method == Resolution.Method.DAWID_SKENE
        assert label == expected[item.pk]
        assert resolution.confidence == pytest.approx(probas.loc[item.pk, label], abs=1e-4)
        given = set(answers[answers.task == item.pk].label)
        if len(given) == 1 and label != next(iter(given)):
            overturned += 1
            overturned_right += label == truth  # the unanimous answer was wrong
            assert resolution.agreement == 1.0  # unanimity is still on record
    assert overturned >= 10 and overturned_right >= 0.9 * overturned
    accuracy = np.mean([expected[i.pk] == t for i, t in zip(items, truths, strict=True)])
    assert accuracy > 0.9


def test_single_answers_resolve_from_the_posterior_without_any_fit():
    project = ds_project(overlap=1)
    item = ItemFactory(project=project)
    annotation_submit(item=item, annotator=UserFactory(), result={"relevant": "no"})
    resolution = current(item)
    assert resolution.method == Resolution.Method.DAWID_SKENE
    assert resolution.result == {"relevant": "no"}
    # No model yet: a default annotator, right DEFAULT_ACCURACY of the time, uniform priors.
    assert resolution.confidence == pytest.approx(DEFAULT_ACCURACY)
    assert resolution.details["model_version"] == 0


def test_the_item_json_carries_the_confidence(lead, lead_api):
    project = ds_project(overlap=1)
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    item = ItemFactory(project=project)
    annotation_submit(item=item, annotator=UserFactory(), result={"relevant": "yes"})
    resolution = lead_api.get(f"/api/items/{item.pk}/").json()["resolution"]
    assert resolution["method"] == "dawid_skene"
    assert resolution["confidence"] == pytest.approx(DEFAULT_ACCURACY)


def test_no_submit_fits_and_the_counter_tells_the_schedule(django_capture_on_commit_callbacks):
    project = ds_project(overlap=2)
    users = [UserFactory(username=f"u{n}") for n in range(2)]
    for n in range(5):
        item = ItemFactory(project=project, external_id=f"c{n}")
        for user in users:
            annotation_submit(item=item, annotator=user, result={"relevant": "yes"})
    # Counted on each annotator's own row: no submit waits on a project-wide counter row.
    assert consensus_answers_seen(project_id=project.pk) == 10
    assert consensus_model_version(project=project) == 0  # and no submit fitted
    with django_capture_on_commit_callbacks(execute=True):
        consensus_jobs_due_task.delay()
    job = ConsensusJob.objects.get(project=project)
    assert (job.trigger, job.status, job.answers_count, job.items_count) == (
        "schedule",
        "done",
        10,
        5,
    )
    state = ConsensusState.objects.get(pk=project.pk)
    assert (state.model_version, state.fitted_changes) == (1, 10)
    with django_capture_on_commit_callbacks(execute=True):
        consensus_jobs_due_task.delay()  # nothing moved since: nothing to do
    assert ConsensusJob.objects.filter(project=project).count() == 1
    # A new answer, then its edit (the item still open): both move the counter.
    open_item = ItemFactory(project=project, external_id="open")
    annotation_submit(item=open_item, annotator=users[0], result={"relevant": "yes"})
    annotation_submit(item=open_item, annotator=users[0], result={"relevant": "no"})
    assert consensus_answers_seen(project_id=project.pk) == 12
    with django_capture_on_commit_callbacks(execute=True):
        consensus_jobs_due_task.delay()
    assert ConsensusJob.objects.filter(project=project, trigger="schedule").count() == 2
    # Majority projects with a reviewer in the loop keep no model and no counter.
    majority = ProjectFactory(label_schema=BINARY, overlap=1)
    annotation_submit(
        item=ItemFactory(project=majority), annotator=users[0], result={"relevant": "yes"}
    )
    assert not ConsensusState.objects.filter(pk=majority.pk).exists()


def test_review_decision_refits_with_the_reviewers_answer_as_known(
    lead, lead_api, django_capture_on_commit_callbacks
):
    project = ds_project(overlap=2, review_policy=Project.ReviewPolicy.DISAGREEMENTS)
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    a, b = UserFactory(username="ra"), UserFactory(username="rb")
    item = ItemFactory(project=project)
    annotation_submit(item=item, annotator=a, result={"relevant": "yes"})
    second, _ = annotation_submit(item=item, annotator=b, result={"relevant": "no"})
    item.refresh_from_db()
    assert item.status == Item.Status.IN_REVIEW
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_api.post(
            f"/api/items/{item.pk}/resolution/", {"action": "accept", "annotation": second.pk}
        )
    assert response.status_code == 201
    job = ConsensusJob.objects.get(project=project)
    assert (job.trigger, job.status) == ("review", "done")
    model = consensus_model_current(project=project).controls["relevant"]
    # With the reviewer's "no" known, b is right and a wrong on it.
    assert model.reliability(b.pk) > model.reliability(a.pk)


def test_a_refit_that_fails_leaves_a_failed_job_with_its_reason():
    project = ds_project()
    Project.objects.filter(pk=project.pk).update(
        label_schema={"controls": [{"name": "x", "kind": "no-such-kind"}]}
    )
    project.refresh_from_db()
    job = consensus_job_create(project=project, trigger=ConsensusJob.Trigger.REQUEST)
    with pytest.raises(Exception):  # noqa: B017 (the schema's own error, whatever its class)
        consensus_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ConsensusJob.Status.FAILED and job.finished_at is not None
    assert job.message.startswith("The refit failed:")
    consensus_job_run(job_id=job.pk)  # a failed job is not run again


def test_refresh_endpoint_answers_202_and_validates(
    lead, lead_api, django_capture_on_commit_callbacks
):
    majority = ProjectFactory(label_schema=BINARY, review_policy="disagreements")
    MembershipFactory(project=majority, user=lead, role=Membership.Role.LEAD)
    refused = lead_api.post(f"/api/projects/{majority.pk}/resolutions/refresh/")
    assert refused.status_code == 400 and "aggregation" in refused.json()
    project = ds_project()
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    with django_capture_on_commit_callbacks(execute=False) as enqueued:
        first = lead_api.post(f"/api/projects/{project.pk}/resolutions/refresh/")
        again = lead_api.post(f"/api/projects/{project.pk}/resolutions/refresh/")
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"] and len(enqueued) == 1  # one queued job
    polled = lead_api.get(f"/api/projects/{project.pk}/resolutions/refresh/{first.json()['id']}/")
    assert polled.json()["status"] == "queued"
    other = ds_project()
    assert (
        lead_api.get(f"/api/projects/{other.pk}/resolutions/refresh/{first.json()['id']}/")
    ).status_code in (403, 404)


# -- ties ---------------------------------------------------------------------------------


def majority_project(**fields):
    defaults = {
        "label_schema": BINARY,
        "overlap": 2,
        "max_overlap": 3,
        "review_policy": Project.ReviewPolicy.NONE,
    }
    return ProjectFactory(**{**defaults, **fields})


def members(project, n, prefix="m"):
    users = [UserFactory(username=f"{prefix}{k}") for k in range(n)]
    for user in users:
        MembershipFactory(project=project, user=user)
    return users


def take_and_answer(project, user, label):
    served = assignment_next(project=project, annotator=user)
    assert served is not None, f"{user.username} was served nothing"
    annotation_submit(item=served.item, annotator=user, result={"relevant": label})
    return served.item


def test_a_tie_asks_one_more_annotator_then_resolves():
    project = majority_project()
    first, second, third = members(project, 3)
    item = ItemFactory(project=project)
    take_and_answer(project, first, "yes")
    take_and_answer(project, second, "no")
    item.refresh_from_db()
    assert (item.status, item.extra_slots) == (Item.Status.OPEN, 1)
    assert current(item).state == Resolution.State.SENT_BACK
    # The queue serves it again, to someone who has not seen it only.
    assert assignment_next(project=project, annotator=first) is None
    assert take_and_answer(project, third, "no") == item
    item.refresh_from_db()
    resolution = current(item)
    assert item.status == Item.Status.RESOLVED
    assert (resolution.method, resolution.result) == ("majority", {"relevant": "no"})
    assert resolution.confidence == pytest.approx(2 / 3)


def test_at_max_overlap_a_tie_is_weighed_by_gold_accuracy():
    project = majority_project(max_overlap=2)
    careful, careless = members(project, 2)
    gold = ItemFactory(project=project, external_id="gold", gold={"relevant": "yes"})
    annotation_submit(item=gold, annotator=careful, result={"relevant": "yes"})
    annotation_submit(item=gold, annotator=careless, result={"relevant": "no"})
    item = ItemFactory(project=project)
    annotation_submit(item=item, annotator=careless, result={"relevant": "yes"})
    annotation_submit(item=item, annotator=careful, result={"relevant": "no"})
    item.refresh_from_db()
    resolution = current(item)
    assert item.status == Item.Status.RESOLVED
    assert (resolution.method, resolution.result) == ("weighted_vote", {"relevant": "no"})
    assert resolution.confidence == pytest.approx(1.0)  # careless weighs 0 on gold


def test_with_no_annotator_left_a_tie_is_weighed_by_dawid_skene_reliabilities():
    project = majority_project(max_overlap=3)
    good, bad, helper = members(project, 3)
    for n in range(8):  # bad contradicts good; each tie asks helper, who sides with good
        item = ItemFactory(project=project, external_id=f"t{n}")
        label, opposite = ("yes", "no") if n % 2 else ("no", "yes")
        annotation_submit(item=item, annotator=good, result={"relevant": label})
        annotation_submit(item=item, annotator=bad, result={"relevant": opposite})
        item.refresh_from_db()
        assert item.extra_slots == 1
        annotation_submit(item=item, annotator=helper, result={"relevant": label})
    consensus_refit(project=project)  # the worker's refit: bad is unreliable
    helper.is_active = False  # nobody left who could answer a third time
    helper.save()
    tied = ItemFactory(project=project, external_id="tied")
    annotation_submit(item=tied, annotator=bad, result={"relevant": "yes"})
    annotation_submit(item=tied, annotator=good, result={"relevant": "no"})
    resolution = current(tied)
    assert (resolution.method, resolution.result) == ("weighted_vote", {"relevant": "no"})
    assert resolution.details["model_version"] == 1
    assert resolution.confidence > 0.5


def test_with_a_review_policy_ties_still_go_to_review():
    project = majority_project(review_policy=Project.ReviewPolicy.DISAGREEMENTS)
    first, second, _ = members(project, 3)
    item = ItemFactory(project=project)
    take_and_answer(project, first, "yes")
    take_and_answer(project, second, "no")
    item.refresh_from_db()
    assert (item.status, item.extra_slots) == (Item.Status.IN_REVIEW, 0)
    assert "no majority" in current(item).reason


def test_max_overlap_below_overlap_is_refused(lead_api, project):
    response = lead_api.patch(
        f"/api/projects/{project.pk}/", {"overlap": 3, "max_overlap": 2}, format="json"
    )
    assert response.status_code == 400
    assert "max_overlap" in response.json()
    project.refresh_from_db()
    assert project.overlap == 1


@pytest.mark.worker
@pytest.mark.postgres
def test_refresh_and_quality_report_run_on_a_real_worker(celery_worker_process, lead, lead_api):
    import time

    project = ds_project(overlap=2)
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    users = [UserFactory(username=f"w{n}") for n in range(2)]
    for n in range(4):
        item = ItemFactory(project=project, external_id=f"w{n}")
        for user in users:
            annotation_submit(item=item, annotator=user, result={"relevant": "no"})
    response = lead_api.post(f"/api/projects/{project.pk}/resolutions/refresh/")
    assert response.status_code == 202
    url = f"/api/projects/{project.pk}/resolutions/refresh/{response.json()['id']}/"
    deadline = time.monotonic() + 60
    while (job := lead_api.get(url).json())["status"] != "done":
        assert job["status"] in ("queued", "running") and time.monotonic() < deadline, job
        time.sleep(0.2)
    assert (job["answers_count"], job["items_count"], job["model_version"]) == (8, 4, 1)
    first = lead_api.get(f"/api/projects/{project.pk}/agreement/").json()
    assert first["refreshing"] is True and first["computed_at"] is None  # computed elsewhere
    while (report := lead_api.get(f"/api/projects/{project.pk}/agreement/").json())["refreshing"]:
        assert time.monotonic() < deadline + 60
        time.sleep(0.2)
    assert report["project"]["annotations"] == 8 and report["age_seconds"] >= 0
