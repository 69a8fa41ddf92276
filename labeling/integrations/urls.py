from django.urls import include, path
from rest_framework.routers import SimpleRouter

from labeling.integrations import api, pages

router = SimpleRouter(use_regex_path=False)  # ids through the row_id converter
router.register("projects", api.ProjectWebhooksViewSet, basename="project-webhooks")
router.register("webhooks", api.WebhookViewSet, basename="webhook")
router.register("projects", api.ProjectStoragesViewSet, basename="project-storages")
router.register("storages", api.StorageViewSet, basename="storage")
router.register("projects", api.ProjectBackendsViewSet, basename="project-backends")
router.register("model-backends", api.BackendViewSet, basename="model-backend")

urlpatterns = [
    path("api/", include(router.urls)),
    path("projects/<row_id:pk>/integrations/", pages.integrations, name="integrations"),
    path(
        "projects/<row_id:pk>/integrations/panel/",
        pages.integrations_panel,
        name="integrations-panel",
    ),
    path("storages/<row_id:pk>/media/<path:key>", pages.storage_media, name="storage-media"),
    path("integrations/webhooks/", pages.global_webhooks, name="global-webhooks"),
    path("webhooks/<row_id:pk>/", pages.webhook_detail, name="webhook-detail"),
    path(
        "webhooks/<row_id:pk>/deliveries/<row_id:n>/redeliver/",
        pages.delivery_redeliver,
        name="webhook-redeliver",
    ),
]
