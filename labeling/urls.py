from django.urls import include, path
from rest_framework.routers import SimpleRouter

from labeling import api, views

router = SimpleRouter()
router.register("projects", api.QueueViewSet, basename="project-queue")
router.register("items", api.ItemViewSet, basename="item")
router.register("assignments", api.AssignmentViewSet, basename="assignment")

urlpatterns = [
    path("api/", include(router.urls)),
    path("projects/<int:pk>/label/", views.workspace, name="workspace"),
    path("projects/<int:pk>/history/", views.history, name="labeling-history"),
]
