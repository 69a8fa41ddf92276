from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Once an import is done its items are given their search words, in a worker.
        from projects.imports.hooks import import_finished_register
        from projects.tasks import items_search_index_after_import

        import_finished_register(items_search_index_after_import)
