"""Benchmark (issue 13): refit + re-resolve of a Dawid-Skene project, and the time of a
Dawid-Skene import against a majority import of the same Label Studio export.

Builds a throw-away PostgreSQL database `<DATABASE_URL's name>_bench_refit`.

1. Refit: fills a project by COPY (bench_consensus's data: --answers annotations, 5 per item,
   20 annotators of different accuracy, every item resolved by majority vote), switches it to
   Dawid-Skene and times what the worker's job runs (labeling.consensus.refresh
   .consensus_refit): fit on every answer, store the model, compare every resolution with the
   posteriors, set the confidence of those that stay, re-resolve those that change. Goals:
   100k answers < 5 s, 1M answers < 30 s.
2. Import: the same Label Studio JSON export (--import-tasks tasks x 3 answers) imported into a
   majority project and into a Dawid-Skene project, in-process (the job's services, as a
   worker runs them). Goal: Dawid-Skene / majority <= 1.2 (the refit the import then starts is
   timed apart).

    DATABASE_URL=postgres://postgres:postgres@127.0.0.1:5432/quorum \
        .venv/bin/python tests/benchmarks/bench_refit.py --answers 100000 1000000 \
        --import-tasks 20000
"""

from __future__ import annotations

import argparse
import json
import os
import time

from bench_support import DEFAULT_URL, bench_database_url, database_drop, database_recreate

LABELS = ("positive", "negative", "neutral")


