"""The plain-SQL row helpers give what the ORM would: pks, auto_now fields, JSON, F-like adds."""

import pytest

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
