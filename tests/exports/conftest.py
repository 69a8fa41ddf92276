"""Projects with real labeled data for the export tests: text (choice, spans, multi) and images
(boxes, polygons) drawn with Pillow into the test's media storage."""

from __future__ import annotations

import io
from collections import Counter
from dataclasses import dataclass

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image, ImageDraw

from exports.labels import control_labels
from labeling.models import Annotation, Resolution
from projects.label_schema import LabelSchema
from projects.models import ImportJob, Item, Membership, Prediction, Project
from tests.factories import MembershipFactory, UserFactory

TEXT_SCHEMA = {
    "controls": [
        {
            "name": "sentiment",
            "kind": "choice",
            "source": "text",
            "labels": ["positive", "negative", "neutral"],
        },
        {
            "name": "entities",
            "kind": "spans",
            "source": "text",
            "labels": ["PER", "ORG", "LOC"],
            "required": False,
        },
        {
            "name": "topics",
            "kind": "multi",
            "source": "text",
            "labels": ["business", "travel"],
            "required": False,
        },
    ]
}
IMAGE_SCHEMA = {
    "controls": [
        {"name": "objects", "kind": "boxes", "source": "image", "labels": ["car", "person"]},
        {
            "name": "regions",
            "kind": "polygons",
            "source": "image",
            "labels": ["road"],
            "required": False,
        },
    ]
}
SENTENCES = [
    (
        "Maria Lopez joined Brightwave Labs in Lisbon last spring.",
        [(0, 11, "PER"), (19, 34, "ORG"), (38, 44, "LOC")],
    ),
    (
        "The Harbor Council in Port Elgin rejected the bridge plan.",
        [(4, 18, "ORG"), (22, 32, "LOC")],
    ),
    ("Zoë Haddad, director of Castlereach's museum, said yes!", [(0, 10, "PER"), (24, 35, "LOC")]),
    ("Nothing to tag here, really.", []),
]


@dataclass
class Labeled:
    project: Project
    items: list[Item]
    annotators: list


def _spans(text: str, spans) -> list[dict]:
    return [{"start": s, "end": e, "label": label} for s, e, label in spans]


def item_resolve_with(item: Item, results: list[dict], annotators: list, final: dict | None):
    """Store annotations as the workspace would and, when `final` is given, the resolution."""
    for annotator, result in zip(annotators, results, strict=False):
        Annotation.objects.create(
            project=item.project, item=item, annotator=annotator, result=result, lead_time=12.5
        )
    item.annotation_count = len(results)
    if final is not None:
        method = Resolution.Method.UNANIMOUS if len(results) > 1 else Resolution.Method.SINGLE
        Resolution.objects.create(
            item=item, result=final, method=method, agreement=1.0 if len(results) > 1 else None
        )
        item.status = Item.Status.RESOLVED
    else:
        item.status = Item.Status.LABELED if results else Item.Status.OPEN
    item.save()


@pytest.fixture
def second_annotator(db, project):
    user = UserFactory(username="ann2")
    MembershipFactory(project=project, user=user, role=Membership.Role.ANNOTATOR)
    return user


@pytest.fixture
def text_project(project, annotator, second_annotator) -> Labeled:
    """12 items: 10 resolved by two agreeing annotators, 1 labeled only, 1 open; gold and
    predictions on some."""
    project.label_schema = TEXT_SCHEMA
    project.overlap = 2
    project.save()
    LabelSchema(TEXT_SCHEMA)  # the fixture itself must answer the contract
    sentiments = [
        "positive",
        "negative",
        "neutral",
        "positive",
        "positive",
        "negative",
        "positive",
        "neutral",
        "negative",
        "positive",
        "neutral",
        "positive",
    ]
    items = []
    for n, sentiment in enumerate(sentiments):
        text, spans = SENTENCES[n % len(SENTENCES)]
        item = Item.objects.create(
            project=project, external_id=f"t-{n:02d}", data={"text": text, "meta": {"n": n}}
        )
        result = {"sentiment": sentiment, "entities": _spans(text, spans)}
        if n % 3 == 0:
            result["topics"] = ["business", "travel"] if n % 2 else ["business"]
        LabelSchema(TEXT_SCHEMA).validate(result, data=item.data)
        if n < 10:
            item_resolve_with(item, [result, result], [annotator, second_annotator], result)
        elif n == 10:
            item_resolve_with(item, [result], [annotator], None)
        if n % 4 == 0:
            item.gold = result
            item.save(update_fields=["gold"])
        if n % 5 == 0:
            Prediction.objects.create(
                item=item, model_version="v1", result={"sentiment": sentiment}, score=0.75
            )
        items.append(item)
    return Labeled(project, items, [annotator, second_annotator])


def image_bytes(width: int, height: int, colour: str) -> bytes:
    image = Image.new("RGB", (width, height), colour)
    ImageDraw.Draw(image).rectangle([10, 10, width // 2, height // 2], outline="white", width=3)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def image_project(project, annotator) -> Labeled:
    """5 images in storage, stored by an import of the project as imports store them (one
    referenced by remote URL only), 4 resolved with boxes/polygons."""
    project.label_schema = IMAGE_SCHEMA
    project.save()
    schema = LabelSchema(IMAGE_SCHEMA)
    job = ImportJob.objects.create(project=project, status=ImportJob.Status.DONE)
    sizes = [(320, 240), (400, 300), (256, 256), (200, 150), (640, 480)]
    items = []
    for n, (width, height) in enumerate(sizes):
        name = f"imports/{job.pk}/street-{n}.png"
        default_storage.save(
            name,
            ContentFile(image_bytes(width, height, ["red", "blue", "green", "gray", "black"][n])),
        )
        reference = f"/media/{name}" if n != 3 else "https://images.example.com/street-3.png"
        item = Item.objects.create(
            project=project,
            external_id=f"img-{n}",
            data={"image": reference},
            width=width,
            height=height,
        )
        result = {
            "objects": [
                {"x": 12.0, "y": 40.5, "width": 100.0, "height": 80.0, "label": "car"},
                {"x": width - 50.0, "y": 20.0, "width": 30.0, "height": 60.0, "label": "person"},
            ][: 1 + n % 2],
        }
        if n % 2 == 0:
            result["regions"] = [
                {
                    "points": [
                        [0, height - 10],
                        [width / 2, height - 40],
                        [width - 1, height - 10],
                    ],
                    "label": "road",
                }
            ]
        schema.validate(result, width=width, height=height)
        if n < 4:
            item_resolve_with(item, [result], [annotator], result)
        items.append(item)
    return Labeled(project, items, [annotator])


def database_label_counts(project: Project) -> dict[str, Counter]:
    """Label occurrences in the final results of the project's resolved items, from the rows."""
    schema = LabelSchema(project.label_schema)
    counts: dict[str, Counter] = {}
    for result in Resolution.objects.filter(
        item__project=project, is_current=True, item__status=Item.Status.RESOLVED
    ).values_list("result", flat=True):
        for control in schema.controls:
            labels = control_labels(control, result.get(control.name))
            if labels:
                counts.setdefault(control.name, Counter()).update(labels)
    return counts
