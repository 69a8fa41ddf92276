"""Per-annotator quality and the agreement endpoint on a small project with known numbers."""

from datetime import timedelta

import krippendorff
import numpy as np
import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from statsmodels.stats.inter_rater import fleiss_kappa

from labeling.annotate.queue import assignment_next, assignment_skip
from labeling.annotate.submit import annotation_submit
from labeling.models import Annotation
from labeling.quality.report import project_progress, project_quality, project_quality_cached
from projects.models import Project
from tests.conftest import api_client_for
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

SCHEMA = {"controls": [{"name": "sentiment", "kind": "choice", "labels": ["pos", "neg", "neu"]}]}
# item -> answers of annotators a, b, c
ANSWERS = {
    "i1": ("pos", "pos", "pos"),
    "i2": ("pos", "pos", "neg"),
    "i3": ("neg", "neg", "neg"),
    "i4": ("neu", "pos", "neu"),
}
# gold items (known answer) -> (gold, answers of a, b, c)
GOLD = {"g1": ("neg", ("pos", "neg", "neg")), "g2": ("neu", ("neu", "pos", "neu"))}
LEAD_TIMES = {"qa": [10, 20, 30, 40, 50, 60], "qb": [5] * 6, "qc": [60, 1, 2, 3, 4, 5]}


@pytest.fixture
def project_with_answers(db):
    project = ProjectFactory(
        label_schema=SCHEMA, overlap=3, review_policy=Project.ReviewPolicy.NONE
    )
    lead = UserFactory(username="q-lead")
    MembershipFactory(project=project, user=lead, role="lead")
    users = [UserFactory(username=name) for name in ("qa", "qb", "qc")]
    for user in users:
        MembershipFactory(project=project, user=user, role="annotator")
    rows = [(external_id, None, answers) for external_id, answers in ANSWERS.items()]
    rows += [(external_id, gold, answers) for external_id, (gold, answers) in GOLD.items()]
    for n, (external_id, gold, answers) in enumerate(rows):
        item = ItemFactory(
            project=project,
            external_id=external_id,
            gold=None if gold is None else {"sentiment": gold},
        )
        for user, answer in zip(users, answers, strict=True):
            annotation_submit(
                item=item,
                annotator=user,
                result={"sentiment": answer},
                lead_time=LEAD_TIMES[user.username][n],
            )
    extra = ItemFactory(project=project, external_id="i5")
    served = assignment_next(project=project, annotator=users[2])
    assert served.item == extra
    assignment_skip(assignment=served.assignment, annotator=users[2])
    return project, lead


def test_per_annotator_numbers(project_with_answers):
    project, _ = project_with_answers
    rows = {row["username"]: row for row in project_quality(project=project)["annotators"]}
    assert rows["qa"]["consensus_agreement"] == 1.0
    assert rows["qb"]["consensus_agreement"] == 0.75
    assert rows["qc"]["consensus_agreement"] == 0.75
    assert (rows["qa"]["gold_accuracy"], rows["qb"]["gold_accuracy"]) == (0.5, 0.5)
    assert rows["qc"]["gold_accuracy"] == 1.0 and rows["qc"]["gold_answers"] == 2
    assert rows["qa"]["median_seconds"] == 35.0
    assert rows["qa"]["items_per_hour"] == pytest.approx(6 * 3600 / 210)
    assert rows["qc"]["median_seconds"] == 3.5
    assert (rows["qa"]["skips"], rows["qc"]["skips"]) == (0, 1)
    assert rows["qa"]["annotations"] == 6
    confusion = rows["qa"]["confusion"]["sentiment"]
    assert confusion["labels"] == ["pos", "neg", "neu"]
    np.testing.assert_allclose(np.sum(confusion["matrix"], axis=1), 1.0, atol=1e-5)


def test_control_metrics_match_the_references(project_with_answers):
    project, _ = project_with_answers
    control = project_quality(project=project)["controls"][0]
    codes = {"pos": 0, "neg": 1, "neu": 2}
    everything = [*ANSWERS.values(), *(answers for _, answers in GOLD.values())]
    table = np.zeros((6, 3), dtype=int)
    reliability = np.full((3, 6), np.nan)
    for i, answers in enumerate(everything):
        for who, answer in enumerate(answers):
            table[i, codes[answer]] += 1
            reliability[who, i] = codes[answer]
    assert control["items"] == 6
    assert control["percent_agreement"] == pytest.approx((1 + 1 + 4 / 3) / 6)
    assert abs(control["fleiss_kappa"] - fleiss_kappa(table)) < 1e-9
    alpha = krippendorff.alpha(reliability_data=reliability, level_of_measurement="nominal")
    assert abs(control["krippendorff_alpha"] - alpha) < 1e-9
    per_label = {row["label"]: row for row in control["labels"]}
    # "neg" one-vs-rest: items agree fully except i2 and g1 (1 or 2 of 3 said neg)
    assert per_label["neg"]["percent_agreement"] == pytest.approx((4 + 2 / 3) / 6)
    assert control["consensus_confusion"]["matrix"] == [[5, 1, 0], [0, 3, 0], [1, 0, 2]]


def test_progress_and_status_counts(project_with_answers):
    project, _ = project_with_answers
    quality = project_quality(project=project)
    assert quality["project"]["status_counts"]["resolved"] == 4  # gold items are not resolved
    last = quality["progress"][-1]  # hourly buckets: a run may straddle the hour
    assert (last["annotations_total"], last["resolved_total"]) == (18, 4)
    assert last["unit"] == "hour"


