"""The annotator's workspace page (the widgets themselves are ES modules under static/js/)."""

import json

import markdown
import nh3
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from labeling.annotate.history import (
    annotation_can_edit,
    annotation_own,
    annotations_of_annotator,
    answer_rendered,
    item_preview,
    item_waiting_for,
)
from labeling.quality.activity import project_activity
from projects import access
from projects.api import ItemSerializer
from projects.items.titles import item_title_of
from projects.label_schema import LabelSchema
from projects.media import MediaLinks
from projects.models import Item, Project
from projects.permissions import project_page

HISTORY_PAGE_SIZE = 25


def instructions_html(text: str) -> str:
    """Markdown to HTML, sanitised: instructions are written by leads but shown to everyone."""
    return nh3.clean(markdown.markdown(text or "", extensions=["extra"]))


def _edit_config(request, project: Project) -> dict | None:
    """With ?item=<id>, the workspace reopens the annotator's own answer to that item."""
    item_id = request.GET.get("item", "")
    if not item_id.isdigit():
        return None
    item = get_object_or_404(Item, pk=int(item_id), project=project)
    annotation = annotation_own(item=item, annotator=request.user)
    if annotation is None:
        return None
    return {
        "item": {**ItemSerializer(item).data, "title": item_title_of(item)},
        "result": annotation.result,
        "canEdit": annotation_can_edit(annotation=annotation),
    }


@project_page(access.LABELERS)
def workspace(request, pk):
    project = request.project
    config = {
        "projectId": project.pk,
        "schema": project.label_schema,
        "prefillPredictions": project.prefill_predictions,
        "skipReasons": project.skip_reasons,
        "historyUrl": reverse("labeling-history", args=[project.pk]),
        "edit": _edit_config(request, project),
    }
    return render(
        request,
        "labeling/workspace.html",
        {
            "project": project,
            "instructions": instructions_html(project.instructions).strip(),
            "config_json": json.dumps(config),
        },
    )


@project_page(access.LABELERS)
def history(request, pk):
    """The annotator's own answers, newest first, each reopenable until its item is resolved."""
    project = request.project
    annotations = annotations_of_annotator(project=project, annotator=request.user)
    page = Paginator(annotations, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    schema = LabelSchema(project.label_schema)
    links = MediaLinks(project.pk)
    rows = [
        {
            "annotation": annotation,
            "title": item_title_of(annotation.item),
            "preview": item_preview(schema=schema, data=links.data(annotation.item.data)),
            "answer": answer_rendered(
                schema=schema, result=annotation.result, data=annotation.item.data
            ),
            "waiting_for": item_waiting_for(annotation.item, project.overlap),
            "can_edit": annotation_can_edit(annotation=annotation),
        }
        for annotation in page
    ]
    return render(
        request, "labeling/history.html", {"project": project, "page": page, "rows": rows}
    )


@project_page(access.REVIEWERS)
def project_activity_partial(request, pk):
    """The project page's live panel (htmx polls it): items by state, who works, what is held."""
    project = request.project
    context = {"project": project, **project_activity(project=project)}
    return render(request, "labeling/_activity.html", context)
