"""Rollups: each model version's figures per hour, day and week, kept by a worker.

`monitor_rollups_refresh` folds in what changed since its last run: resolutions of routed items
(read by a watermark on resolution ids, plus an overlap window for ids that committed late),
business actuals, and the event counts of new events. It recomputes only the buckets those
touch, from LabeledEvent rows (one per labeled event: far fewer than events) and EventCount rows
(events per hour, score bin and label), never from the events table. Requests read Rollup rows.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from labeling.models import Resolution
from labeling.monitor.events import (
    ITEM_PREFIX,
    answer_label,
    labeled_events_upsert,
    monitored_control,
)
from labeling.monitor.models import (
    Alert,
    EventCount,
    LabeledEvent,
    ModelVersion,
    MonitorSettings,
    PredictionEvent,
    Rollup,
)
from labeling.monitor.stats import (
    calibration,
    class_scores,
    population_stability,
    weighted_accuracy,
    wilson_interval,
)
from projects.event_hooks import event_emit
from projects.label_schema import LabelSchema
from projects.models import Project

OVERLAP = timedelta(minutes=5)  # re-read this far back: rows whose transaction began earlier
BUCKETS = {"hour": timedelta(hours=1), "day": timedelta(days=1), "week": timedelta(days=7)}
ALERT_BUCKET = "day"
DEFAULT_REFERENCE = timedelta(days=7)  # from the version's first event, when none is picked
SEGMENT_MIN_SAMPLES = 10
SEGMENT_MAX_VALUES = 50
WORST_SEGMENTS = 5
CHUNK = 2000
DETAILS = ("confusion", "classes", "calibration", "segments")


def bucket_start(moment: datetime, bucket: str) -> datetime:
    moment = moment.astimezone(UTC)
    if bucket == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if bucket == "day":
        return day
    return day - timedelta(days=day.weekday())


def monitor_settings_for(project: Project) -> MonitorSettings:
    row, _ = MonitorSettings.objects.get_or_create(project=project)
    return row


def _resolutions_fold(project: Project, config: MonitorSettings, since: datetime | None) -> int:
    """New resolutions of routed items into LabeledEvent.human; the new watermark."""
    control = monitored_control(LabelSchema(project.label_schema)).name
    recent = Q(pk__gt=config.resolution_watermark)
    if since is not None:
        recent |= Q(created_at__gte=since)
    resolutions = (
        Resolution.objects.filter(
            recent,
            item__project_id=project.pk,
            item__external_id__startswith=ITEM_PREFIX,
            is_current=True,
            state=Resolution.State.ACCEPTED,
        )
        .order_by("pk")
        .values_list("pk", "item_id", "item__external_id", "result")
    )
    watermark = config.resolution_watermark
    batch: list[tuple[int, str, str]] = []

    def flush():
        by_event_id = {external_id[len(ITEM_PREFIX) :]: (i, lb) for i, external_id, lb in batch}
        pks = dict(
            PredictionEvent.objects.filter(
                project_id=project.pk, event_id__in=list(by_event_id)
            ).values_list("event_id", "pk")
        )
        labeled_events_upsert(
            project=project,
            updates={
                pks[event_id]: {"human": label, "item_id": item_id}
                for event_id, (item_id, label) in by_event_id.items()
                if event_id in pks
            },
        )
        batch.clear()

    for pk, item_id, external_id, result in resolutions.iterator(chunk_size=CHUNK):
        watermark = max(watermark, pk)
        batch.append((item_id, external_id, answer_label(result, control)))
        if len(batch) >= CHUNK:
            flush()
    if batch:
        flush()
    return watermark


def event_counts_compact(*, project: Project, since: datetime | None, before: datetime) -> int:
    """Sum each finished hour's appended EventCount rows into one row per key (the ingest calls
    append rows, see EventCount); rows read here by id, so rows committing meanwhile stay."""
    rows = EventCount.objects.filter(project_id=project.pk, hour__lt=before)
    if since is not None:
        hours = set(rows.filter(changed_at__gte=since).values_list("version_id", "hour").distinct())
        if not hours:
            return 0
        rows = rows.filter(hour__in={hour for _, hour in hours})
    groups: dict[tuple, list] = defaultdict(list)
    for row in rows.order_by().only(
        "id", "version_id", "hour", "kind", "key", "count", "routed", "changed_at"
    ):
        groups[row.version_id, row.hour, row.kind, row.key].append(row)
    merged, gone = [], []
    for (version_id, hour, kind, key), parts in groups.items():
        if len(parts) < 2:
            continue
        gone.extend(part.pk for part in parts)
        merged.append(
            EventCount(
                project_id=project.pk,
                version_id=version_id,
                hour=hour,
                kind=kind,
                key=key,
                count=sum(p.count for p in parts),
                routed=sum(p.routed for p in parts),
                changed_at=max(p.changed_at for p in parts),
            )
        )
    for start in range(0, len(gone), CHUNK):
        EventCount.objects.filter(pk__in=gone[start : start + CHUNK]).delete()
    EventCount.objects.bulk_create(merged, batch_size=CHUNK)
    return len(gone) - len(merged)


def _touched(project: Project, since: datetime | None) -> set[tuple[int, str, datetime]]:
    labeled = LabeledEvent.objects.filter(project_id=project.pk)
    counts = EventCount.objects.filter(project_id=project.pk)
    if since is not None:
        labeled = labeled.filter(changed_at__gte=since)
        counts = counts.filter(changed_at__gte=since)
    moments = set(labeled.values_list("version_id", "timestamp").distinct())
    moments |= set(counts.values_list("version_id", "hour").distinct())
    touched = set()
    for version_id, moment in moments:
        for bucket in BUCKETS:
            touched.add((version_id, bucket, bucket_start(moment, bucket)))
    return touched


def _truth(config: MonitorSettings, labeled: LabeledEvent) -> str:
    if config.truth == MonitorSettings.Truth.ACTUAL:
        return labeled.actual or labeled.human
    return labeled.human or labeled.actual


def _distribution(project_id: int, version_id: int, start: datetime, end: datetime) -> dict:
    shares: dict[str, dict[str, int]] = {"score": defaultdict(int), "label": defaultdict(int)}
    routed = 0
    for kind, key, count, routed_count in EventCount.objects.filter(
        project_id=project_id, version_id=version_id, hour__gte=start, hour__lt=end
    ).values_list("kind", "key", "count", "routed"):
        shares[kind][key] += count
        if kind == "label":
            routed += routed_count
    return {"score": dict(shares["score"]), "label": dict(shares["label"]), "routed": routed}


def _segments(rows: list[tuple[dict, bool]]) -> list[dict]:
    tallies: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for metadata, correct in rows:
        for key, value in metadata.items():
            if isinstance(value, dict | list):
                continue
            tally = tallies[str(key), str(value)]
            tally[0] += 1
            tally[1] += correct
    values_per_key = defaultdict(int)
    for key, _ in tallies:
        values_per_key[key] += 1
    segments = []
    for (key, value), (n, hits) in tallies.items():
        if n < SEGMENT_MIN_SAMPLES or values_per_key[key] > SEGMENT_MAX_VALUES:
            continue
        low, high = wilson_interval(hits, n)
        segments.append(
            {
                "key": key,
                "value": value,
                "n": n,
                "accuracy": hits / n,
                "ci_low": low,
                "ci_high": high,
            }
        )
    segments.sort(key=lambda s: (s["accuracy"], -s["n"]))
    return segments[:WORST_SEGMENTS]


def rollup_figures(
    *, config: MonitorSettings, labeled: list[LabeledEvent], distribution: dict, reference: dict
) -> dict:
    """The figures of one bucket from its labeled events and event counts (no database)."""
    outcomes = []
    for row in labeled:
        truth = _truth(config, row)
        if truth:
            outcomes.append((row, truth, row.predicted == truth))
    n = len(outcomes)
    hits = sum(correct for _, _, correct in outcomes)
    interval = wilson_interval(hits, n)
    figures = {
        "n": n,
        "events": sum(distribution["label"].values()),
        "routed": distribution["routed"],
        "accuracy": hits / n if n else None,
        "ci_low": interval[0] if interval else None,
        "ci_high": interval[1] if interval else None,
    }
    figures.update(weighted_accuracy((row.weight, correct) for row, _, correct in outcomes))
    for name, keep in (
        ("baseline", lambda r: r.baseline),
        ("rule", lambda r: r.routed_by_rule),
    ):
        part = [correct for row, _, correct in outcomes if keep(row)]
        figures[f"{name}_n"] = len(part)
        figures[f"{name}_accuracy"] = sum(part) / len(part) if part else None
    rule_part = [correct for row, _, correct in outcomes if row.routed_by_rule]
    figures["routed_failure_rate"] = 1 - sum(rule_part) / len(rule_part) if rule_part else None
    confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row, truth, _ in outcomes:
        confusion[truth][row.predicted] += 1
    figures["confusion"] = {t: dict(p) for t, p in confusion.items()}
    figures["classes"] = class_scores(figures["confusion"])
    bins, ece = calibration(
        (row.score, correct) for row, _, correct in outcomes if row.score is not None
    )
    figures["calibration"] = bins
    figures["ece"] = ece
    psi_score = population_stability(reference["score"], distribution["score"])
    psi_label = population_stability(reference["label"], distribution["label"])
    figures["psi_score"] = psi_score
    figures["psi_label"] = psi_label
    known = [p for p in (psi_score, psi_label) if p is not None]
    figures["psi"] = max(known) if known else None
    figures["segments"] = _segments([(row.metadata or {}, correct) for row, _, correct in outcomes])
    both = [(row.human, row.actual) for row in labeled if row.human and row.actual]
    figures["truth"] = config.truth
    figures["human_n"] = sum(1 for row in labeled if row.human)
    figures["actual_n"] = sum(1 for row in labeled if row.actual)
    figures["human_actual_n"] = len(both)
    figures["human_actual_agreement"] = sum(h == a for h, a in both) / len(both) if both else None
    return figures


def _reference(config: MonitorSettings, version: ModelVersion, cache: dict) -> dict:
    if version.pk not in cache:
        start = config.reference_start or bucket_start(version.first_seen_at, "day")
        end = config.reference_end or start + DEFAULT_REFERENCE
        cache[version.pk] = _distribution(version.project_id, version.pk, start, end)
    return cache[version.pk]


def _alerts_check(
    config: MonitorSettings, rollup: Rollup, previous: Rollup | None, version: ModelVersion
) -> None:
    figures = rollup.figures
    found = []
    upper = figures.get("weighted_ci_high")
    estimate = "weighted_accuracy"
    if upper is None:
        upper, estimate = figures.get("ci_high"), "accuracy"
    enough = figures["n"] >= config.min_alert_samples
    if enough and upper is not None and upper < config.accuracy_alert_below:
        found.append(
            (
                Alert.Kind.ACCURACY,
                f"Accuracy {figures[estimate]:.3f} (95% CI upper bound {upper:.3f}) is below "
                f"{config.accuracy_alert_below}",
                {
                    k: figures.get(k)
                    for k in (
                        "n",
                        estimate,
                        "ci_low",
                        "ci_high",
                        "weighted_ci_low",
                        "weighted_ci_high",
                    )
                },
            )
        )
    psi = figures.get("psi")
    enough = figures["events"] >= config.min_alert_samples
    if enough and psi is not None and psi > config.psi_alert_above:
        found.append(
            (
                Alert.Kind.DRIFT,
                f"Drift PSI {psi:.3f} is above {config.psi_alert_above}",
                {k: figures.get(k) for k in ("events", "psi", "psi_score", "psi_label")},
            )
        )
    rate = figures.get("routed_failure_rate")
    if previous is not None and rate is not None:
        before = previous.figures.get("routed_failure_rate")
        enough = (
            figures.get("rule_n", 0) >= config.min_alert_samples
            and previous.figures.get("rule_n", 0) >= config.min_alert_samples
        )
        if before is not None and enough and rate - before >= config.failure_rate_alert_rise:
            found.append(
                (
                    Alert.Kind.FAILURES,
                    f"Routed failure rate rose from {before:.3f} to {rate:.3f}",
                    {
                        "before": before,
                        "after": rate,
                        "rule_n": figures["rule_n"],
                        "previous_bucket_start": previous.bucket_start.isoformat(),
                    },
                )
            )
    for kind, message, evidence in found:
        alert, created = Alert.objects.get_or_create(
            project_id=rollup.project_id,
            version_id=rollup.version_id,
            kind=kind,
            bucket=rollup.bucket,
            bucket_start=rollup.bucket_start,
            defaults={"message": message[:500], "evidence": evidence},
        )
        if created:
            # Other integrations hear of it (webhooks: an outbox row committed with the alert).
            event_emit(
                project_id=rollup.project_id,
                event="monitor.alert",
                ids={"alert": alert.pk},
                data={"alert": alert_json(alert, version=version)},
            )


def alert_json(alert: Alert, *, version: ModelVersion) -> dict:
    """An alert as the API's alerts list shows it (and the monitor.alert webhook sends it)."""
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "model_version": version.version,
        "bucket": alert.bucket,
        "bucket_start": alert.bucket_start.isoformat(),
        "message": alert.message,
        "evidence": alert.evidence,
        "created_at": alert.created_at.isoformat(),
    }


