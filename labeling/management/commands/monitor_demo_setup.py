from django.core.management.base import BaseCommand

from labeling.monitor.demo import monitor_demo_load


class Command(BaseCommand):
    help = "Create the model monitoring demo project (after demo_setup; safe to run again)."

    def handle(self, *args, **options):
        project = monitor_demo_load()
        if project is not None:
            self.stdout.write(
                f"Monitoring demo: {project.name}, model health at /projects/{project.pk}/monitor/"
            )
