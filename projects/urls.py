from django.urls import include, path
from rest_framework.routers import SimpleRouter

from projects import api, views

router = SimpleRouter(use_regex_path=False)  # ids through the row_id converter
router.register("projects", api.ProjectViewSet, basename="project")
router.register("imports", api.ImportJobViewSet, basename="import-job")
router.register("label-schema", api.LabelSchemaViewSet, basename="label-schema")
router.register("tokens", api.ApiTokenViewSet, basename="token")

urlpatterns = [
    path("api/", include(router.urls)),
    path("", views.project_list, name="project-list"),
    path("projects/new/", views.project_create, name="project-create"),
    path("projects/<row_id:pk>/", views.project_detail, name="project-detail"),
    path("projects/<row_id:pk>/settings/", views.project_settings, name="project-settings"),
    path("projects/<row_id:pk>/progress/", views.project_progress_partial, name="project-progress"),
    path("projects/<row_id:pk>/imports/", views.import_jobs_partial, name="project-import-jobs"),
    path("projects/<row_id:pk>/members/", views.project_member_add, name="project-member-add"),
    path(
        "projects/<row_id:pk>/members/<row_id:user_id>/role/",
        views.project_member_role,
        name="project-member-role",
    ),
    path(
        "projects/<row_id:pk>/members/<row_id:user_id>/remove/",
        views.project_member_remove,
        name="project-member-remove",
    ),
    path(
        "projects/<row_id:pk>/accounts/",
        views.project_account_create,
        name="project-account-create",
    ),
    path("projects/<row_id:pk>/upload/", views.project_upload, name="project-upload"),
    path("account/tokens/", views.api_tokens_page, name="api-tokens"),
    path(
        "account/tokens/<row_id:pk>/revoke/", views.api_token_revoke_view, name="api-token-revoke"
    ),
    path("imports/<row_id:pk>/cancel/", views.import_job_cancel_view, name="import-job-cancel"),
]
