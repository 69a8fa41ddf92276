"""The demo `make run` loads: users, and one project per family of labeling work.

- text classification: product reviews and their sentiment;
- NER with a comment: news sentences, people / organisations / places, a free-text comment;
- images: street scenes drawn with Pillow at setup, cars as boxes and road / lake as polygons;
- pairwise: two answers of a language model to one prompt, which is better.

Each loader creates (or finds) its project and items and returns a DemoProject with the answers
the demo annotators give to a few items; labeling.demo submits them (this package imports
nothing of labeling), so review and the dashboard have something to show. Re-running adds
nothing twice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction

from projects.items.create import items_create
from projects.label_schema import LabelSchema
from projects.members import membership_set
from projects.models import ImportJob, Membership, Project

DEMO_PROJECT = "Demo: product review sentiment"
DEMO_USERS = (
    # username, password, role, is_staff
    ("admin", "admin-quorum", Membership.Role.LEAD, True),
    ("anna", "anna-quorum", Membership.Role.ANNOTATOR, False),
    ("ben", "ben-quorum", Membership.Role.ANNOTATOR, False),
)
DEMO_ANNOTATORS = ("anna", "ben")
DEMO_SCHEMA = {
    "controls": [
        {
            "name": "sentiment",
            "kind": "choice",
            "source": "text",
            "labels": [
                {"value": "positive", "color": "#2e7d32", "hotkey": "1"},
                {"value": "negative", "color": "#c62828", "hotkey": "2"},
                {"value": "neutral", "color": "#616161", "hotkey": "3"},
            ],
        }
    ]
}
SKIP_REASONS = ["Not sure", "Not in a language I read", "Item is broken or empty"]
_PRODUCTS = ["headphones", "kettle", "backpack", "desk lamp", "phone case", "blender", "tent"]
_OPINIONS = [
    ("works better than I hoped", "positive"),
    ("broke after two days", "negative"),
    ("does what it says, nothing more", "neutral"),
    ("is the best purchase I made this year", "positive"),
    ("arrived late and scratched", "negative"),
    ("is fine for the price", "neutral"),
    ("stopped charging within a week", "negative"),
    ("looks great and feels solid", "positive"),
]
_ENDINGS = ["", " Would buy again.", " Returning it.", " Shipping was quick.", " Meh."]


@dataclass
class DemoProject:
    project: Project
    # (external id, username, result): what the demo annotators answer.
    answers: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)


def demo_texts(count: int, seed: int = 7) -> list[str]:
    return [text for text, _ in _demo_reviews(count, seed)]


def _demo_reviews(count: int, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    reviews = []
    for _ in range(count):
        opinion, sentiment = rng.choice(_OPINIONS)
        reviews.append((f"The {rng.choice(_PRODUCTS)} {opinion}.{rng.choice(_ENDINGS)}", sentiment))
    return reviews


def demo_users_load() -> dict[str, Any]:
    """The demo users by username (created once, with the passwords of DEMO_USERS)."""
    users = {}
    for username, password, _, is_staff in DEMO_USERS:
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": is_staff, "is_superuser": is_staff}
        )
        if created:
            user.set_password(password)
            user.save()
        users[username] = user
    return users


def _project_load(*, name: str, users: dict, rows: list[dict], **fields) -> Project:
    project, _ = Project.objects.get_or_create(
        name=name,
        defaults={
            **fields,
            "label_schema": LabelSchema(fields["label_schema"]).as_json(),
            "skip_reasons": SKIP_REASONS,
            "created_by": users["admin"],
        },
    )
    for username, _, role, _ in DEMO_USERS:
        membership_set(project=project, user=users[username], role=role)
    items_create(project=project, raw_rows=enumerate(rows, start=1))
    return project


@transaction.atomic
def demo_text_classification_load(*, users: dict, item_count: int = 300) -> DemoProject:
    """Reviews and their sentiment, two answers per item; ben reads some reviews differently."""
    reviews = _demo_reviews(item_count)
    project = _project_load(
        name=DEMO_PROJECT,
        users=users,
        rows=[
            {"external_id": f"demo-{n}", "data": {"text": text}}
            for n, (text, _) in enumerate(reviews, start=1)
        ],
        instructions="Read each review and pick its **sentiment**.\n\n"
        "- *positive*: the writer is happy\n- *negative*: unhappy\n- *neutral*: neither",
        label_schema=DEMO_SCHEMA,
        overlap=2,
        review_policy=Project.ReviewPolicy.DISAGREEMENTS,
    )
    answers = []
    for n, (_, sentiment) in enumerate(reviews[:12], start=1):
        answers.append((f"demo-{n}", "anna", {"sentiment": sentiment}))
        other = "neutral" if n % 4 == 0 and sentiment != "neutral" else sentiment
        answers.append((f"demo-{n}", "ben", {"sentiment": other}))
    return DemoProject(project=project, answers=answers)


def demo_load(*, item_count: int = 300) -> tuple[Project, list[tuple[str, str, str]]]:
    """The demo users and the text classification project (no answers: labeling.demo adds
    them); returns the project and (username, password, role) of each user."""
    demo = demo_text_classification_load(users=demo_users_load(), item_count=item_count)
    return demo.project, [(u, p, r) for u, p, r, _ in DEMO_USERS]


NER_SCHEMA = {
    "controls": [
        {
            "name": "entities",
            "kind": "spans",
            "source": "text",
            "labels": [
                {"value": "PER", "color": "#1565c0", "hotkey": "1"},
                {"value": "ORG", "color": "#ef6c00", "hotkey": "2"},
                {"value": "LOC", "color": "#2e7d32", "hotkey": "3"},
            ],
            "required": False,
        },
        {"name": "comment", "kind": "text", "source": "text", "required": False},
    ]
}
# Sentences and their entities (text, label): offsets are found in the text at setup.
_NER_SENTENCES = [
    (
        "Ada Lovelace wrote to Charles Babbage from London.",
        [("Ada Lovelace", "PER"), ("Charles Babbage", "PER"), ("London", "LOC")],
    ),
    ("Microsoft's new office in Dublin opens in May.", [("Microsoft", "ORG"), ("Dublin", "LOC")]),
    ("Grace Hopper joined the Navy during the war.", [("Grace Hopper", "PER"), ("Navy", "ORG")]),
    ("The Red Cross sent a team to Lagos on Monday.", [("Red Cross", "ORG"), ("Lagos", "LOC")]),
    (
        "Alan Turing worked at Bletchley Park for years.",
        [("Alan Turing", "PER"), ("Bletchley Park", "LOC")],
    ),
    (
        "UNICEF and Oxfam met the mayor of Lima.",
        [("UNICEF", "ORG"), ("Oxfam", "ORG"), ("Lima", "LOC")],
    ),
    (
        "Marie Curie taught at the University of Paris.",
        [("Marie Curie", "PER"), ("University of Paris", "ORG")],
    ),
    ("Toyota opened a plant near Kentucky in 1988.", [("Toyota", "ORG"), ("Kentucky", "LOC")]),
    (
        "Katherine Johnson computed orbits for NASA.",
        [("Katherine Johnson", "PER"), ("NASA", "ORG")],
    ),
    (
        "The Danube flows through Vienna and Budapest.",
        [("Danube", "LOC"), ("Vienna", "LOC"), ("Budapest", "LOC")],
    ),
]


def _spans(text: str, entities: list[tuple[str, str]]) -> list[dict]:
    spans, start = [], 0
    for piece, label in entities:
        at = text.index(piece, start)
        spans.append({"start": at, "end": at + len(piece), "label": label})
        start = at + len(piece)
    return spans


@transaction.atomic
def demo_ner_load(*, users: dict) -> DemoProject:
    """Named entities and a comment; ben misses the last entity of some sentences."""
    project = _project_load(
        name="Demo: named entities in the news",
        users=users,
        rows=[
            {"external_id": f"news-{n}", "data": {"text": text}}
            for n, (text, _) in enumerate(_NER_SENTENCES, start=1)
        ],
        instructions="Mark every **person** (PER), **organisation** (ORG) and **place** (LOC). "
        "Select the words, then press the label's key. Add a comment when a case is unclear.",
        label_schema=NER_SCHEMA,
        overlap=2,
        review_policy=Project.ReviewPolicy.DISAGREEMENTS,
    )
    answers = []
    for n, (text, entities) in enumerate(_NER_SENTENCES[:6], start=1):
        spans = _spans(text, entities)
        answers.append((f"news-{n}", "anna", {"entities": spans}))
        theirs = spans[:-1] if n % 2 == 0 else spans
        result: dict[str, Any] = {"entities": theirs}
        if n == 2:
            result["comment"] = "Is the possessive 's part of the organisation?"
        answers.append((f"news-{n}", "ben", result))
    return DemoProject(project=project, answers=answers)


IMAGE_SCHEMA = {
    "controls": [
        {
            "name": "vehicles",
            "kind": "boxes",
            "source": "image",
            "labels": [
                {"value": "car", "color": "#c62828", "hotkey": "1"},
                {"value": "bus", "color": "#f9a825", "hotkey": "2"},
            ],
        },
        {
            "name": "areas",
            "kind": "polygons",
            "source": "image",
            "labels": [
                {"value": "road", "color": "#546e7a", "hotkey": "3"},
                {"value": "lake", "color": "#1565c0", "hotkey": "4"},
            ],
        },
    ]
}
IMAGE_SIZE = (800, 500)
IMAGE_COUNT = 6


def _scene(n: int) -> dict:
    """Where scene n's things are, in image pixels (the picture and the answers agree)."""
    rng = random.Random(100 + n)
    road = [[0, 330], [800, 300], [800, 420], [0, 460]]
    lake = [[520 + dx, 60 + dy] for dx, dy in ((0, 40), (90, 0), (220, 30), (200, 140), (60, 150))]
    cars = []
    for k in range(1 + n % 3):
        x = 60 + 220 * k + rng.randint(0, 40)
        cars.append({"x": x, "y": 330 + rng.randint(0, 30), "width": 120, "height": 60})
    return {"road": road, "lake": lake, "cars": cars, "bus": n % 2 == 0}


