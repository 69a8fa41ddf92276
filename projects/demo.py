"""The demo project `make run` loads: users, a 3-class sentiment project and generated texts."""

import random

from django.contrib.auth import get_user_model
from django.db import transaction

from projects.items.create import items_create
from projects.label_schema import LabelSchema
from projects.members import membership_set
from projects.models import Membership, Project

DEMO_PROJECT = "Demo: product review sentiment"
DEMO_USERS = (
    # username, password, role, is_staff
    ("admin", "admin-quorum", Membership.Role.LEAD, True),
    ("anna", "anna-quorum", Membership.Role.ANNOTATOR, False),
    ("ben", "ben-quorum", Membership.Role.ANNOTATOR, False),
)
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
_PRODUCTS = ["headphones", "kettle", "backpack", "desk lamp", "phone case", "blender", "tent"]
_OPINIONS = [
    "works better than I hoped",
    "broke after two days",
    "does what it says, nothing more",
    "is the best purchase I made this year",
    "arrived late and scratched",
    "is fine for the price",
    "stopped charging within a week",
    "looks great and feels solid",
]
_ENDINGS = ["", " Would buy again.", " Returning it.", " Shipping was quick.", " Meh."]


def demo_texts(count: int, seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [
        f"The {rng.choice(_PRODUCTS)} {rng.choice(_OPINIONS)}.{rng.choice(_ENDINGS)}"
        for _ in range(count)
    ]


@transaction.atomic
def demo_load(*, item_count: int = 300) -> tuple[Project, list[tuple[str, str, str]]]:
    """Create (or find) the demo users and project; re-running adds nothing twice."""
    users = {}
    for username, password, role, is_staff in DEMO_USERS:
        user, created = get_user_model().objects.get_or_create(
            username=username, defaults={"is_staff": is_staff, "is_superuser": is_staff}
        )
        if created:
            user.set_password(password)
            user.save()
        users[username] = (user, role)
    project, _ = Project.objects.get_or_create(
        name=DEMO_PROJECT,
        defaults={
            "instructions": "Read each review and pick its **sentiment**.\n\n"
            "- *positive*: the writer is happy\n- *negative*: unhappy\n- *neutral*: neither",
            "label_schema": LabelSchema(DEMO_SCHEMA).as_json(),
            "overlap": 1,
            "created_by": users["admin"][0],
        },
    )
    for user, role in users.values():
        membership_set(project=project, user=user, role=role)
    rows = (
        (n, {"external_id": f"demo-{n}", "data": {"text": text}})
        for n, text in enumerate(demo_texts(item_count), start=1)
    )
    items_create(project=project, raw_rows=rows)
    return project, [(u, p, r) for u, p, r, _ in DEMO_USERS]
