"""The plain-SQL row helpers give what the ORM would: pks, auto_now fields, JSON, F-like adds."""

import pytest
from django.db import transaction

from labeling.models import Annotation, AnnotatorStats
from projects.direct_sql import row_insert, rows_select, rows_update
from projects.models import Item
from tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


def test_row_insert_sets_pk_and_auto_now_fields_and_stores_json(project, annotator):
    item = ItemFactory(project=project)
    answer = {"sentiment": "positive", "note": 'quotes " and \\\\ and ünïcode'}
    annotation = row_insert(
        Annotation(project=project, item=item, annotator=annotator, result=answer, lead_time=1.5)
    )
    assert annotation.pk is not None
    assert annotation.created_at is not None and annotation.updated_at is not None
    stored = Annotation.objects.get(pk=annotation.pk)
    assert stored.result == answer
    assert stored.lead_time == 1.5
    assert stored.gold_score is None
    assert stored.created_at == annotation.created_at


def test_rows_update_sets_and_adds_only_on_matching_rows(project):
    first, second = ItemFactory(project=project), ItemFactory(project=project)
    changed = rows_update(
        Item, {"pk": first.pk}, set={"status": Item.Status.RESOLVED}, add={"skip_count": 2}
    )
    assert changed == 1
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, first.skip_count) == (Item.Status.RESOLVED, 2)
    assert (second.status, second.skip_count) == (Item.Status.OPEN, 0)
    rows_update(Item, {"pk": first.pk}, add={"skip_count": -1})
    first.refresh_from_db()
    assert first.skip_count == 1
    assert (
        rows_update(
            AnnotatorStats, {"project_id": project.pk, "annotator_id": 0}, add={"annotated": 1}
        )
        == 0
    )


def test_rows_select_converts_json_and_keeps_order(project, annotator, lead):
    item = ItemFactory(project=project)
    second = Annotation.objects.create(
        project=project, item=item, annotator=lead, result={"sentiment": "negative"}
    )
    first = Annotation.objects.create(
        project=project, item=item, annotator=annotator, result={"sentiment": "positive"}
    )
    rows = rows_select(Annotation, ["id", "annotator_id", "result"], {"item_id": item.pk})
    assert rows == [
        (second.pk, lead.pk, {"sentiment": "negative"}),
        (first.pk, annotator.pk, {"sentiment": "positive"}),
    ]
    assert rows_select(Annotation, ["id"], {"item_id": item.pk + 1000}) == []


def test_row_upsert_makes_the_row_then_adds_to_it(project, annotator):
    from django.utils import timezone

    from projects.direct_sql import row_upsert

    first, later = timezone.now(), timezone.now()
    for when, counts in ((first, {"annotated": 1}), (later, {"annotated": 2, "skipped": 1})):
        row_upsert(
            AnnotatorStats(project=project, annotator=annotator, last_active_at=when, **counts),
            conflict=["project", "annotator"],
            set=["last_active_at"],
            add=list(counts),
        )
    stats = AnnotatorStats.objects.get(project=project, annotator=annotator)
    assert (stats.annotated, stats.skipped, stats.served) == (3, 1, 0)
    assert stats.last_active_at == later


def test_batched_writes_all_land_in_order_and_inserts_get_their_pk(project, annotator):
    from projects.direct_sql import writes_batched

    item = ItemFactory(project=project)
    with transaction.atomic(), writes_batched():
        annotation = row_insert(
            Annotation(project=project, item=item, annotator=annotator, result={"a": 1})
        )
        rows_update(Item, {"pk": item.pk}, add={"skip_count": 1})
        rows_update(Item, {"pk": item.pk}, add={"skip_count": 10})
        rows_update(Item, {"pk": item.pk}, set={"status": Item.Status.LABELED})
    assert annotation.pk == Annotation.objects.get(item=item).pk
    item.refresh_from_db()
    assert (item.skip_count, item.status) == (11, Item.Status.LABELED)


def test_a_failing_batched_write_fails_the_block_and_its_transaction(project, annotator):
    from django.db import IntegrityError

    from projects.direct_sql import writes_batched

    item = ItemFactory(project=project)
    Annotation.objects.create(project=project, item=item, annotator=annotator, result={"a": 1})
    with pytest.raises(IntegrityError), transaction.atomic(), writes_batched():
        rows_update(Item, {"pk": item.pk}, add={"skip_count": 1})
        row_insert(Annotation(project=project, item=item, annotator=annotator, result={"a": 2}))
    item.refresh_from_db()
    assert item.skip_count == 0
    assert Annotation.objects.filter(item=item).count() == 1


def test_model_row_read_builds_the_instance_the_orm_would(project):
    from projects.direct_sql import model_columns, model_row_read
    from projects.models import Project

    project.label_schema = {"controls": [{"name": "x", "kind": "text", "source": "text"}]}
    project.save()
    sql = f"SELECT {model_columns(Project, 'p')}, 7 FROM projects_project p WHERE p.id = %s"
    read, extras = model_row_read(Project, sql, [project.pk])
    expected = Project.objects.get(pk=project.pk)
    assert extras == (7,)
    for field in Project._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
    assert read._state.adding is False
    assert model_row_read(Project, sql, [project.pk + 1000]) is None


@pytest.mark.django_db(transaction=True)
def test_a_first_read_as_health_check_runs_again_on_a_new_connection(project):
    """The server drops a kept connection (a restart, an idle timeout): the read that stands in
    for the health check fails on it and is answered on a new one."""
    from django.db import connection

    from projects.direct_sql import as_health_check

    if connection.vendor != "postgresql":
        pytest.skip("a server to drop the connection")
    import psycopg

    connection.ensure_connection()
    dropped = connection.connection.info.backend_pid
    settings = connection.get_connection_params()
    with psycopg.connect(**settings, autocommit=True) as other:
        other.execute("SELECT pg_terminate_backend(%s)", [dropped])
    connection.health_check_enabled, connection.health_check_done = True, False

    def read():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            return cursor.fetchone()[0]

    assert as_health_check(read) != dropped
    assert connection.health_check_done


def test_model_row_read_is_a_statement_postgresql_keeps_prepared(project):
    from django.db import connection

    from projects.direct_sql import model_columns, model_row_read
    from projects.models import Project

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    sql = f"SELECT {model_columns(Project, 'p')}, 1 FROM projects_project p WHERE p.id = %s"
    for _ in range(2):
        assert model_row_read(Project, sql, [project.pk])[0].pk == project.pk
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement = %s",
            [sql.replace("%s", "$1")],
        )
        assert cursor.fetchone()[0] == 1
