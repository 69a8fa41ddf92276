"""The annotator's workspace page (the widgets themselves are ES modules under static/js/)."""

import json

import markdown
import nh3
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from projects import access
from projects.models import Project


def instructions_html(text: str) -> str:
    """Markdown to HTML, sanitised: instructions are written by leads but shown to everyone."""
    return nh3.clean(markdown.markdown(text or "", extensions=["extra"]))


@login_required
def workspace(request, pk):
    project = get_object_or_404(Project, pk=pk)
    access.project_check_role(user=request.user, project=project, allowed=access.LABELERS)
    config = {"projectId": project.pk, "schema": project.label_schema}
    return render(
        request,
        "labeling/workspace.html",
        {
            "project": project,
            "instructions": instructions_html(project.instructions),
            "config_json": json.dumps(config),
        },
    )
