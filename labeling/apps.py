from django.apps import AppConfig


class LabelingConfig(AppConfig):
    name = "labeling"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Models are loaded only now, so the store is imported here (Django's ready() idiom):
        # imports of projects/ hand carried annotations to labeling through this registration.
        from labeling.annotate.imported import imported_annotations_store
        from labeling.tasks import consensus_refit_after_import
        from projects.imports.hooks import annotations_store_register, import_finished_register

        annotations_store_register(imported_annotations_store)
        import_finished_register(consensus_refit_after_import)

        # Schema changes (projects.schema_change) count and migrate the results stored here.
        from labeling.models import Annotation, Draft, Resolution
        from projects.schema_change import ResultRows, result_rows_register

        def labeling_result_rows(project):
            return [
                ResultRows("answers", Annotation.objects.filter(project=project)),
                ResultRows("drafts", Draft.objects.filter(item__project=project)),
                ResultRows("resolutions", Resolution.objects.filter(item__project=project)),
            ]

        result_rows_register(labeling_result_rows)

        # The members table shows each member's last activity and answers.
        from labeling.quality.activity import member_activity
        from projects.members import member_activity_register

        member_activity_register(member_activity)

        # Events of projects/ (and of the layers above) reach webhooks, backends and storages.
        from labeling.integrations.events import integrations_listener
        from projects.event_hooks import event_listener_register

        event_listener_register(integrations_listener)
