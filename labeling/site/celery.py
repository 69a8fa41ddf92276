"""The Celery app. Without CELERY_BROKER_URL, tasks run in-process (settings set always-eager)."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "labeling.site.settings")

app = Celery("quorum")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Concern folders keep their own tasks modules (autodiscovery looks only at <app>.tasks).
app.autodiscover_tasks(["labeling.datamanager", "labeling.integrations", "labeling.monitor"])
