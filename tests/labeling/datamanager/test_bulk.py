"""Bulk actions as jobs: what each does, the report, and whole batches when one fails."""

import pytest
from django.db import connection

from labeling.datamanager.bulk import BulkRefused, item_bulk_job_create, item_bulk_job_run
from labeling.models import Annotation, Assignment, Draft, ItemBulkJob, Resolution
from projects.models import Item, Prediction
from tests.factories import ItemFactory


def run(table, action, selection, params=None, batch_size=None):
    job = item_bulk_job_create(
        project=table.project, user=None, action=action, params=params, selection=selection
    )
    return item_bulk_job_run(job_id=job.pk, batch_size=batch_size)


def ext(item_ids) -> list[str]:
    return sorted(Item.objects.filter(pk__in=item_ids).values_list("external_id", flat=True))


@pytest.mark.django_db
def test_set_priority_on_all_that_match_a_filter(table):
    job = run(
        table, "set_priority", {"query": "status=open&cursor=x&ordering=-id"}, {"priority": 9}
    )
    assert job.status == "done"
    assert (job.selected_count, job.processed_count, job.changed_count) == (4, 4, 4)
    nines = Item.objects.filter(project=table.project, priority=9).values_list("pk", flat=True)
    assert ext(nines) == ["a", "d", "e", "f"]


@pytest.mark.django_db
def test_delete_takes_the_items_with_everything_that_hangs_off_them(table):
    a, b, c, e = (table.items[k] for k in "abce")
    Draft.objects.create(item=a, annotator=Assignment.objects.get(item=a).annotator, result={})
    kept = Annotation.objects.filter(item=b).first()
    # Another item's resolution that accepted an answer of a deleted item keeps going, cleared.
    other = ItemFactory(project=table.project, external_id="other")
    elsewhere = Resolution.objects.create(item=other, result={}, accepted_annotation=kept)
    gone = [a.pk, b.pk, c.pk, e.pk]
    job = run(table, "delete", {"ids": gone})
    assert job.changed_count == 4
    assert not Item.objects.filter(pk__in=gone).exists()
    for model in (Resolution, Annotation, Assignment, Draft, Prediction):
        assert not model.objects.filter(item_id__in=gone).exists(), model
    elsewhere.refresh_from_db()
    assert elsewhere.accepted_annotation_id is None
    assert ext(Item.objects.filter(project=table.project).values("pk")) == ["d", "f", "other"]
    assert Prediction.objects.filter(item=table.items["f"]).exists()


@pytest.mark.django_db
def test_gold_marked_with_an_answer_and_unmarked(table):
    a, e = table.items["a"], table.items["e"]
    job = run(table, "set_gold", {"ids": [a.pk, e.pk]}, {"answer": {"sentiment": "negative"}})
    assert job.changed_count == 2
    assert Item.objects.get(pk=a.pk).gold == {"sentiment": "negative"}
    job = run(table, "unset_gold", {"query": "gold=true"})
    assert job.changed_count == 3
    assert not Item.objects.filter(project=table.project, gold__isnull=False).exists()


@pytest.mark.django_db
def test_send_to_review_skips_unanswered_and_reviewed_items(table):
    ids = [item.pk for item in table.items.values()]
    job = run(table, "send_to_review", {"ids": ids})
    assert job.changed_count == 1  # b: c is in review already, the rest have no answers
    assert job.report["skipped"] == {"already in review": 1, "no answers yet": 4}
    b = Item.objects.get(pk=table.items["b"].pk)
    assert b.status == "in_review"
    current = Resolution.objects.get(item=b, is_current=True)
    assert current.state == "pending" and current.result == {"sentiment": "positive"}
    assert Resolution.objects.filter(item=b).count() == 2  # the accepted one kept as history


@pytest.mark.django_db
def test_release_held_assignments(table):
    a = table.items["a"]
    job = run(table, "release_assignments", {"query": ""})
    assert job.changed_count == 1 and job.report["skipped"] == {"held by nobody": 5}
    assert Assignment.objects.get(item=a).state == "expired"
    assert Item.objects.get(pk=a.pk).assigned_count == 0


