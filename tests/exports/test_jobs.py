"""Export jobs as snapshots: repeatable bytes, the manifest, splits, options and cancelling."""

from __future__ import annotations

import hashlib
import json
from collections import Counter

import pytest
from django.db import transaction

from exports.jobs import (
    ExportCancelled,
    export_job_cancel,
    export_job_create,
    export_job_run,
    progress_batches,
)
from exports.manifest import ExportTally
from exports.models import ExportJob
from exports.options import ExportOptions, OptionsError
from exports.records import ExportBatch, ExportRecord, export_batches
from exports.splits import FEW_STRATA, split_cuts, split_plan_build
from labeling.models import Resolution
from projects.label_schema import LabelSchema
from projects.models import Item
from tests.exports.conftest import database_label_counts
from tests.exports.helpers import export_run

pytestmark = pytest.mark.django_db

TEXT_FORMATS = ["jsonl", "csv", "parquet", "conll", "label_studio"]
IMAGE_FORMATS = ["coco", "yolo", "voc", "label_studio", "parquet"]


@pytest.mark.parametrize("format", TEXT_FORMATS)
def test_text_exports_repeat_byte_for_byte(text_project, lead, tmp_path, format):
    options = {"include_annotations": True, "include_gold": True, "split": [0.6, 0.2, 0.2]}
    first, first_path = export_run(text_project.project, lead, format, tmp_path, **options)
    second, second_path = export_run(text_project.project, lead, format, tmp_path, **options)
    assert first_path.read_bytes() == second_path.read_bytes()
    assert first.checksum == second.checksum == hashlib.sha256(first_path.read_bytes()).hexdigest()
    assert first.file.name != second.file.name  # two snapshots, each kept
    assert first.manifest["created_at"] != second.manifest["created_at"] or first.pk != second.pk


@pytest.mark.parametrize("format", IMAGE_FORMATS)
def test_image_exports_repeat_byte_for_byte(image_project, lead, tmp_path, format):
    first, first_path = export_run(
        image_project.project, lead, format, tmp_path, bundle_images=True
    )
    second, second_path = export_run(
        image_project.project, lead, format, tmp_path, bundle_images=True
    )
    assert first_path.read_bytes() == second_path.read_bytes()
    assert first.checksum == second.checksum


