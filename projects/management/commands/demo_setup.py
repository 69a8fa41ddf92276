from django.core.management import call_command
from django.core.management.base import BaseCommand

from projects.demo import demo_load


class Command(BaseCommand):
    help = "Create the demo users and project (safe to run again)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000")

    def handle(self, *args, url, **options):
        project, users = demo_load()
        call_command("monitor_demo_setup", stdout=self.stdout)  # by name: labeling's command
        self.stdout.write(f"\nQuorum is starting on {url}/")
        self.stdout.write(f"Demo project: {project.name} ({project.items.count()} items)")
        for username, password, role in users:
            self.stdout.write(f"  login {username:<6} password {password:<14} ({role})")
        self.stdout.write(f"API docs: {url}/api/docs/\n")
