"""The data manager's routes. Included before projects.urls: `/api/projects/{id}/items/` is
served here for both the table (GET) and adding items (POST)."""

from django.urls import include, path
from rest_framework.routers import SimpleRouter

from labeling.datamanager import api, pages

router = SimpleRouter(use_regex_path=False)  # ids through the row_id converter
router.register("item-bulk-jobs", api.ItemBulkJobViewSet, basename="item-bulk-job")

item_table = api.ItemTableViewSet.as_view({"get": "table", "post": "create"})
item_bulk = api.ItemTableViewSet.as_view({"get": "bulk_jobs", "post": "bulk"})

urlpatterns = [
    path("api/projects/<row_id:pk>/items/", item_table, name="project-item-table"),
    path("api/projects/<row_id:pk>/items/bulk/", item_bulk, name="project-item-bulk"),
    path("api/", include(router.urls)),
    path("projects/<row_id:pk>/items/", pages.items_page, name="data-manager"),
    path("projects/<row_id:pk>/items/bulk/", pages.bulk_start, name="data-manager-bulk"),
    path(
        "projects/<row_id:pk>/items/bulk/<row_id:job_id>/",
        pages.bulk_job_partial,
        name="data-manager-bulk-job",
    ),
    path("projects/<row_id:pk>/items/<row_id:item_id>/", pages.item_page, name="data-manager-item"),
]
