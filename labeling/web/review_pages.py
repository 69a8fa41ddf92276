"""Pages for reviewers and leads: the review workspace and the quality dashboard (thin)."""

import json

from django.shortcuts import render

from labeling.quality.charts import bar_chart, heatmap, line_chart
from labeling.tasks import quality_report_served
from projects import access
from projects.models import Item
from projects.permissions import project_page


@project_page(access.REVIEWERS)
def review(request, pk):
    project = request.project
    config = {"projectId": project.pk, "schema": project.label_schema}
    item = request.GET.get("item", "")
    if item.isascii() and item.isdigit() and 0 < int(item) < 2**63:
        # From the data manager's item page: start at that item if it waits for review.
        config["startAfter"] = int(item) - 1
    return render(
        request, "labeling/review.html", {"project": project, "config_json": json.dumps(config)}
    )


def _control_charts(control: dict) -> dict:
    """The pictures for one control: agreement per label, and its confusion matrix if any."""
    rows = [
        (
            row["label"],
            row.get("krippendorff_alpha", row.get("span_f1_exact", row.get("f1_iou50"))),
        )
        for row in control.get("labels", [])
    ]
    measure = (
        "Krippendorff's alpha"
        if control["kind"] in ("choice", "pairwise", "multi")
        else "span F1 (exact)"
        if control["kind"] == "spans"
        else "matched F1 at IoU 0.5"
    )
    charts = {"measure": measure}
    if rows:
        charts["per_label"] = bar_chart(
            title=f"{control['name']}: {measure} per label", rows=rows, low=-1.0
        )
    confusion = control.get("consensus_confusion")
    if confusion and any(any(r) for r in confusion["matrix"]):
        charts["confusion"] = heatmap(
            title=f"{control['name']}: answers against the consensus",
            labels=confusion["labels"],
            matrix=confusion["matrix"],
        )
    return charts


@project_page(access.REVIEWERS)
def dashboard(request, pk):
    project = request.project
    quality = quality_report_served(project=project)
    if quality["computed_at"] is None:  # the first report is being computed by a worker
        return render(request, "labeling/dashboard_pending.html", {"project": project})
    progress = quality["progress"]
    progress_chart = line_chart(
        title="Progress over time",
        x_labels=[
            row["period"][:16].replace("T", " ") if row["unit"] != "day" else row["period"]
            for row in progress
        ],
        series=[
            ("annotations", [row["annotations_total"] for row in progress]),
            ("resolved items", [row["resolved_total"] for row in progress]),
        ],
    )
    controls = [{**control, "charts": _control_charts(control)} for control in quality["controls"]]
    # Each annotator's Dawid-Skene confusion matrix (P(answer | true label)), per choice control.
    annotator_confusions = [
        (
            row["username"],
            name,
            heatmap(
                title=f"{row['username']}: {name}",
                labels=confusion["labels"],
                matrix=confusion["matrix"],
                caption=f"{row['username']}: answer (columns) given the true label (rows)",
                number=".2f",
            ),
        )
        for row in quality["annotators"]
        for name, confusion in row.get("confusion", {}).items()
    ]
    return render(
        request,
        "labeling/dashboard.html",
        {
            "project": project,
            "quality": quality,
            "controls": controls,
            "progress_chart": progress_chart,
            "annotator_confusions": annotator_confusions,
            "status_counts": [
                (label, quality["project"]["status_counts"].get(value, 0))
                for value, label in Item.Status.choices
            ],
        },
    )
