"""Full-text search filled in the background: an import's items become searchable after the job,
API-made items after their call; the indexer is idempotent and safe to run twice at once;
deleted items leave the search table; the data manager says how many items are still pending."""

import json
import threading
import time

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor

from labeling.datamanager.query import items_table_page
from projects.items.search_index import (
    items_not_searchable_count,
    items_search_forget,
    items_search_index,
    projects_with_unsearchable_items,
)
from projects.models import Item, ItemSearch, Project
from projects.tasks import items_search_sweep_task
from tests.factories import ItemFactory, ProjectFactory
from tests.projects.imports.import_support import import_file, import_mode

__all__ = ["import_mode"]

postgres_only = pytest.mark.postgres  # SQLite searches by substring: nothing is indexed
WAIT_SECONDS = 60


def found(project, words: str) -> list[str]:
    page = items_table_page(project=project, params={"search": words}, size=100)
    return sorted(item.external_id for item in page.items)


def searchable_wait(project) -> None:
    """The worker indexes after the job is done: wait for it (at once when tasks run eagerly)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while items_not_searchable_count(project.pk):
        assert time.monotonic() < deadline, "the import's items did not become searchable"
        time.sleep(0.1)


def test_an_imports_items_become_searchable_once_the_job_is_done(import_mode, lead_api, project):
    rows = [
        {"external_id": "a", "text": "The harbour was quiet at dawn"},
        {"external_id": "b", "text": "Stocks fell at the open"},
        {"external_id": "c", "text": "A quiet crowd at the harbour"},
    ]
    content = "".join(json.dumps(row) + "\n" for row in rows).encode()
    job = import_file(lead_api, project, "rows.jsonl", content)
    assert job["status"] == "done" and job["created_count"] == 3
    searchable_wait(project)
    assert found(project, "harbour quiet") == ["a", "c"]
    answer = lead_api.get(f"/api/projects/{project.pk}/items/", {"search": "stocks"}).json()
    assert [row["external_id"] for row in answer["results"]] == ["b"]
    assert answer["not_searchable"] == 0
    if connection.vendor == "postgresql":
        assert ItemSearch.objects.filter(project=project).count() == 3


@pytest.mark.django_db(transaction=True)
def test_items_made_over_the_api_are_searchable_after_the_call(lead_api, project):
    response = lead_api.post(
        f"/api/projects/{project.pk}/items/",
        [{"external_id": "n1", "data": {"text": "A lighthouse in the fog"}}],
        format="json",
    )
    assert response.status_code == 201, response.content
    assert found(project, "lighthouse") == ["n1"]
    assert items_not_searchable_count(project.pk) == 0


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_an_api_call_indexes_what_it_made_and_leaves_older_items_to_the_sweep(lead_api, project):
    older = ItemFactory(project=project, searchable=False, data={"text": "an old harbour"})
    response = lead_api.post(
        f"/api/projects/{project.pk}/items/",
        [{"external_id": "n2", "data": {"text": "a new harbour"}}],
        format="json",
    )
    assert response.status_code == 201, response.content
    # the call's indexer starts at the ids it can have made: it does not walk the project
    assert found(project, "harbour") == ["n2"]
    assert items_not_searchable_count(project.pk) == 1
    items_search_sweep_task()
    assert sorted(found(project, "harbour")) == sorted([older.external_id, "n2"])


@postgres_only
@pytest.mark.django_db
def test_pending_items_are_counted_on_the_page_and_in_the_api(client, lead, lead_api, project):
    ItemFactory(project=project, external_id="indexed", data={"text": "rain at noon"})
    for n in range(3):
        ItemFactory(project=project, searchable=False, data={"text": f"rain again {n}"})
    assert items_not_searchable_count(project.pk) == 3
    assert found(project, "rain") == ["indexed"]  # the pending ones are not found yet
    answer = lead_api.get(f"/api/projects/{project.pk}/items/", {"search": "rain"}).json()
    assert answer["not_searchable"] == 3
    client.force_login(lead)
    page = client.get(f"/projects/{project.pk}/items/", {"search": "rain"}).content.decode()
    assert "3 items are not searchable yet (indexing)" in page
    # Without a search nothing is counted or said.
    assert "not searchable" not in client.get(f"/projects/{project.pk}/items/").content.decode()
    assert lead_api.get(f"/api/projects/{project.pk}/items/").json()["not_searchable"] == 0

    assert items_search_index(project.pk) == 3
    assert items_not_searchable_count(project.pk) == 0
    assert len(found(project, "rain")) == 4
    page = client.get(f"/projects/{project.pk}/items/", {"search": "rain"}).content.decode()
    assert "not searchable" not in page


@postgres_only
@pytest.mark.django_db
def test_indexing_again_adds_nothing_and_finds_an_item_missed_below_indexed_ones(project):
    items = [ItemFactory(project=project, searchable=False) for _ in range(7)]
    assert items_search_index(project.pk, window=3) == 7  # windows of 3 ids
    assert items_search_index(project.pk, window=3) == 0
    # An item whose row is missing below the highest indexed id (committed late by a
    # concurrent import, or its data changed): no high-water mark hides it.
    items_search_forget([items[1].pk])
    assert items_not_searchable_count(project.pk) == 1
    assert items_search_index(project.pk) == 1
    assert ItemSearch.objects.filter(project=project).count() == 7


@postgres_only
@pytest.mark.django_db
def test_the_indexer_skips_other_projects_and_what_it_writes_matches_the_data(project):
    other = ProjectFactory()
    mine = ItemFactory(project=project, searchable=False, data={"text": "Blue Whale", "n": 3})
    theirs = ItemFactory(project=other, searchable=False, data={"text": "blue sky"})
    items_search_index(project.pk)
    assert list(ItemSearch.objects.values_list("item_id", flat=True)) == [mine.pk]
    with connection.cursor() as cursor:
        cursor.execute("SELECT document::text FROM projects_itemsearch")
        assert cursor.fetchone()[0] == "'blue':1 'whale':2"  # strings only, as before
    assert projects_with_unsearchable_items() == [other.pk]
    assert items_not_searchable_count(other.pk) == 1
    assert Item.objects.filter(pk=theirs.pk).exists()


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_two_indexers_at_once_add_each_item_once(project):
    Item.objects.bulk_create(
        Item(project=project, external_id=f"x{n}", data={"text": f"word{n} common"})
        for n in range(3000)
    )
    added, errors = [], []
    start = threading.Barrier(2)

    def index():
        try:
            start.wait()
            added.append(items_search_index(project.pk, window=250))
        except Exception as exc:  # reported below: a thread's error must fail the test
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=index) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sum(added) == 3000
    assert ItemSearch.objects.filter(project=project).count() == 3000
    assert len(found(project, "common")) == 100  # one page
    assert found(project, "word2999") == ["x2999"]


@postgres_only
@pytest.mark.django_db
def test_deleted_items_leave_the_search_table(project):
    items = [ItemFactory(project=project) for _ in range(3)]
    other = ItemFactory()
    assert ItemSearch.objects.count() == 4
    items[0].delete()
    assert set(ItemSearch.objects.values_list("item_id", flat=True)) == {
        items[1].pk,
        items[2].pk,
        other.pk,
    }
    project.delete()
    assert list(ItemSearch.objects.values_list("item_id", flat=True)) == [other.pk]


@postgres_only
@pytest.mark.django_db
def test_the_bulk_delete_of_the_data_manager_removes_search_rows(project, lead):
    from labeling.datamanager.bulk import item_bulk_job_create, item_bulk_job_run

    for n in range(4):
        ItemFactory(project=project, data={"text": f"gone {n}"})
    keep = ItemFactory(project=project, data={"text": "stays"})
    job = item_bulk_job_create(
        project=project, user=lead, action="delete", selection={"query": "search=gone"}, params={}
    )
    item_bulk_job_run(job_id=job.pk)
    assert list(ItemSearch.objects.values_list("item_id", flat=True)) == [keep.pk]
    assert items_not_searchable_count(project.pk) == 0


@postgres_only
@pytest.mark.django_db
def test_the_sweep_indexes_the_projects_a_lost_message_left_out(project):
    other = ProjectFactory()
    ItemFactory(project=other, data={"text": "indexed"})
    ItemFactory(project=project, searchable=False, data={"text": "missed one"})
    ItemFactory(project=other, searchable=False, data={"text": "missed two"})
    assert projects_with_unsearchable_items() == [project.pk, other.pk]
    items_search_sweep_task()  # tasks run in-process here
    assert projects_with_unsearchable_items() == []
    assert found(other, "missed") == [Item.objects.get(data__text="missed two").external_id]


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_search_table_for_existing_items_and_drops_the_old_index():
    call_command("migrate", "projects", "0011", verbosity=0)
    try:
        # The project as that schema holds it (later migrations add columns to it).
        old_project = (
            MigrationExecutor(connection)
            .loader.project_state(("projects", "0011_api_tokens"))
            .apps.get_model("projects", "Project")
        )
        project = Project(pk=old_project.objects.create(name="before search").pk)
        for n in range(5):
            ItemFactory(project=project, searchable=False, data={"text": f"old item {n}"})
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_indexes WHERE indexname = 'item_data_search'")
            assert cursor.fetchone()[0] == 1
        call_command("migrate", "projects", "0012", verbosity=0)
    finally:
        call_command("migrate", "projects", verbosity=0)
    project = Project.objects.get(pk=project.pk)
    assert ItemSearch.objects.filter(project=project).count() == 5
    assert items_not_searchable_count(project.pk) == 0
    assert len(found(project, "old item")) == 5
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname IN "
            "('item_data_search', 'item_search_document')"
        )
        assert [row[0] for row in cursor.fetchall()] == ["item_search_document"]
