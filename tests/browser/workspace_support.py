"""Helpers for the workspace browser tests: images on disk, projects, opening the workspace."""

from pathlib import Path

from django.conf import settings
from PIL import Image, ImageDraw

from projects.models import Membership
from tests.browser.conftest import login
from tests.factories import MembershipFactory, ProjectFactory, UserFactory


def png_create(name: str, width: int, height: int) -> str:
    """Draw a test picture under MEDIA_ROOT and return its URL."""
    path = Path(settings.MEDIA_ROOT) / "images" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    image = Image.new("RGB", (width, height), "#dfe7ef")
    draw = ImageDraw.Draw(image)
    for x in range(0, width, 100):
        draw.line([(x, 0), (x, height)], fill="#9fb3c8", width=1)
    for y in range(0, height, 100):
        draw.line([(0, y), (width, y)], fill="#9fb3c8", width=1)
    draw.rectangle([width // 5, height // 4, width // 2, height // 2], fill="#c0392b")
    draw.ellipse([width // 2, height // 2, width * 4 // 5, height * 9 // 10], fill="#2e86de")
    image.save(path)
    return f"{settings.MEDIA_URL}images/{name}"


def project_with_annotator(schema: dict, username: str = "anna", **fields):
    annotator = UserFactory(username=username)
    project = ProjectFactory(label_schema=schema, **fields)
    MembershipFactory(project=project, user=annotator, role=Membership.Role.ANNOTATOR)
    return project, annotator


def workspace_open(page, project, username: str = "anna", query: str = "") -> None:
    login(page, username)
    page.goto(f"/projects/{project.pk}/label/{query}")
    workspace_wait_ready(page)


def workspace_wait_ready(page) -> None:
    page.wait_for_function("document.getElementById('workspace').dataset.ready === 'true'")


def wait_for_next_item(page, item_id: int) -> None:
    """Until another item (or the empty queue) is shown, and its title with it."""
    page.wait_for_function(
        "id => { const ws = document.getElementById('workspace');"
        " return ws.dataset.ready === 'true' && ws.dataset.itemId !== String(id)"
        " && (!ws.dataset.itemId || ws.dataset.titled === 'true'); }",
        arg=item_id,
    )


def wait_for_draft_saved(page) -> None:
    page.wait_for_function("document.getElementById('workspace').dataset.draftState === 'saved'")
