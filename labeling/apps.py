from django.apps import AppConfig


class LabelingConfig(AppConfig):
    name = "labeling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Models are loaded only now, so the store is imported here (Django's ready() idiom):
        # imports of projects/ hand carried annotations to labeling through this registration.
        from labeling.annotate.imported import imported_annotations_store
        from projects.imports.hooks import annotations_store_register

        annotations_store_register(imported_annotations_store)