def rollup_recompute(
    *, config: MonitorSettings, version: ModelVersion, bucket: str, start: datetime, cache: dict
) -> Rollup:
    end = start + BUCKETS[bucket]
    labeled = list(
        LabeledEvent.objects.filter(
            project_id=version.project_id, version=version, timestamp__gte=start, timestamp__lt=end
        )
    )
    figures = rollup_figures(
        config=config,
        labeled=labeled,
        distribution=_distribution(version.project_id, version.pk, start, end),
        reference=_reference(config, version, cache),
    )
    details = {name: figures.pop(name) for name in DETAILS}
    rollup, _ = Rollup.objects.update_or_create(
        project_id=version.project_id,
        version=version,
        bucket=bucket,
        bucket_start=start,
        defaults={
            "n": figures["n"],
            "events": figures["events"],
            "figures": figures,
            "details": details,
        },
    )
    if bucket == ALERT_BUCKET:
        previous = (
            Rollup.objects.filter(
                project_id=version.project_id,
                version=version,
                bucket=bucket,
                bucket_start__lt=start,
            )
            .order_by("-bucket_start")
            .first()
        )
        _alerts_check(config, rollup, previous, version)
    return rollup


def monitor_rollups_refresh(*, project_id: int, full: bool = False) -> int:
    """Fold what changed into the rollups; the number of buckets recomputed. One refresh of a
    project at a time (its settings row is locked)."""
    project = Project.objects.get(pk=project_id)
    monitor_settings_for(project)
    with transaction.atomic():
        config = MonitorSettings.objects.select_for_update().get(project=project)
        started = timezone.now()
        last = None if full or config.counts_refreshed_at is None else config.counts_refreshed_at
        since = last - OVERLAP if last else None
        watermark = _resolutions_fold(project, config, since)
        touched = _touched(project, since)
        event_counts_compact(project=project, since=since, before=bucket_start(started, "hour"))
        versions = {v.pk: v for v in ModelVersion.objects.filter(project=project)}
        cache: dict = {}
        # Day buckets in time order, so each alert check sees the bucket before it.
        for version_id, bucket, start in sorted(touched, key=lambda t: (t[0], t[1], t[2])):
            rollup_recompute(
                config=config, version=versions[version_id], bucket=bucket, start=start, cache=cache
            )
        config.resolution_watermark = watermark
        config.counts_refreshed_at = started
        config.save(update_fields=["resolution_watermark", "counts_refreshed_at"])
    return len(touched)


