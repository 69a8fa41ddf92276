"""Model health pages for leads and reviewers (server-rendered, readable without JavaScript).

They read rollups, alerts and labeled events only (never the events table), except the rule
editor's dry run, which a lead asks for on purpose.
"""

from __future__ import annotations

import json

from django.db.models import F, Q
from django.shortcuts import get_object_or_404, redirect, render

from labeling.monitor.api import RuleSerializer
from labeling.monitor.charts import band_chart, reliability_chart
from labeling.monitor.models import Alert, LabeledEvent, ModelVersion, RoutingRule
from labeling.monitor.rollups import (
    BUCKETS,
    metrics_series,
    monitor_settings_for,
    rollup_latest,
)
from labeling.monitor.rules import DRY_RUN_MAX_DAYS, rule_dry_run
from labeling.quality.charts import heatmap
from projects import access
from projects.permissions import project_page

RECENT_FAILURES = 20
TABLE_ROWS = 60


def _label(moment, bucket: str) -> str:
    return moment.strftime("%Y-%m-%d %H:00" if bucket == "hour" else "%Y-%m-%d")


def _points(rows: list[dict], starts: list, keys: tuple[str, str, str]) -> list[tuple]:
    by_start = {row["bucket_start"]: row for row in rows}
    points = []
    for start in starts:
        row = by_start.get(start)
        points.append(tuple(row.get(k) for k in keys) if row else (None, None, None))
    return points


@project_page(access.REVIEWERS)
def model_health(request, pk):
    project = request.project
    bucket = request.GET.get("bucket", "day")
    if bucket not in BUCKETS:
        bucket = "day"
    versions = list(ModelVersion.objects.filter(project=project))
    chosen = request.GET.get("version") or (versions[-1].version if versions else "")
    series = metrics_series(project=project, bucket=bucket, details=False)
    starts = sorted({row["bucket_start"] for row in series})
    x_labels = [_label(s, bucket) for s in starts]
    config = monitor_settings_for(project)
    accuracy_lines = []
    for version in versions:
        rows = [r for r in series if r["model_version"] == version.version]
        if not rows:
            continue
        accuracy_lines.append(
            (
                f"{version.version}: weighted",
                _points(rows, starts, ("weighted_accuracy", "weighted_ci_low", "weighted_ci_high")),
            )
        )
        if version.version == chosen:
            accuracy_lines.append(
                (
                    f"{version.version}: as sampled",
                    _points(rows, starts, ("accuracy", "ci_low", "ci_high")),
                )
            )
    psi_lines = [
        (
            version.version,
            [
                (p[0], None, None)
                for p in _points(
                    [r for r in series if r["model_version"] == version.version],
                    starts,
                    ("psi", "psi", "psi"),
                )
            ],
        )
        for version in versions
    ]
    psi_peak = max([r["psi"] for r in series if r["psi"] is not None] + [0.5])
    latest = rollup_latest(project=project, bucket=bucket, model_version=chosen)
    confusion_chart = None
    if latest and latest["confusion"]:
        labels = sorted(
            set(latest["confusion"]) | {p for row in latest["confusion"].values() for p in row}
        )
        confusion_chart = heatmap(
            title="Confusion matrix",
            labels=labels,
            matrix=[[latest["confusion"].get(t, {}).get(p, 0) for p in labels] for t in labels],
            caption="predicted (columns) vs true label (rows)",
        )
    truth_missing = Q(human="") & Q(actual="")
    failures = (
        LabeledEvent.objects.filter(project_id=project.pk, routed_by_rule=True)
        .exclude(truth_missing)
        .exclude(Q(human=F("predicted")) | (Q(human="") & Q(actual=F("predicted"))))
        .select_related("version", "event")
        .order_by("-timestamp")[:RECENT_FAILURES]
    )
    context = {
        "project": project,
        "bucket": bucket,
        "buckets": list(BUCKETS),
        "versions": versions,
        "chosen": chosen,
        # The table shows the latest buckets (720 hours of a month would bury the page); the
        # chart and the JSON have them all.
        "series": [r for r in series if r["model_version"] == chosen][-TABLE_ROWS:],
        "table_rows": TABLE_ROWS,
        "latest": latest,
        "config": config,
        "accuracy_chart": band_chart(
            title="Accuracy per model version (95% CI bands)",
            x_labels=x_labels,
            series=accuracy_lines,
            threshold=config.accuracy_alert_below,
        )
        if starts
        else None,
        "drift_chart": band_chart(
            title="Drift (PSI) per model version",
            x_labels=x_labels,
            series=psi_lines,
            y_max=psi_peak,
            threshold=config.psi_alert_above,
        )
        if starts
        else None,
        "calibration_chart": reliability_chart(
            title="Reliability diagram", bins=latest["calibration"]
        )
        if latest
        else None,
        "confusion_chart": confusion_chart,
        "classes": sorted((latest or {}).get("classes", {}).items()),
        "failures": failures,
        "alerts": Alert.objects.filter(project=project).select_related("version")[:50],
    }
    return render(request, "labeling/monitor/health.html", context)


@project_page(access.LEAD_ONLY)
def rule_editor(request, pk):
    project = request.project
    errors, form = None, {}
    if request.method == "POST":
        form = request.POST
        rule = None
        if form.get("rule"):
            rule = get_object_or_404(RoutingRule, project=project, pk=form["rule"])
        if form.get("action") == "toggle" and rule is not None:
            rule.is_active = not rule.is_active
            rule.save(update_fields=["is_active"])
            return redirect("monitor-rules-page", pk=project.pk)
        if form.get("action") == "delete" and rule is not None:
            rule.delete()
            return redirect("monitor-rules-page", pk=project.pk)
        try:
            condition = json.loads(form.get("condition") or "{}")
        except json.JSONDecodeError as exc:
            errors = {"condition": [f"not JSON: {exc.msg}"]}
        else:
            data = {
                "name": form.get("name", ""),
                "condition": condition,
                "sample_rate": form.get("sample_rate") or 1.0,
                "cap_per_day": form.get("cap_per_day") or None,
                "cap_per_hour": form.get("cap_per_hour") or None,
                "priority": form.get("priority") or 0,
                "is_active": form.get("is_active") == "on",
            }
            serializer = RuleSerializer(rule, data=data)
            if serializer.is_valid():
                saved = serializer.save(project=project)
                return redirect(f"/projects/{project.pk}/monitor/rules/?dry_run={saved.pk}&days=7")
            errors = serializer.errors
    dry_run = None
    if request.GET.get("dry_run"):
        rule = get_object_or_404(RoutingRule, project=project, pk=request.GET["dry_run"])
        days = request.GET.get("days", "7")
        days = int(days) if days.isdigit() and 1 <= int(days) <= DRY_RUN_MAX_DAYS else 7
        dry_run = {"rule": rule, **rule_dry_run(rule=rule, days=days)}
    rules = RoutingRule.objects.filter(project=project)
    context = {
        "project": project,
        "rules": [(rule, json.dumps(rule.condition)) for rule in rules],
        "errors": errors,
        "form": form,
        "dry_run": dry_run,
        "days_shown": dry_run["days"] if dry_run else 7,  # the boxes offer the days last asked
        "max_days": DRY_RUN_MAX_DAYS,
        "example": json.dumps({"all": [{"field": "score", "op": "<", "value": 0.6}]}),
    }
    return render(request, "labeling/monitor/rules.html", context, status=400 if errors else 200)
