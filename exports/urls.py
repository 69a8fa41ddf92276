from django.urls import include, path
from rest_framework.routers import SimpleRouter

from exports import api

router = SimpleRouter()
router.register("projects", api.ProjectDownloadViewSet, basename="project-download")

urlpatterns = [
    path("api/", include(router.urls)),
]
