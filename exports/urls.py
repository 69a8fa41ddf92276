from django.urls import include, path
from rest_framework.routers import SimpleRouter

from exports import api, media, views

router = SimpleRouter(use_regex_path=False)  # ids through the row_id converter
router.register("projects", api.ProjectExportViewSet, basename="project-download")
router.register("exports", api.ExportJobViewSet, basename="export")

urlpatterns = [
    path("api/", include(router.urls)),
    path("projects/<row_id:pk>/exports/", views.exports_panel, name="project-exports"),
    path("projects/<row_id:pk>/exports/jobs/", views.exports_list, name="project-export-jobs"),
    path("projects/<row_id:pk>/exports/start/", views.export_start, name="project-export-start"),
    path(
        "projects/<row_id:pk>/exports/selection/",
        views.export_selection_form,
        name="project-export-selection",
    ),
    path(
        "projects/<row_id:pk>/exports/selection/start/",
        views.export_selection_start,
        name="project-export-selection-start",
    ),
    path("media/<path:name>", media.media_serve, name="media"),
]