def _scene_draw(n: int, path: Path) -> None:
    from PIL import Image, ImageDraw  # Pillow only when the demo images are drawn

    scene = _scene(n)
    image = Image.new("RGB", IMAGE_SIZE, "#cfe8cf")
    draw = ImageDraw.Draw(image)
    draw.polygon([tuple(p) for p in scene["road"]], fill="#8d99a3")
    draw.polygon([tuple(p) for p in scene["lake"]], fill="#64a6e8")
    for car in scene["cars"]:
        x, y, w, h = car["x"], car["y"], car["width"], car["height"]
        draw.rounded_rectangle([x, y, x + w, y + h], radius=12, fill="#c0392b")
        draw.ellipse([x + 12, y + h - 18, x + 40, y + h + 8], fill="#222")
        draw.ellipse([x + w - 40, y + h - 18, x + w - 12, y + h + 8], fill="#222")
    if scene["bus"]:
        draw.rectangle([620, 250, 780, 340], fill="#f1c40f")
        for wx in range(630, 770, 35):
            draw.rectangle([wx, 262, wx + 25, 285], fill="#dfefff")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


IMAGE_JOB_NAME = "demo street scenes"


@transaction.atomic
def demo_images_load(*, users: dict) -> DemoProject:
    """Street scenes: cars and buses as boxes, the road and a lake as polygons."""
    project = _project_load(
        name="Demo: street scenes",
        users=users,
        rows=[],
        instructions="Draw a **box** around every car and bus, and a **polygon** around the "
        "road and the lake. Choose the tool under *Draw*, or press a label's key.",
        label_schema=IMAGE_SCHEMA,
        overlap=2,
        review_policy=Project.ReviewPolicy.DISAGREEMENTS,
    )
    # The pictures belong to an import job of the project, as uploaded images do: the media
    # view serves a file to the members of the project whose job stored it.
    job, _ = ImportJob.objects.get_or_create(
        project=project,
        original_name=IMAGE_JOB_NAME,
        defaults={
            "status": ImportJob.Status.DONE,
            "format": "images",
            "created_by": users["admin"],
        },
    )
    rows = []
    for n in range(1, IMAGE_COUNT + 1):
        name = f"imports/{job.pk}/street-{n}.png"
        path = Path(settings.MEDIA_ROOT) / name
        if not path.exists():
            _scene_draw(n, path)
        rows.append(
            {
                "external_id": f"street-{n}",
                "data": {"image": f"{settings.MEDIA_URL}{name}"},
                "width": IMAGE_SIZE[0],
                "height": IMAGE_SIZE[1],
            }
        )
    items_create(project=project, raw_rows=enumerate(rows, start=1))
    ImportJob.objects.filter(pk=job.pk).update(created_count=project.items.count())
    answers = []
    for n in range(1, 4):
        scene = _scene(n)
        boxes = [{**car, "label": "car"} for car in scene["cars"]]
        if scene["bus"]:
            boxes.append({"x": 620, "y": 250, "width": 160, "height": 90, "label": "bus"})
        areas = [{"points": scene["road"], "label": "road"}]
        areas.append({"points": scene["lake"], "label": "lake"})
        answers.append((f"street-{n}", "anna", {"vehicles": boxes, "areas": areas}))
        # ben agrees on the first image; then his boxes are a little off, and he leaves out
        # the lake on one image.
        shift = 0 if n == 1 else 4
        nudged = [{**box, "x": box["x"] + shift, "y": box["y"] + shift} for box in boxes]
        answers.append(
            (f"street-{n}", "ben", {"vehicles": nudged, "areas": areas[: 1 if n == 2 else 2]})
        )
    return DemoProject(project=project, answers=answers)