def test_agreement_endpoint_and_dashboard_page(project_with_answers, client):
    project, lead = project_with_answers
    response = api_client_for(lead).get(f"/api/projects/{project.pk}/agreement/")
    assert response.status_code == 200
    assert response.json()["controls"][0]["name"] == "sentiment"
    client.force_login(lead)
    page = client.get(f"/projects/{project.pk}/dashboard/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count("<svg") >= 3  # progress, agreement per label, confusion matrix
    assert html.count("given the true label") == 3  # one Dawid-Skene matrix per annotator
    assert "Progress over time" in html and "Krippendorff" in html
    assert "qa" in html and 'id="annotator-table"' in html


def test_other_control_kinds_in_one_report(db):
    schema = {
        "controls": [
            {"name": "topics", "kind": "multi", "labels": ["a", "b"]},
            {"name": "entities", "kind": "spans", "labels": ["PER"], "required": False},
            {"name": "caption", "kind": "text", "required": False},
        ]
    }
    project = ProjectFactory(label_schema=schema, overlap=2, review_policy="none")
    item = ItemFactory(project=project, data={"text": "Ada and Bob"}, gold={"topics": ["a"]})
    answers = [
        {"topics": ["a"], "entities": [{"start": 0, "end": 3, "label": "PER"}], "caption": "x"},
        {"topics": ["a", "b"], "entities": [{"start": 0, "end": 3, "label": "PER"}]},
    ]
    for n, answer in enumerate(answers):
        annotation_submit(item=item, annotator=UserFactory(username=f"k{n}"), result=answer)
    quality = project_quality(project=project)
    controls = {c["name"]: c for c in quality["controls"]}
    assert controls["entities"]["span_f1_exact"] == 1.0
    assert controls["topics"]["labels"][0]["percent_agreement"] == 1.0
    assert controls["topics"]["labels"][1]["percent_agreement"] == 0.0
    assert controls["caption"]["percent_agreement"] == 0.0
    gold = {row["username"]: row["gold_accuracy"] for row in quality["annotators"]}
    # Mean over the controls: topics (Jaccard 1 or 1/2), entities (gold empty, answered: 0),
    # caption (k0 wrote one, gold empty: 0; k1 left it empty: 1).
    assert gold["k0"] == pytest.approx((1 + 0 + 0) / 3)
    assert gold["k1"] == pytest.approx((0.5 + 0 + 1) / 3)


def test_numeric_looking_labels_are_read_as_labels(db):
    schema = {"controls": [{"name": "stars", "kind": "choice", "labels": ["1", "2", "3"]}]}
    project = ProjectFactory(label_schema=schema, overlap=2, review_policy="none")
    item = ItemFactory(project=project)
    for n, answer in enumerate(("2", "2")):
        annotation_submit(
            item=item, annotator=UserFactory(username=f"s{n}"), result={"stars": answer}
        )
    control = project_quality(project=project)["controls"][0]
    assert control["percent_agreement"] == 1.0
    assert control["consensus_confusion"]["matrix"][1] == [0, 2, 0]


def test_cached_report_follows_new_answers(project_with_answers):
    project, lead = project_with_answers
    first = project_quality_cached(project=project)
    assert project_quality_cached(project=project) == first
    item = ItemFactory(project=project, external_id="late")
    for user in get_user_model().objects.filter(username__in=["qa", "qb", "qc"]):
        annotation_submit(item=item, annotator=user, result={"sentiment": "neu"})
    later = project_quality_cached(project=project)
    assert later["project"]["annotations"] == first["project"]["annotations"] + 3


def test_boxes_project_report(db):
    schema = {
        "controls": [
            {"name": "objects", "kind": "boxes", "source": "image", "labels": ["car", "person"]}
        ]
    }
    project = ProjectFactory(label_schema=schema, overlap=2, review_policy="none")
    item = ItemFactory(project=project, data={"image": "a.png"}, width=300, height=300)

    def box(x, label="car"):
        return {"x": x, "y": 0, "width": 10, "height": 10, "label": label}

    answers = [
        {"objects": [box(0), box(100, "person")]},
        {"objects": [box(2.5)]},  # IoU with box(0) = 7.5 / 12.5 = 0.6
    ]
    for n, answer in enumerate(answers):
        annotation_submit(item=item, annotator=UserFactory(username=f"b{n}"), result=answer)
    control = project_quality(project=project)["controls"][0]
    assert control["f1_iou50"] == pytest.approx(2 / 3)
    assert control["mean_iou"] == pytest.approx(0.6)
    per_label = {row["label"]: row for row in control["labels"]}
    assert per_label["car"]["f1_iou50"] == 1.0 and per_label["person"]["f1_iou50"] == 0.0


def test_progress_is_daily_for_long_projects(project_with_answers):
    project, _ = project_with_answers
    start = timezone.now() - timedelta(days=10)
    for n, pk in enumerate(Annotation.objects.filter(project=project).values_list("pk", flat=True)):
        Annotation.objects.filter(pk=pk).update(created_at=start + timedelta(days=n % 5))
    progress = project_progress(project=project)
    assert {row["unit"] for row in progress} == {"day"}
    assert [row["annotations"] for row in progress[:5]] == [4, 4, 4, 3, 3]
    assert progress[-1]["annotations_total"] == 18
