"""Site wiring: settings, root URLs, the Celery app and the WSGI entry point."""

from labeling.site.celery import app as celery_app

__all__ = ["celery_app"]
