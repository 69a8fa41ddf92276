from django.apps import AppConfig


class MonitorConfig(AppConfig):
    """Monitoring is its own app, so its models are its own: labeling.models (read by
    consensus and annotate) does not import them, and no lower layer of labeling imports
    monitoring at all (an import-linter contract)."""

    name = "labeling.monitor"
    label = "monitor"
    default_auto_field = "django.db.models.BigAutoField"
