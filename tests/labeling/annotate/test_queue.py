"""The queue's rules, service by service: holding, expiry (with a controllable clock), skip,
each ordering, items started by others first, and the counters the queue keeps."""

from datetime import timedelta

import pytest
from django.utils import timezone

from labeling.annotate.queue import QueueError, assignment_next, assignment_skip, assignments_expire
from labeling.annotate.submit import AnnotationRefused, annotation_submit
from labeling.models import AnnotatorStats, Assignment
from projects.items.order import SHUFFLE_MODULUS, SHUFFLE_MULTIPLIER, annotator_shuffle_offset
from projects.items.predictions import predictions_create
from projects.models import Item, Membership, Project
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db

ANSWER = {"sentiment": "positive"}


def annotators(project, count: int) -> list:
    users = [UserFactory(username=f"{project.pk}-a{i}") for i in range(count)]
    for user in users:
        MembershipFactory(project=project, user=user, role=Membership.Role.ANNOTATOR)
    return users


def served_in_order(project, annotator, *, now=None) -> list[int]:
    """Every item the annotator is served, skipping each so the next one comes."""
    order = []
    while (found := assignment_next(project=project, annotator=annotator, now=now)) is not None:
        order.append(found.item.pk)
        assignment_skip(assignment=found.assignment, annotator=annotator)
    return order


def test_asking_again_while_holding_returns_the_same_item():
    project = ProjectFactory()
    (ann,) = annotators(project, 1)
    ItemFactory.create_batch(3, project=project)
    first = assignment_next(project=project, annotator=ann)
    again = assignment_next(project=project, annotator=ann)
    assert again.assignment.pk == first.assignment.pk and again.item.pk == first.item.pk
    assert Assignment.objects.count() == 1
    assert Item.objects.get(pk=first.item.pk).assigned_count == 1


def test_an_assignment_holds_its_slot_for_the_project_timeout():
    project = ProjectFactory(assignment_timeout=600)
    slow, fast = annotators(project, 2)
    item = ItemFactory(project=project)
    start = timezone.now()
    held = assignment_next(project=project, annotator=slow, now=start)
    assert held.assignment.expires_at == start + timedelta(seconds=600)
    # Within the timeout the only slot is held: nothing for the other annotator.
    assert (
        assignment_next(project=project, annotator=fast, now=start + timedelta(seconds=599)) is None
    )
    assert Item.objects.get(pk=item.pk).assigned_count == 1


def test_after_the_timeout_another_annotator_gets_the_item_and_the_late_answer_is_refused():
    project = ProjectFactory(assignment_timeout=600)
    slow, fast = annotators(project, 2)
    item = ItemFactory(project=project)
    start = timezone.now()
    assignment_next(project=project, annotator=slow, now=start)
    assert (
        assignment_next(project=project, annotator=fast, now=start + timedelta(seconds=599)) is None
    )

    later = start + timedelta(seconds=601)
    taken = assignment_next(project=project, annotator=fast, now=later)
    assert taken.item.pk == item.pk
    assert Assignment.objects.get(annotator=slow).state == Assignment.State.EXPIRED
    annotation_submit(item=item, annotator=fast, result=ANSWER, now=later)
    with pytest.raises(AnnotationRefused):
        annotation_submit(item=item, annotator=slow, result=ANSWER, now=later)
    item.refresh_from_db()
    assert (item.annotation_count, item.assigned_count) == (1, 0)


def test_expiry_releases_slots_and_the_annotator_may_be_served_the_item_again():
    project = ProjectFactory(assignment_timeout=60)
    (ann,) = annotators(project, 1)
    item = ItemFactory(project=project)
    start = timezone.now()
    assignment_next(project=project, annotator=ann, now=start)
    assert assignments_expire(project=project, now=start + timedelta(seconds=59)) == 0
    assert assignments_expire(project=project, now=start + timedelta(seconds=61)) == 1
    assert Item.objects.get(pk=item.pk).assigned_count == 0
    again = assignment_next(project=project, annotator=ann, now=start + timedelta(seconds=62))
    assert again.item.pk == item.pk
    assert again.assignment.state == Assignment.State.ACTIVE
    assert Assignment.objects.count() == 1  # the same row, made active again


def test_skip_gives_the_slot_to_others_and_counts_per_item_and_per_annotator():
    project = ProjectFactory()
    first, second = annotators(project, 2)
    item = ItemFactory(project=project)
    found = assignment_next(project=project, annotator=first)
    assignment_skip(assignment=found.assignment, annotator=first, reason="unreadable")
    assignment = Assignment.objects.get(pk=found.assignment.pk)
    assert (assignment.state, assignment.skip_reason) == (Assignment.State.SKIPPED, "unreadable")
    item.refresh_from_db()
    assert (item.skip_count, item.assigned_count) == (1, 0)
    assert AnnotatorStats.objects.get(project=project, annotator=first).skipped == 1
    assert assignment_next(project=project, annotator=first) is None  # never again for them
    assert assignment_next(project=project, annotator=second).item.pk == item.pk
    with pytest.raises(QueueError):
        assignment_skip(assignment=assignment, annotator=first)  # no longer active


def test_skipping_someone_elses_assignment_is_refused():
    project = ProjectFactory()
    owner, other = annotators(project, 2)
    ItemFactory(project=project)
    found = assignment_next(project=project, annotator=owner)
    with pytest.raises(QueueError):
        assignment_skip(assignment=found.assignment, annotator=other)


def test_sequential_order_is_by_id():
    project = ProjectFactory(ordering=Project.Ordering.SEQUENTIAL)
    (ann,) = annotators(project, 1)
    items = ItemFactory.create_batch(5, project=project)
    assert served_in_order(project, ann) == [i.pk for i in items]