@pytest.mark.django_db
def test_requeue_for_more_answers(table):
    b = table.items["b"]
    job = run(table, "requeue", {"ids": [b.pk]}, {"answers": 2})
    assert job.changed_count == 1
    b.refresh_from_db()
    assert (b.status, b.extra_slots) == ("open", 2)
    assert Resolution.objects.get(item=b, is_current=True).state == "sent_back"


@pytest.mark.django_db
def test_a_failing_batch_changes_nothing_and_the_job_says_what_was_done(table):
    """A database error in the second batch: the first batch stays, the second is untouched."""
    extra = [ItemFactory(project=table.project) for _ in range(3)]
    ids = sorted([item.pk for item in table.items.values()] + [item.pk for item in extra])
    refused = ids[4]  # in the second batch of three
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION refuse_item() RETURNS trigger AS $$ BEGIN "
                "RAISE EXCEPTION 'item refused'; END $$ LANGUAGE plpgsql"
            )
            cursor.execute(
                "CREATE TRIGGER refuse BEFORE UPDATE ON projects_item FOR EACH ROW "
                f"WHEN (NEW.id = {refused}) EXECUTE FUNCTION refuse_item()"
            )
        else:
            cursor.execute(
                "CREATE TRIGGER refuse BEFORE UPDATE ON projects_item "
                f"WHEN NEW.id = {refused} BEGIN SELECT RAISE(ABORT, 'item refused'); END"
            )
    job = run(table, "set_priority", {"ids": ids}, {"priority": 42}, batch_size=3)
    assert job.status == "failed" and "item refused" in job.message
    assert (job.processed_count, job.changed_count, job.batch_count) == (3, 3, 1)
    priorities = dict(Item.objects.filter(pk__in=ids).values_list("pk", "priority"))
    assert [pk for pk in ids if priorities[pk] == 42] == ids[:3]
    assert job.last_item_id == ids[2]


@pytest.mark.django_db
def test_a_rerun_resumes_after_the_last_batch_and_a_finished_job_does_nothing(table):
    job = item_bulk_job_create(
        project=table.project,
        user=None,
        action="set_priority",
        params={"priority": 3},
        selection={"query": ""},
    )
    ItemBulkJob.objects.filter(pk=job.pk).update(last_item_id=table.items["c"].pk)
    job = item_bulk_job_run(job_id=job.pk)
    threes = Item.objects.filter(project=table.project, priority=3).values_list("pk", flat=True)
    assert ext(threes) == ["d", "e", "f"] and job.status == "done"
    Item.objects.filter(project=table.project).update(priority=0)
    assert item_bulk_job_run(job_id=job.pk).status == "done"
    assert not Item.objects.filter(priority=3).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("action", "params", "selection", "field"),
    [
        ("explode", None, {"ids": [1]}, "action"),
        ("set_priority", {}, {"ids": [1]}, "params.priority"),
        ("set_priority", {"priority": "high"}, {"ids": [1]}, "params.priority"),
        ("set_priority", {"priority": 1, "colour": 2}, {"ids": [1]}, "params.colour"),
        ("requeue", {"answers": 0}, {"ids": [1]}, "params.answers"),
        ("set_gold", {"answer": {"sentiment": "ecstatic"}}, {"ids": [1]}, "params.answer"),
        ("delete", None, {"ids": []}, "selection.ids"),
        ("delete", None, {"ids": ["x"]}, "selection.ids"),
        ("delete", None, {"query": "agreement_min=2"}, "selection.query.agreement_min"),
        ("delete", None, {"everything": True}, "selection"),
        ("delete", None, None, "selection"),
    ],
)
def test_bad_requests_are_named_and_store_nothing(table, action, params, selection, field):
    with pytest.raises(BulkRefused) as caught:
        item_bulk_job_create(
            project=table.project, user=None, action=action, params=params, selection=selection
        )
    assert field in caught.value.errors
    assert not ItemBulkJob.objects.exists()