PAIRWISE_SCHEMA = {
    "controls": [
        {"name": "better", "kind": "pairwise", "source": ["response_a", "response_b"]},
        {"name": "why", "kind": "text", "source": "prompt", "required": False},
    ]
}
_PAIRS = [
    (
        "Explain what a hash table is in one sentence.",
        "A hash table stores key-value pairs and finds a value quickly by turning its key into "
        "an index with a hash function.",
        "It is a table of hashes.",
        "a",
    ),
    (
        "Give a synonym for 'quick'.",
        "Fast.",
        "Rapid, swift or fast all work; 'fast' is the most common.",
        "b",
    ),
    (
        "What is the capital of Australia?",
        "Canberra.",
        "The capital of Australia is Canberra.",
        "tie",
    ),
    (
        "Write a haiku about rain.",
        "Soft rain on the roof / the gutters hum a low song / the street shines like glass",
        "Rain falls. It is wet. / I do not like the rain much. / The end of the poem.",
        "a",
    ),
    (
        "How many legs does a spider have?",
        "Spiders have six legs.",
        "Eight.",
        "b",
    ),
    (
        "Summarise: 'The meeting moved from Tuesday to Thursday at 3 pm.'",
        "The meeting is now on Thursday at 3 pm.",
        "There is a meeting.",
        "a",
    ),
]


@transaction.atomic
def demo_pairwise_load(*, users: dict) -> DemoProject:
    """Two answers of a model to the same prompt: which is better (or a tie)."""
    project = _project_load(
        name="Demo: compare two model answers",
        users=users,
        rows=[
            {
                "external_id": f"pair-{n}",
                "data": {"prompt": prompt, "response_a": a, "response_b": b},
            }
            for n, (prompt, a, b, _) in enumerate(_PAIRS, start=1)
        ],
        instructions="Read the prompt and both answers. Pick the answer that is **correct** and "
        "**helpful**; a tie when they are equally good. Say why when it is close.",
        label_schema=PAIRWISE_SCHEMA,
        overlap=2,
        review_policy=Project.ReviewPolicy.DISAGREEMENTS,
    )
    answers = []
    for n, (_, _, _, better) in enumerate(_PAIRS[:4], start=1):
        answers.append((f"pair-{n}", "anna", {"better": better}))
        theirs = {"better": "b" if n == 3 else better}
        if n == 3:
            theirs["why"] = "B says the whole sentence."
        answers.append((f"pair-{n}", "ben", theirs))
    return DemoProject(project=project, answers=answers)