def test_priority_order_serves_the_highest_priority_first_then_by_id():
    project = ProjectFactory(ordering=Project.Ordering.PRIORITY)
    (ann,) = annotators(project, 1)
    low = ItemFactory(project=project, priority=1)
    high = ItemFactory(project=project, priority=9)
    mid_a = ItemFactory(project=project, priority=5)
    mid_b = ItemFactory(project=project, priority=5)
    assert served_in_order(project, ann) == [high.pk, mid_a.pk, mid_b.pk, low.pk]


def test_uncertainty_order_serves_the_lowest_prediction_score_first_and_unscored_last():
    project = ProjectFactory(ordering=Project.Ordering.UNCERTAINTY)
    (ann,) = annotators(project, 1)
    sure, unsure, unscored, middling = ItemFactory.create_batch(4, project=project)
    predictions_create(
        project=project,
        raw_rows=[
            {"item": sure.pk, "result": ANSWER, "score": 0.99, "model_version": "m1"},
            {"item": unsure.pk, "result": ANSWER, "score": 0.9, "model_version": "m1"},
            {"item": middling.pk, "result": ANSWER, "score": 0.6, "model_version": "m1"},
            # A newer prediction replaces the item's score.
            {"external_id": unsure.external_id, "result": ANSWER, "score": 0.2},
        ],
    )
    assert served_in_order(project, ann) == [unsure.pk, middling.pk, sure.pk, unscored.pk]


def test_random_order_is_stable_per_annotator_and_differs_between_annotators():
    project = ProjectFactory(ordering=Project.Ordering.RANDOM)
    first, second = annotators(project, 2)
    items = ItemFactory.create_batch(40, project=project)

    def expected(annotator) -> list[int]:
        offset = annotator_shuffle_offset(annotator.pk)
        position = {i.pk: (i.pk * SHUFFLE_MULTIPLIER) % SHUFFLE_MODULUS for i in items}
        return sorted(position, key=lambda pk: ((position[pk] - offset) % SHUFFLE_MODULUS, pk))

    order_first = served_in_order(project, first)
    assert order_first == expected(first)
    assert order_first != sorted(order_first)
    order_second = served_in_order(project, second)
    assert order_second == expected(second)
    assert sorted(order_second) == sorted(order_first)


def test_with_overlap_items_started_by_others_come_first():
    project = ProjectFactory(ordering=Project.Ordering.PRIORITY, overlap=2)
    first, second = annotators(project, 2)
    started = ItemFactory(project=project, priority=5)
    newer = ItemFactory(project=project, priority=1)
    assert assignment_next(project=project, annotator=first).item.pk == started.pk
    # A more urgent item arrives, but the started one is finished first.
    Item.objects.filter(pk=newer.pk).update(priority=50)
    assert assignment_next(project=project, annotator=second).item.pk == started.pk


def test_started_items_fullest_first():
    project = ProjectFactory(overlap=3)
    a, b, c = annotators(project, 3)
    one, two = ItemFactory.create_batch(2, project=project)
    annotation_submit(item=two, annotator=a, result=ANSWER)
    annotation_submit(item=two, annotator=b, result=ANSWER)
    annotation_submit(item=one, annotator=a, result=ANSWER)
    assert assignment_next(project=project, annotator=c).item.pk == two.pk


def test_an_annotator_is_never_served_an_item_they_answered():
    project = ProjectFactory(overlap=2)
    (ann,) = annotators(project, 1)
    item = ItemFactory(project=project)
    annotation_submit(item=item, annotator=ann, result=ANSWER)
    assert assignment_next(project=project, annotator=ann) is None


def test_a_sent_back_item_with_an_extra_slot_is_served_to_a_new_annotator():
    project = ProjectFactory(overlap=1)
    first, second = annotators(project, 2)
    item = ItemFactory(project=project)
    annotation_submit(item=item, annotator=first, result=ANSWER)
    Item.objects.filter(pk=item.pk).update(status=Item.Status.OPEN, extra_slots=1)
    assert assignment_next(project=project, annotator=first) is None
    assert assignment_next(project=project, annotator=second).item.pk == item.pk


def test_counters_follow_assign_submit_and_stats():
    project = ProjectFactory(overlap=2)
    a, b = annotators(project, 2)
    item = ItemFactory(project=project)
    found = assignment_next(project=project, annotator=a)
    assignment_next(project=project, annotator=b)
    item.refresh_from_db()
    assert (item.assigned_count, item.annotation_count) == (2, 0)
    annotation_submit(item=found.item, annotator=a, result=ANSWER)
    item.refresh_from_db()
    assert (item.assigned_count, item.annotation_count) == (1, 1)
    assert Assignment.objects.get(annotator=a).state == Assignment.State.SUBMITTED
    stats = AnnotatorStats.objects.get(project=project, annotator=a)
    assert (stats.served, stats.annotated, stats.skipped) == (1, 1, 0)
    assert stats.last_active_at is not None


def test_an_answer_after_the_timeout_takes_a_free_slot_if_one_is_left():
    project = ProjectFactory(assignment_timeout=60)
    (ann,) = annotators(project, 1)
    item = ItemFactory(project=project)
    start = timezone.now()
    assignment_next(project=project, annotator=ann, now=start)
    # Nobody asked since, so the expired assignment was not swept: the answer releases it.
    annotation, created = annotation_submit(
        item=item, annotator=ann, result=ANSWER, now=start + timedelta(seconds=120)
    )
    assert created
    assert Assignment.objects.get().state == Assignment.State.EXPIRED
    item.refresh_from_db()
    assert (item.annotation_count, item.assigned_count) == (1, 0)
