"""The workspace and history pages: who may open them, and what they hand to the JavaScript."""

import json
import re
from html import unescape

import pytest

from labeling.annotate.submit import annotation_submit
from projects.models import Item, Membership
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def workspace_config(response) -> dict:
    match = re.search(r'data-config="([^"]*)"', response.content.decode())
    return json.loads(unescape(match.group(1)))


def test_workspace_hands_the_schema_and_settings_to_the_page(client, project, annotator):
    project.prefill_predictions = True
    project.instructions = "Read **carefully**. <script>alert(1)</script>"
    project.save()
    client.force_login(annotator)
    response = client.get(f"/projects/{project.pk}/label/")
    assert response.status_code == 200
    config = workspace_config(response)
    assert config["schema"] == project.label_schema
    assert config["prefillPredictions"] is True
    assert config["edit"] is None
    assert config["historyUrl"] == f"/projects/{project.pk}/history/"
    page = response.content.decode()
    assert "<strong>carefully</strong>" in page
    assert "<script>alert(1)</script>" not in page


def test_workspace_reopens_only_the_callers_own_answer(client, project, annotator):
    item = ItemFactory(project=project, data={"text": "<b>bold</b> & more"})
    project.overlap = 2
    project.save()
    annotation_submit(item=item, annotator=annotator, result={"sentiment": "neutral"})
    client.force_login(annotator)
    config = workspace_config(client.get(f"/projects/{project.pk}/label/?item={item.pk}"))
    assert config["edit"]["result"] == {"sentiment": "neutral"}
    assert config["edit"]["item"]["data"] == {"text": "<b>bold</b> & more"}
    assert config["edit"]["canEdit"] is True

    other = UserFactory(username="other")
    MembershipFactory(project=project, user=other, role=Membership.Role.ANNOTATOR)
    client.force_login(other)
    config = workspace_config(client.get(f"/projects/{project.pk}/label/?item={item.pk}"))
    assert config["edit"] is None


def test_history_lists_the_callers_answers_and_which_may_change(client, project, annotator):
    project.overlap = 2
    project.save()
    mine, resolved = ItemFactory(project=project), ItemFactory(project=project)
    for item in (mine, resolved):
        annotation_submit(item=item, annotator=annotator, result={"sentiment": "positive"})
    Item.objects.filter(pk=resolved.pk).update(status=Item.Status.RESOLVED)
    someone = UserFactory(username="someone")
    MembershipFactory(project=project, user=someone, role=Membership.Role.ANNOTATOR)
    theirs = ItemFactory(project=project)
    annotation_submit(item=theirs, annotator=someone, result={"sentiment": "negative"})

    client.force_login(annotator)
    page = client.get(f"/projects/{project.pk}/history/").content.decode()
    assert f'data-item-id="{mine.pk}"' in page
    assert f'data-item-id="{resolved.pk}"' in page
    assert f'data-item-id="{theirs.pk}"' not in page
    assert page.count("Change answer") == 1
    assert f"?item={mine.pk}" in page


def test_outsiders_cannot_open_the_pages(client, project):
    outsider = UserFactory(username="outsider")
    client.force_login(outsider)
    # the project is not there for them (issue 18): 404
    assert client.get(f"/projects/{project.pk}/label/").status_code == 404
    assert client.get(f"/projects/{project.pk}/history/").status_code == 404
    other_project = ProjectFactory()
    assert client.get(f"/projects/{other_project.pk}/history/").status_code == 404
