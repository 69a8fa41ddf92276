"""The queue under real concurrency on PostgreSQL: many annotators, each on its own connection."""

import threading
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Count

from labeling.annotate.queue import assignment_next
from labeling.annotate.submit import AnnotationRefused, annotation_submit
from labeling.models import Annotation, Assignment
from projects.models import Item, Membership
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def run_threads(count: int, work) -> list:
    """Run work(index) in `count` threads released at the same moment; re-raise any failure."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def body(index: int):
        try:
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # surfaced below, with the thread's index
            errors.append((index, exc))
        finally:
            connection.close()  # each thread had its own connection

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


def project_with_annotators(count: int, *, overlap: int, items: int):
    project = ProjectFactory(overlap=overlap)
    users = [UserFactory(username=f"racer{i}") for i in range(count)]
    for user in users:
        MembershipFactory(project=project, user=user, role=Membership.Role.ANNOTATOR)
    for _ in range(items):
        ItemFactory(project=project)
    return project, users


def test_fifty_annotators_asking_at_once_never_get_more_than_the_free_slots():
    project, users = project_with_annotators(50, overlap=3, items=4)

    results = run_threads(50, lambda i: assignment_next(project=project, annotator=users[i]))

    served = [r for r in results if r is not None]
    assert len(served) == 12  # 4 items x overlap 3, and nobody else
    per_item = Counter(r.item.pk for r in served)
    assert set(per_item.values()) == {3}
    assert Assignment.objects.filter(state=Assignment.State.ACTIVE).count() == 12
    assert set(Item.objects.values_list("assigned_count", flat=True)) == {3}
    holders = Counter(r.assignment.annotator_id for r in served)
    assert max(holders.values()) == 1


def test_many_annotators_labeling_a_small_project_give_each_item_exactly_overlap_answers():
    project, users = project_with_annotators(12, overlap=3, items=20)

    def label_until_done(index: int) -> int:
        annotator = users[index]
        done = 0
        while (found := assignment_next(project=project, annotator=annotator)) is not None:
            try:
                annotation_submit(
                    item=found.item, annotator=annotator, result={"sentiment": "positive"}
                )
                done += 1
            except AnnotationRefused:
                pytest.fail("a held slot was refused")
        return done

    done = run_threads(12, label_until_done)

    assert sum(done) == 60
    per_item = dict(
        Annotation.objects.values("item").annotate(n=Count("id")).values_list("item", "n")
    )
    assert len(per_item) == 20 and set(per_item.values()) == {3}
    repeats = Annotation.objects.values("item", "annotator").annotate(n=Count("id")).filter(n__gt=1)
    assert not repeats.exists()
    for item in Item.objects.all():
        assert item.annotation_count == 3
        assert item.assigned_count == 0
        assert item.status != Item.Status.OPEN
    assert not Assignment.objects.filter(state=Assignment.State.ACTIVE).exists()


def test_direct_submits_racing_for_the_last_slot_store_exactly_one():
    project, users = project_with_annotators(20, overlap=1, items=1)
    item = Item.objects.get()

    def submit(index: int) -> bool:
        try:
            annotation_submit(item=item, annotator=users[index], result={"sentiment": "neutral"})
        except AnnotationRefused:
            return False
        return True

    stored = run_threads(20, submit)

    assert stored.count(True) == 1
    assert Annotation.objects.count() == 1
    item.refresh_from_db()
    assert item.annotation_count == 1
