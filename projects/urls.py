from django.urls import include, path
from rest_framework.routers import SimpleRouter

from projects import api, views

router = SimpleRouter(use_regex_path=False)  # ids through the row_id converter
router.register("projects", api.ProjectViewSet, basename="project")
router.register("imports", api.ImportJobViewSet, basename="import-job")
router.register("label-schema", api.LabelSchemaViewSet, basename="label-schema")

urlpatterns = [
    path("api/", include(router.urls)),
    path("", views.project_list, name="project-list"),
    path("projects/new/", views.project_create, name="project-create"),
    path("projects/<int:pk>/", views.project_detail, name="project-detail"),
    path("projects/<int:pk>/settings/", views.project_settings, name="project-settings"),
    path("projects/<int:pk>/progress/", views.project_progress_partial, name="project-progress"),
    path("projects/<int:pk>/imports/", views.import_jobs_partial, name="project-import-jobs"),
    path("projects/<int:pk>/members/", views.project_member_add, name="project-member-add"),
    path(
        "projects/<int:pk>/members/<int:user_id>/role/",
        views.project_member_role,
        name="project-member-role",
    ),
    path(
        "projects/<int:pk>/members/<int:user_id>/remove/",
        views.project_member_remove,
        name="project-member-remove",
    ),
    path(
        "projects/<int:pk>/accounts/", views.project_account_create, name="project-account-create"
    ),
    path("projects/<int:pk>/upload/", views.project_upload, name="project-upload"),
    path("imports/<int:pk>/cancel/", views.import_job_cancel_view, name="import-job-cancel"),
]
