from django.urls import include, path
from rest_framework.routers import SimpleRouter

from labeling.web import api, pages, review_api, review_pages

router = SimpleRouter(use_regex_path=False)  # ids through the row_id converter
router.register("projects", api.QueueViewSet, basename="project-queue")
router.register("items", api.ItemViewSet, basename="item")
router.register("assignments", api.AssignmentViewSet, basename="assignment")
router.register("projects", review_api.ReviewQueueViewSet, basename="project-review")
router.register("items", review_api.ItemReviewViewSet, basename="item-review")

urlpatterns = [
    path("api/", include(router.urls)),
    path("projects/<row_id:pk>/label/", pages.workspace, name="workspace"),
    path("projects/<row_id:pk>/review/", review_pages.review, name="review"),
    path("projects/<row_id:pk>/dashboard/", review_pages.dashboard, name="dashboard"),
    path("projects/<row_id:pk>/history/", pages.history, name="labeling-history"),
    path("projects/<row_id:pk>/activity/", pages.project_activity_partial, name="project-activity"),
]
