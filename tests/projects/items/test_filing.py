"""Items are filed under their project's queue ordering, and refiled when it changes: the
queue then serves them in the new ordering, and meanwhile never loses one."""

import threading

import pytest
from django.db import connection, transaction

from labeling.annotate.queue import assignment_next, assignment_skip
from projects.items import filing as item_filing
from projects.items.bulk import items_insert_new
from projects.items.create import ItemRow
from projects.items.filing import items_refile
from projects.models import Item, Membership, Project
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def rows(*priorities: int) -> list[ItemRow]:
    return [
        ItemRow(external_id=f"e{n}", data={"text": "t"}, priority=p)
        for n, p in enumerate(priorities)
    ]


def filed_under(project) -> set[str]:
    return set(Item.objects.filter(project=project).values_list("queue_ordering", flat=True))


def served_in_order(project) -> list[int]:
    annotator = UserFactory()
    MembershipFactory(project=project, user=annotator, role=Membership.Role.ANNOTATOR)
    served = []
    while (found := assignment_next(project=project, annotator=annotator)) is not None:
        served.append(found.item.pk)
        assignment_skip(assignment=found.assignment, annotator=annotator)
    return served


@pytest.mark.parametrize("want_ids", [False, True])
def test_imported_items_are_filed_under_the_projects_ordering(want_ids):
    project = ProjectFactory(ordering=Project.Ordering.PRIORITY)
    # The direct copy's path (want_ids=False) on PostgreSQL, the staging path otherwise.
    with transaction.atomic():
        items_insert_new(project_id=project.pk, rows=rows(1, 2), want_ids=want_ids)
    assert filed_under(project) == {"priority"}
    assert filed_under(ProjectFactory()) == set()
    assert ItemFactory(project=ProjectFactory(ordering="random")).queue_ordering == "random"


def test_inserting_items_into_a_deleted_project_is_refused():
    project = ProjectFactory()
    project_id = project.pk
    project.delete()
    with pytest.raises(Project.DoesNotExist), transaction.atomic():
        items_insert_new(project_id=project_id, rows=rows(1))
    assert not Item.objects.filter(project_id=project_id).exists()


def test_deleting_a_project_deletes_its_items():
    project = ProjectFactory()
    ItemFactory.create_batch(3, project=project)
    kept = ItemFactory()
    project.delete()
    assert list(Item.objects.values_list("pk", flat=True)) == [kept.pk]


def test_refiling_moves_every_item_range_by_range(monkeypatch):
    monkeypatch.setattr(item_filing, "REFILE_BATCH", 2)
    project = ProjectFactory()
    ItemFactory.create_batch(5, project=project)
    other = ItemFactory()
    Project.objects.filter(pk=project.pk).update(ordering=Project.Ordering.UNCERTAINTY)
    assert items_refile(project_id=project.pk) == 5
    assert filed_under(project) == {"uncertainty"}
    assert Item.objects.get(pk=other.pk).queue_ordering == "sequential"
    assert items_refile(project_id=project.pk) == 0  # nothing left to move


def test_a_changed_ordering_is_served_once_the_items_are_refiled(
    lead_api, project, django_capture_on_commit_callbacks
):
    low, high, mid = (ItemFactory(project=project, priority=p) for p in (1, 9, 5))
    with django_capture_on_commit_callbacks(execute=True):
        response = lead_api.patch(
            f"/api/projects/{project.pk}/", {"ordering": "priority"}, format="json"
        )
    assert response.status_code == 200
    assert filed_under(project) == {"priority"}
    project.refresh_from_db()
    assert served_in_order(project) == [high.pk, mid.pk, low.pk]


def test_items_not_yet_refiled_are_served_after_the_refiled_ones():
    project = ProjectFactory(ordering=Project.Ordering.PRIORITY)
    low, high = ItemFactory(project=project, priority=1), ItemFactory(project=project, priority=9)
    old_a, old_b = ItemFactory.create_batch(2, project=project, priority=5)
    # Still filed under the earlier ordering, as while a refile is under way.
    Item.objects.filter(pk__in=[old_b.pk, old_a.pk]).update(queue_ordering="sequential")
    assert served_in_order(project) == [high.pk, low.pk, old_a.pk, old_b.pk]


@pytest.fixture
def batch_in_flight():
    """A project, and a thread inserting a batch of its items whose transaction stays open
    until the test calls `finish` (which waits for the commit), or ends."""
    project = ProjectFactory()
    held, release = threading.Event(), threading.Event()

    def body():
        try:
            with transaction.atomic():
                items_insert_new(project_id=project.pk, rows=rows(1, 2, 3))
                held.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=body)
    thread.start()
    assert held.wait(10)

    def finish():
        release.set()
        thread.join(10)

    yield project, finish
    finish()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_project_deleted_while_a_batch_of_its_items_goes_in_keeps_no_orphans(batch_in_flight):
    project, finish = batch_in_flight

    def delete():
        try:
            Project.objects.get(pk=project.pk).delete()
        finally:
            connection.close()

    deleter = threading.Thread(target=delete)
    deleter.start()
    deleter.join(0.5)
    assert deleter.is_alive()  # waits for the batch: it locked the project row
    finish()
    deleter.join(10)
    assert not Project.objects.filter(pk=project.pk).exists()
    assert not Item.objects.filter(project_id=project.pk).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_batches_of_one_project_go_in_side_by_side(batch_in_flight):
    project, finish = batch_in_flight
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = '2s'")
        other = [ItemRow(external_id="other", data={"text": "t"})]
        assert items_insert_new(project_id=project.pk, rows=other) == (1, {})
    finish()
    assert Item.objects.filter(project=project).count() == 4