SERIES_SCALARS = (
    "n",
    "events",
    "routed",
    "accuracy",
    "ci_low",
    "ci_high",
    "weighted_accuracy",
    "weighted_ci_low",
    "weighted_ci_high",
    "effective_n",
    "baseline_n",
    "baseline_accuracy",
    "rule_n",
    "rule_accuracy",
    "routed_failure_rate",
    "ece",
    "psi",
    "psi_score",
    "psi_label",
    "truth",
    "human_n",
    "actual_n",
    "human_actual_n",
    "human_actual_agreement",
)


def rollup_latest(*, project: Project, bucket: str, model_version: str) -> dict | None:
    """The most recent bucket of the version with labeled events, with its details."""
    found = metrics_series(
        project=project, bucket=bucket, model_version=model_version, labeled_only=True, last=True
    )
    return found[0] if found else None


def metrics_series(
    *,
    project: Project,
    bucket: str = "day",
    model_version: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    details: bool = True,
    labeled_only: bool = False,
    last: bool = False,
) -> list[dict]:
    rollups = Rollup.objects.filter(project_id=project.pk, bucket=bucket).select_related("version")
    if not details:
        rollups = rollups.defer("details")
    if model_version:
        rollups = rollups.filter(version__version=model_version)
    if since:
        rollups = rollups.filter(bucket_start__gte=since)
    if until:
        rollups = rollups.filter(bucket_start__lt=until)
    if labeled_only:
        rollups = rollups.filter(n__gt=0)
    rollups = rollups.order_by("version__first_seen_at", "version_id", "bucket_start")
    if last:
        rollups = rollups.reverse()[:1]
    series = []
    for rollup in rollups:
        figures = rollup.figures
        entry = {"model_version": rollup.version.version, "bucket_start": rollup.bucket_start}
        entry.update({name: figures.get(name) for name in SERIES_SCALARS})
        if details:
            for name in DETAILS:
                entry[name] = rollup.details.get(name)
        series.append(entry)
    return series