def test_manifest_describes_the_snapshot(text_project, lead, tmp_path):
    job, path = export_run(
        text_project.project,
        lead,
        "jsonl",
        tmp_path,
        include_annotations=True,
        include_predictions=True,
    )
    manifest = job.manifest
    assert manifest["format"] == "jsonl" and manifest["content_type"] == "application/x-ndjson"
    assert manifest["schema"]["controls"][0]["name"] == "sentiment"
    assert manifest["counts"] == {
        "items": 10,
        "resolved_items": 10,
        "annotations": 20,
        "predictions": 2,
    }
    assert manifest["label_distribution"]["sentiment"] == dict(
        database_label_counts(text_project.project)["sentiment"]
    )
    assert manifest["options"]["include_annotations"] is True
    assert manifest["checksum"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert manifest["bytes"] == path.stat().st_size
    assert manifest["created_at"] and manifest["filename"].endswith(f"-export-{job.pk}.jsonl")
    assert job.items_written == job.items_total == 10


def test_a_snapshot_does_not_change_when_the_data_does(text_project, lead, tmp_path):
    job, path = export_run(text_project.project, lead, "jsonl", tmp_path)
    before = path.read_bytes()
    Resolution.objects.filter(item__project=text_project.project).update(
        result={"sentiment": "neutral"}
    )
    again = export_job_run(job_id=job.pk)  # a re-delivered task must not rewrite a finished job
    with again.file.open("rb") as stream:
        assert stream.read() == before
    _, later = export_run(text_project.project, lead, "jsonl", tmp_path)
    assert later.read_bytes() != before


def test_only_resolved_or_all_items(text_project, lead, tmp_path):
    resolved_job, _ = export_run(text_project.project, lead, "jsonl", tmp_path)
    all_job, path = export_run(text_project.project, lead, "jsonl", tmp_path, only_resolved=False)
    assert resolved_job.manifest["counts"]["items"] == 10
    assert all_job.manifest["counts"]["items"] == 12
    assert all_job.manifest["counts"]["resolved_items"] == 10


def test_items_in_review_export_no_final_result(text_project, lead, tmp_path):
    """A current resolution of an unresolved item (a proposal in review) is not a label."""
    item = text_project.items[10]
    Resolution.objects.create(item=item, result={"sentiment": "negative"}, method="majority")
    Item.objects.filter(pk=item.pk).update(status=Item.Status.IN_REVIEW)
    _, path = export_run(text_project.project, lead, "jsonl", tmp_path, only_resolved=False)
    row = next(json.loads(line) for line in path.read_text().splitlines() if '"t-10"' in line)
    assert row["status"] == "in_review" and row["result"] is None


def test_split_is_stratified_and_reproducible(project, lead, tmp_path):
    counts = {"positive": 150, "negative": 90, "neutral": 60}
    n = 0
    for label, how_many in counts.items():
        for _ in range(how_many):
            item = Item.objects.create(
                project=project,
                external_id=f"s-{n}",
                data={"text": f"t {n}"},
                status=Item.Status.RESOLVED,
            )
            Resolution.objects.create(item=item, result={"sentiment": label}, method="single")
            n += 1
    ratios = (0.7, 0.2, 0.1)
    job, path = export_run(project, lead, "jsonl", tmp_path, split=list(ratios), split_seed=7)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    per_label = Counter((r["result"]["sentiment"], r["split"]) for r in rows)
    for label, total in counts.items():
        first, second = split_cuts(total, ratios)
        assert per_label[(label, "train")] == first
        assert per_label[(label, "validation")] == second - first
        assert per_label[(label, "test")] == total - second
    assert job.manifest["splits"]["train"]["items"] == sum(
        split_cuts(t, ratios)[0] for t in counts.values()
    )
    assert job.manifest["splits"]["test"]["label_distribution"]["sentiment"]["neutral"] == 6
    same, same_path = export_run(project, lead, "jsonl", tmp_path, split=list(ratios), split_seed=7)
    assert same_path.read_bytes() == path.read_bytes()
    _, other_path = export_run(project, lead, "jsonl", tmp_path, split=list(ratios), split_seed=8)
    other = {
        json.loads(line)["id"]: json.loads(line)["split"]
        for line in other_path.read_text().splitlines()
    }
    assert other != {r["id"]: r["split"] for r in rows}
    assert Counter(other.values()) == Counter(r["split"] for r in rows)  # same sizes, other items


def test_split_stratifies_by_the_named_control(text_project, lead, tmp_path):
    job, path = export_run(
        text_project.project, lead, "jsonl", tmp_path, split="80,10,10", stratify_by="entities"
    )
    assert job.manifest["options"]["stratify_by"] == "entities"
    assert sum(s["items"] for s in job.manifest["splits"].values()) == 10


@pytest.mark.parametrize(
    ("format", "options", "field"),
    [
        ("xml", {}, "format"),
        ("coco", {}, "format"),  # a text project has no boxes
        ("jsonl", {"split": [0.5, 0.5]}, "split"),
        ("jsonl", {"split": [0.5, 0.4, 0.4]}, "split"),
        ("jsonl", {"stratify_by": "nope"}, "stratify_by"),
        ("jsonl", {"include_gold": "maybe"}, "include_gold"),
        ("jsonl", {"colour": "red"}, "colour"),
    ],
)
def test_bad_formats_and_options_are_refused_by_name(text_project, lead, format, options, field):
    with pytest.raises(OptionsError) as refused:
        export_job_create(
            project=text_project.project, user=lead, format=format, raw_options=options
        )
    assert field in refused.value.errors


def test_a_cancelled_job_writes_nothing(text_project, lead):
    job = export_job_create(project=text_project.project, user=lead, format="jsonl", raw_options={})
    assert export_job_cancel(job=job)
    job = export_job_run(job_id=job.pk)
    assert job.status == ExportJob.Status.CANCELLED and not job.file


def test_a_job_cancelled_while_running_stops_at_the_next_batch(text_project, lead):
    job = export_job_create(project=text_project.project, user=lead, format="jsonl", raw_options={})
    ExportJob.objects.filter(pk=job.pk).update(status=ExportJob.Status.RUNNING)
    batches = export_batches(project=text_project.project, options=ExportOptions(), batch_size=3)
    progress = progress_batches(
        job, batches, ExportTally(LabelSchema(text_project.project.label_schema)), None
    )
    assert len(next(progress)) == 3
    assert len(next(progress)) == 3
    assert ExportJob.objects.get(pk=job.pk).items_written == 3  # progress is on the row
    export_job_cancel(job=job)  # as the API does, from another process
    with pytest.raises(ExportCancelled):
        next(progress)


def test_items_resolved_after_the_split_was_planned_still_get_a_split(text_project, lead):
    schema = LabelSchema(text_project.project.label_schema)
    options = ExportOptions(split=(0.5, 0.25, 0.25), split_seed=1)
    planned = export_batches(project=text_project.project, options=ExportOptions())
    plan = split_plan_build(batches=planned, schema=schema, options=options)
    item = text_project.items[10]
    Resolution.objects.create(item=item, result={"sentiment": "neutral"}, method="single")
    Item.objects.filter(pk=item.pk).update(status=Item.Status.RESOLVED)
    batches = list(export_batches(project=text_project.project, options=ExportOptions()))
    for batch in batches:
        plan.splits_assign(batch)
    splits = {r.item_id: r.split for batch in batches for r in batch}
    assert len(splits) == 11 and set(splits.values()) <= {"train", "validation", "test"}


@pytest.mark.postgres
@pytest.mark.parametrize("format", ["jsonl", "parquet", "label_studio"])
def test_read_ahead_writes_the_same_bytes_as_reading_in_line(
    transactional_db, text_project, lead, tmp_path, format
):
    """Outside a transaction batches are read ahead on a second connection (a worker's path);
    inside one they are read in line (a request's, a test's). Same snapshot, same bytes."""
    options = {"include_annotations": True, "include_predictions": True, "split": [0.5, 0.3, 0.2]}
    ahead, ahead_path = export_run(text_project.project, lead, format, tmp_path, **options)
    with transaction.atomic():
        in_line, in_line_path = export_run(text_project.project, lead, format, tmp_path, **options)
    assert ahead_path.read_bytes() == in_line_path.read_bytes()


def test_split_with_many_strata_keeps_each_stratum_in_proportion():
    """More label combinations than FEW_STRATA take the sorted-index path; same guarantee."""
    labels = [f"l{n}" for n in range(8)]
    schema = LabelSchema(
        {"controls": [{"name": "tags", "kind": "multi", "source": "text", "labels": labels}]}
    )
    records = []
    for n in range(3000):
        chosen = [label for bit, label in enumerate(labels) if (n * 37 + n // 7) >> bit & 1]
        result = json.dumps({"tags": chosen}) if chosen else None
        records.append(ExportRecord(n + 1, f"m{n}", "{}", "resolved", result, "single", None))
    batches = [ExportBatch(records[i : i + 500]) for i in range(0, len(records), 500)]
    ratios = (0.6, 0.2, 0.2)
    plan = split_plan_build(
        batches=batches, schema=schema, options=ExportOptions(split=ratios, split_seed=5)
    )
    strata = Counter(
        "|".join(sorted(json.loads(r.result_json)["tags"])) if r.result_json else ""
        for r in records
    )
    assert len(strata) > FEW_STRATA
    for batch in batches:
        plan.splits_assign(batch)
    per = Counter(
        ("|".join(sorted(json.loads(r.result_json)["tags"])) if r.result_json else "", r.split)
        for r in records
    )
    for key, total in strata.items():
        first, second = split_cuts(total, ratios)
        assert (per[(key, "train")], per[(key, "validation")]) == (first, second - first)
