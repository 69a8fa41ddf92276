"""Root URLs: each package brings its pages and API routes; auth and the API docs live here."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.templatetags.static import static as static_url
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.authtoken.views import obtain_auth_token

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The one-time set-password link leads make for new accounts (projects.members).
    path(
        "accounts/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    path("favicon.ico", lambda request: redirect(static_url("favicon.ico")), name="favicon"),
    path("api/auth/token/", obtain_auth_token, name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("labeling.datamanager.urls")),  # before projects: it serves .../items/
    path("", include("projects.urls")),
    path("", include("labeling.web.urls")),
    path("", include("labeling.monitor.urls")),
    path("", include("labeling.integrations.urls")),
    path("", include("exports.urls")),
] + static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# Styled error pages with the site's navigation (templates/403.html, 404.html, 500.html).
handler500 = "labeling.site.errors.server_error"
