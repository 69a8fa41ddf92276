"""The demo annotators' answers (projects.demo plans them; submitting them is labeling's work),
so that `make run` opens on projects with resolved items, items in review and a dashboard."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from labeling.annotate.submit import annotation_submit
from labeling.models import Annotation
from projects.demo import DemoProject
from projects.models import Item


def demo_answers_submit(*, demo: DemoProject) -> int:
    """Submit the planned answers not given yet (re-running adds none); returns how many."""
    users = {
        u.username: u
        for u in get_user_model().objects.filter(
            username__in={username for _, username, _ in demo.answers}
        )
    }
    items = {
        item.external_id: item
        for item in Item.objects.filter(
            project=demo.project, external_id__in={eid for eid, _, _ in demo.answers}
        ).select_related("project")
    }
    given = set(
        Annotation.objects.filter(item__in=items.values()).values_list(
            "item__external_id", "annotator__username"
        )
    )
    submitted = 0
    for external_id, username, result in demo.answers:
        if (external_id, username) in given:
            continue
        annotation_submit(item=items[external_id], annotator=users[username], result=result)
        submitted += 1
    return submitted
