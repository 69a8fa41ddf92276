"""item_resolve through annotation_submit: acceptance, review routing, methods and history."""

import pytest

from labeling.annotate.submit import annotation_submit
from labeling.consensus.resolve import item_resolve
from labeling.models import Resolution
from projects.models import Item, Project
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

SCHEMA = {
    "controls": [
        {"name": "sentiment", "kind": "choice", "labels": ["pos", "neg", "neu"]},
        {"name": "note", "kind": "text", "required": False},
    ]
}


def make_project(**fields):
    defaults = {"label_schema": SCHEMA, "overlap": 3, "review_policy": Project.ReviewPolicy.NONE}
    return ProjectFactory(**{**defaults, **fields})


def annotate(item, answers):
    for n, answer in enumerate(answers):
        annotation_submit(item=item, annotator=UserFactory(username=f"a{n}"), result=answer)
    item.refresh_from_db()
    return item


def test_unanimous_is_accepted():
    item = annotate(ItemFactory(project=make_project()), [{"sentiment": "pos"}] * 3)
    resolution = item.resolutions.get(is_current=True)
    assert item.status == Item.Status.RESOLVED
    assert (resolution.method, resolution.state) == ("unanimous", "accepted")
    assert resolution.result == {"sentiment": "pos"} and resolution.agreement == 1.0


def test_majority_is_accepted_under_policy_none():
    item = annotate(
        ItemFactory(project=make_project()),
        [{"sentiment": "pos"}, {"sentiment": "neg"}, {"sentiment": "pos"}],
    )
    resolution = item.resolutions.get(is_current=True)
    assert item.status == Item.Status.RESOLVED
    assert resolution.method == "majority" and resolution.result == {"sentiment": "pos"}
    assert resolution.agreement == pytest.approx(1 / 3)
    assert resolution.details["controls"]["sentiment"]["decided"] is True


def test_disagreement_goes_to_review_under_policy_disagreements():
    project = make_project(review_policy=Project.ReviewPolicy.DISAGREEMENTS)
    item = annotate(
        ItemFactory(project=project),
        [{"sentiment": "pos"}, {"sentiment": "neg"}, {"sentiment": "pos"}],
    )
    resolution = item.resolutions.get(is_current=True)
    assert item.status == Item.Status.IN_REVIEW
    assert resolution.state == "pending" and resolution.result == {"sentiment": "pos"}
    assert resolution.reason == "annotators disagree"


def test_agreement_below_threshold_goes_to_review():
    project = make_project(auto_accept_threshold=0.5)
    item = annotate(
        ItemFactory(project=project),
        [{"sentiment": "pos"}, {"sentiment": "neg"}, {"sentiment": "pos"}],
    )
    assert item.status == Item.Status.IN_REVIEW
    assert "below" in item.resolutions.get(is_current=True).reason


def test_policy_all_reviews_even_unanimous_items():
    item = annotate(
        ItemFactory(project=make_project(review_policy=Project.ReviewPolicy.ALL)),
        [{"sentiment": "pos"}] * 3,
    )
    assert item.status == Item.Status.IN_REVIEW


def test_tie_and_differing_free_text_go_to_review_even_under_policy_none():
    project = make_project(overlap=2)
    tie = annotate(ItemFactory(project=project), [{"sentiment": "pos"}, {"sentiment": "neg"}])
    assert tie.status == Item.Status.IN_REVIEW
    assert "no majority" in tie.resolutions.get(is_current=True).reason
    text = annotate(
        ItemFactory(project=project),
        [{"sentiment": "pos", "note": "fine"}, {"sentiment": "pos", "note": "great"}],
    )
    assert text.status == Item.Status.IN_REVIEW
    assert "free texts differ" in text.resolutions.get(is_current=True).reason


def test_edit_of_an_item_in_review_re_resolves_and_keeps_history():
    project = make_project(review_policy=Project.ReviewPolicy.DISAGREEMENTS)
    item = ItemFactory(project=project)
    annotators = [UserFactory(username=f"e{n}") for n in range(3)]
    for user, label in zip(annotators, ["pos", "neg", "pos"], strict=True):
        annotation_submit(item=item, annotator=user, result={"sentiment": label})
    item.refresh_from_db()
    assert item.status == Item.Status.IN_REVIEW
    first = item.resolutions.get(is_current=True)

    # The dissenting annotator changes their answer: now unanimous, accepted.
    annotation_submit(item=item, annotator=annotators[1], result={"sentiment": "pos"})
    item.refresh_from_db()
    assert item.status == Item.Status.RESOLVED
    rows = list(item.resolutions.order_by("id"))
    assert [r.pk for r in rows][0] == first.pk
    assert [(r.state, r.method, r.is_current) for r in rows] == [
        ("pending", "majority", False),
        ("accepted", "unanimous", True),
    ]


