"""`make run`'s demo: users and one project per family, a few items answered in each.

Here rather than in projects/ because answering items is labeling's work (projects imports
nothing of labeling). Each demo is one call in handle(); a new demo adds its own line.
"""

from django.core.management.base import BaseCommand

from labeling.annotate.demo import demo_answers_submit
from projects.demo import (
    DEMO_USERS,
    demo_images_load,
    demo_ner_load,
    demo_pairwise_load,
    demo_text_classification_load,
    demo_users_load,
)


class Command(BaseCommand):
    help = "Create the demo users and projects, with a few answers (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000")

    def handle(self, *args, url, **options):
        users = demo_users_load()
        self.stdout.write(f"\nQuorum is starting on {url}/")
        self.demo(demo_text_classification_load(users=users))
        self.demo(demo_ner_load(users=users))
        self.demo(demo_images_load(users=users))
        self.demo(demo_pairwise_load(users=users))
        for username, password, role, _ in DEMO_USERS:
            self.stdout.write(f"  login {username:<6} password {password:<14} ({role})")
        self.stdout.write(
            f"API tokens: make one at {url}/account/tokens/ once logged in, or with"
            f" POST {url}/api/auth/token/ (username, password)"
        )
        self.stdout.write(f"API docs: {url}/api/docs/\n")

    def demo(self, demo) -> None:
        """Answer the demo's planned items and say what it holds."""
        demo_answers_submit(demo=demo)
        project = demo.project
        self.stdout.write(
            f"Demo project: {project.name} ({project.items.count()} items, "
            f"{project.items.exclude(status='open').count()} answered by the demo annotators)"
        )
