from django.apps import AppConfig


class MonitorConfig(AppConfig):
    """Monitoring is its own app, so its models are its own: labeling.models (read by
    consensus and annotate) does not import them, and no lower layer of labeling imports
    monitoring at all (an import-linter contract)."""

    name = "labeling.monitor"
    label = "monitor"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Models are loaded only now (Django's ready() idiom): an event upload is an import job
        # whose rows the import machinery hands to monitoring through this registration.
        from labeling.monitor.uploads import EVENT_UPLOAD, TARGET
        from projects.imports.hooks import import_target_register

        import_target_register(TARGET, EVENT_UPLOAD)