def test_single_annotation_overlap_one():
    item = annotate(ItemFactory(project=make_project(overlap=1)), [{"sentiment": "neu"}])
    resolution = item.resolutions.get(is_current=True)
    assert resolution.method == "single" and resolution.agreement is None
    assert item.status == Item.Status.RESOLVED


def test_dawid_skene_project_follows_the_reliable_annotators():
    """Three careless annotators answer 'pos' on every item; two reliable ones vary.

    On the last item the reliable pair says 'neg' and is outvoted 3 to 2: majority would say
    'pos', Dawid-Skene over the whole project says 'neg'.
    """
    project = make_project(
        overlap=5, aggregation=Project.Aggregation.DAWID_SKENE, label_schema=SCHEMA
    )
    careless = [UserFactory(username=f"c{n}") for n in range(3)]
    reliable = [UserFactory(username=f"r{n}") for n in range(2)]
    truth = ["pos", "neg"] * 10
    items = []
    for n, label in enumerate(truth):
        item = ItemFactory(project=project, external_id=f"ds{n}")
        for user in careless:
            annotation_submit(item=item, annotator=user, result={"sentiment": "pos"})
        for user in reliable:
            annotation_submit(item=item, annotator=user, result={"sentiment": label})
        items.append(item)
    last = items[-1]
    item_resolve(item=last)  # re-resolve with the model fitted on the whole project
    resolution = last.resolutions.get(is_current=True)
    assert resolution.method == "dawid_skene"
    assert resolution.result == {"sentiment": "neg"}
    assert last.resolutions.count() == 2  # the earlier resolution stays as history
    majority_project = make_project(overlap=5)
    twin = ItemFactory(project=majority_project)
    annotate(twin, [{"sentiment": "pos"}] * 3 + [{"sentiment": "neg"}] * 2)
    assert twin.resolutions.get(is_current=True).result == {"sentiment": "pos"}


def test_boxes_project_resolves_by_matching_shapes():
    schema = {
        "controls": [{"name": "objects", "kind": "boxes", "source": "image", "labels": ["car"]}]
    }
    project = make_project(label_schema=schema)
    item = ItemFactory(project=project, data={"image": "x.png"}, width=200, height=200)
    boxes = [(10, 10, 50, 50), (12, 10, 50, 50), (11, 13, 50, 47)]
    annotate(
        item,
        [
            {"objects": [{"x": x, "y": y, "width": w, "height": h, "label": "car"}]}
            for x, y, w, h in boxes
        ],
    )
    resolution = item.resolutions.get(is_current=True)
    assert item.status == Item.Status.RESOLVED
    assert resolution.result == {
        "objects": [{"x": 11.0, "y": 11.0, "width": 50.0, "height": 49.0, "label": "car"}]
    }
    assert resolution.state == Resolution.State.ACCEPTED


def test_refresh_re_resolves_early_items_with_the_whole_project_model(lead_api, lead):
    """Early items were decided by a model that had seen almost nothing (majority-like); once
    the project shows that three annotators answer 'pos' regardless, a refresh follows the two
    reliable annotators on every item, keeping the earlier resolutions as history."""
    project = make_project(overlap=5, aggregation=Project.Aggregation.DAWID_SKENE)
    MembershipFactory(project=project, user=lead, role="lead")
    careless = [UserFactory(username=f"c{n}") for n in range(3)]
    reliable = [UserFactory(username=f"r{n}") for n in range(2)]
    truth = ["neg", "pos"] * 10
    items = []
    for n, label in enumerate(truth):
        item = ItemFactory(project=project, external_id=f"f{n}")
        for user in careless:
            annotation_submit(item=item, annotator=user, result={"sentiment": "pos"})
        for user in reliable:
            annotation_submit(item=item, annotator=user, result={"sentiment": label})
        items.append(item)
    first = items[0]
    assert first.resolutions.get(is_current=True).result == {"sentiment": "pos"}  # early call

    response = lead_api.post(f"/api/projects/{project.pk}/resolutions/refresh/")
    assert response.status_code == 200 and response.json()["re_resolved"] >= 1
    for item, label in zip(items, truth, strict=True):
        assert item.resolutions.get(is_current=True).result == {"sentiment": label}
    assert first.resolutions.count() == 2
    # Nothing left to change: a second refresh records nothing.
    assert lead_api.post(f"/api/projects/{project.pk}/resolutions/refresh/").json() == {
        "re_resolved": 0
    }


def test_refresh_is_for_leads_only(annotator_api, project):
    response = annotator_api.post(f"/api/projects/{project.pk}/resolutions/refresh/")
    assert response.status_code == 403
