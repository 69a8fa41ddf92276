"""Inserting batches of new items: exact counts, the first of duplicates wins, model defaults.

On PostgreSQL a few rows go in by one statement, and a larger batch of new external ids is
copied straight into the item table: every test runs both ways (`path`), and checks that the copy
falls back to the staging path whenever an id turns out to be taken."""

import pytest
from django.db import transaction

from projects.items import bulk as items_bulk
from projects.items.bulk import items_insert_new
from projects.items.create import ItemRow
from projects.models import Item

pytestmark = pytest.mark.django_db


def rows(*external_ids: str, text: str = "row") -> list[ItemRow]:
    return [ItemRow(external_id=e, data={"text": f"{text} {e}"}) for e in external_ids]


def insert(project, batch, *, want_ids=False):
    with transaction.atomic():
        return items_insert_new(project_id=project.pk, rows=batch, want_ids=want_ids)


@pytest.fixture(params=["one statement", "copy"], autouse=True)
def path(request, monkeypatch):
    """Which way PostgreSQL takes the tests' small batches (FEW_ROWS 0: the copy's)."""
    if request.param == "copy":
        monkeypatch.setattr(items_bulk, "FEW_ROWS", 0)
    return request.param


@pytest.fixture
def staged_calls(monkeypatch):
    """How many batches took PostgreSQL's staging path (the direct copy's fallback)."""
    calls = []
    staged = items_bulk._insert_postgresql_staged

    def counting(*args, **kwargs):
        calls.append(args)
        return staged(*args, **kwargs)

    monkeypatch.setattr(items_bulk, "_insert_postgresql_staged", counting)
    return calls


def test_new_ids_are_all_created_with_the_model_defaults(project, on_postgres, staged_calls):
    text = 'tab\there, newline\nthere, backslash \\ and "quotes", ünïcode'
    batch = [ItemRow(external_id="a\tb\\c", data={"text": text}, priority=3, width=4, height=5)]
    batch += rows("e1", "e2")
    assert insert(project, batch) == (3, {})
    if on_postgres:
        assert staged_calls == []  # copied straight into the table
    item = Item.objects.get(project=project, external_id="a\tb\\c")
    assert (item.data, item.priority, item.width, item.height) == ({"text": text}, 3, 4, 5)
    assert item.gold is None and item.prediction_score is None
    assert (item.status, item.annotation_count, item.assigned_count) == (Item.Status.OPEN, 0, 0)
    assert item.created_at is not None
    ids = list(Item.objects.filter(project=project).order_by("id").values_list("external_id"))
    assert ids == [("a\tb\\c",), ("e1",), ("e2",)]  # in the batch's order


def test_duplicates_inside_one_batch_keep_the_first(project, on_postgres, staged_calls, path):
    batch = rows("e1", "e2", text="first") + rows("e1", text="second")
    assert insert(project, batch) == (2, {})
    if on_postgres and path == "copy":
        assert len(staged_calls) == 1  # known duplicates go straight to the staging path
    assert Item.objects.get(project=project, external_id="e1").data == {"text": "first e1"}


def test_an_id_the_project_has_falls_back_without_a_partial_copy(
    project, on_postgres, staged_calls, path
):
    insert(project, rows("e2"))
    staged_calls.clear()
    created, _ = insert(project, rows("e1", "e2", "e3", text="again"))
    assert created == 2
    if on_postgres and path == "copy":
        assert len(staged_calls) == 1
    assert Item.objects.filter(project=project).count() == 3
    assert Item.objects.get(project=project, external_id="e2").data == {"text": "row e2"}


def test_the_same_batch_twice_creates_nothing_the_second_time(project):
    batch = rows(*(f"e{n}" for n in range(50)))
    assert insert(project, batch) == (50, {})
    assert insert(project, batch) == (0, {})
    assert Item.objects.filter(project=project).count() == 50


def test_a_fallback_leaves_the_transaction_usable(project, on_postgres):
    insert(project, rows("e1"))
    with transaction.atomic():
        assert items_insert_new(project_id=project.pk, rows=rows("e1", "e2")) == (1, {})
        # The failed copy's savepoint is gone: the batch's transaction goes on as usual.
        assert Item.objects.filter(project=project).count() == 2
        assert items_insert_new(project_id=project.pk, rows=rows("e3")) == (1, {})
    assert Item.objects.filter(project=project).count() == 3


def test_wanting_ids_returns_those_of_the_created(project):
    insert(project, rows("e1"))
    created, ids = insert(project, rows("e1", "e2", "e3"), want_ids=True)
    assert created == 2
    assert ids == dict(
        Item.objects.filter(external_id__in=["e2", "e3"]).values_list("external_id", "id")
    )


def test_a_batch_over_the_few_rows_takes_the_copy(project, on_postgres, staged_calls):
    batch = rows(*(f"e{n}" for n in range(items_bulk.FEW_ROWS + 1)))
    assert insert(project, batch) == (len(batch), {})
    again = batch + rows("new")
    assert insert(project, again, want_ids=True)[0] == 1
    if on_postgres:
        assert len(staged_calls) == 1  # the first went straight in, the second was staged