def refit_bench(answers: int) -> None:
    from bench_consensus import data_fill

    from labeling.consensus.refresh import consensus_refit
    from labeling.models import Resolution
    from projects.models import Project

    per_item = 5
    started = time.perf_counter()
    project_id = data_fill(items=answers // per_item, per_item=per_item)
    print(f"refit: filled {answers:,} answers in {time.perf_counter() - started:.1f}s")
    project = Project.objects.get(pk=project_id)
    project.aggregation = Project.Aggregation.DAWID_SKENE
    project.review_policy = Project.ReviewPolicy.NONE
    project.save(update_fields=["aggregation", "review_policy"])
    for run in (1, 2):
        started = time.perf_counter()
        counts = consensus_refit(project=project)
        elapsed = time.perf_counter() - started
        print(
            f"refit run {run}: {answers:,} answers, {counts['items']:,} items:"
            f" fit + store + compare + re-resolve {elapsed:.2f}s"
            f" ({counts['re_resolved']:,} items re-resolved)"
        )
    # Where a refit's time goes (the same services, in the order consensus_refit calls them).
    from labeling.consensus.fitted_model import consensus_model_fit
    from labeling.consensus.refresh import resolution_confidences_write, resolutions_compare

    started = time.perf_counter()
    fit = consensus_model_fit(project=project)
    fitted = time.perf_counter()
    comparison = resolutions_compare(project=project, fit=fit)
    compared = time.perf_counter()
    resolution_confidences_write({k: v * 0.999 for k, v in comparison.kept.items()})
    written = time.perf_counter()
    print(
        f"refit phases: read + fit + store {fitted - started:.2f}s,"
        f" compare {compared - fitted:.2f}s,"
        f" write {len(comparison.kept):,} confidences {written - compared:.2f}s"
    )
    changed = Resolution.objects.filter(item__project=project, method="dawid_skene").count()
    print(f"refit: {changed:,} items now resolved by Dawid-Skene")


def export_write(path, tasks: int, per_task: int, seed: int = 5) -> None:
    import numpy as np

    rng = np.random.default_rng(seed)
    accuracy = np.linspace(0.55, 0.95, 20)
    with open(path, "w") as out:
        out.write("[")
        for n in range(tasks):
            truth = int(rng.integers(3))
            who = rng.choice(20, per_task, replace=False)
            annotations = []
            for k, worker in enumerate(who):
                right = rng.random() < accuracy[worker]
                label = truth if right else (truth + int(rng.integers(1, 3))) % 3
                annotations.append(
                    {
                        "id": n * per_task + k + 1,
                        "completed_by": {"id": int(worker) + 1, "email": f"w{worker}@ex.org"},
                        "lead_time": 3.0,
                        "result": [
                            {
                                "from_name": "sentiment",
                                "to_name": "text",
                                "type": "choices",
                                "value": {"choices": [LABELS[label]]},
                            }
                        ],
                    }
                )
            task = {"id": n + 1, "data": {"text": f"text {n}"}, "annotations": annotations}
            out.write(("," if n else "") + json.dumps(task))
        out.write("]")


def import_once(path, aggregation: str, per_task: int) -> tuple[float, float]:
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile

    from labeling.models import ConsensusJob
    from projects.imports.jobs import import_chunk_run, import_job_create, import_job_plan
    from projects.models import ImportJob, Membership, Project
    from tests.factories import TEXT_CLASSIFICATION_SCHEMA

    lead, _ = get_user_model().objects.get_or_create(username="bench-lead")
    project = Project.objects.create(
        name=f"import {aggregation}",
        label_schema=TEXT_CLASSIFICATION_SCHEMA,
        overlap=per_task,
        aggregation=aggregation,
        review_policy=Project.ReviewPolicy.DISAGREEMENTS,
    )
    Membership.objects.create(project=project, user=lead, role=Membership.Role.LEAD)
    with open(path, "rb") as stream:
        upload = SimpleUploadedFile("export.json", stream.read())
    job = import_job_create(project=project, user=lead, upload=upload, format="label_studio")
    started = time.perf_counter()
    for chunk_id in import_job_plan(job_id=job.pk):
        import_chunk_run(chunk_id=chunk_id)  # ends with the refit (tasks run in-process)
    total = time.perf_counter() - started
    job = ImportJob.objects.get(pk=job.pk)
    assert job.status == "done", (job.status, job.message)
    refit = ConsensusJob.objects.filter(project=project).first()
    refit_seconds = (
        (refit.finished_at - refit.started_at).total_seconds()
        if refit and refit.finished_at
        else 0.0
    )
    print(
        f"import {aggregation:11s}: {job.created_count:,} items, {job.answers_carried:,} answers"
        f" in {total - refit_seconds:.2f}s"
        + (f" (+ refit {refit_seconds:.2f}s after the import)" if refit else "")
    )
    return total - refit_seconds, refit_seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--answers", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--import-tasks", type=int, default=20_000)
    parser.add_argument("--import-per-task", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=2, help="imports of each kind")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()

    admin_url, bench_url, bench_name = bench_database_url(
        os.environ.get("DATABASE_URL") or DEFAULT_URL, "bench_refit"
    )
    os.environ["DATABASE_URL"] = bench_url
    os.environ["CELERY_BROKER_URL"] = ""
    os.environ.setdefault("QUORUM_DATA_DIR", "/tmp/quorum-bench-refit")

    import django
    from bench_support import tables_create

    django.setup()
    try:
        for answers in args.answers:
            database_recreate(admin_url, bench_name)
            tables_create()
            refit_bench(answers)
            from django.db import connections

            connections.close_all()
        if args.import_tasks:
            database_recreate(admin_url, bench_name)
            tables_create()
            path = "/tmp/quorum-bench-refit-export.json"
            export_write(path, args.import_tasks, args.import_per_task)
            times = {"majority": [], "dawid_skene": []}
            for _ in range(args.repeat):  # alternated: a shared machine's load moves
                for aggregation in times:
                    seconds, _ = import_once(path, aggregation, args.import_per_task)
                    times[aggregation].append(seconds)
            majority, dawid_skene = min(times["majority"]), min(times["dawid_skene"])
            print(
                f"import best of {args.repeat}: majority {majority:.2f}s,"
                f" Dawid-Skene {dawid_skene:.2f}s, ratio {dawid_skene / majority:.2f}"
                f" (load average {os.getloadavg()[0]:.1f})"
            )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop(admin_url, bench_name)


if __name__ == "__main__":
    main()
