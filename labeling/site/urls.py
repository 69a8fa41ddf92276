"""Root URLs: each package brings its pages and API routes; auth and the API docs live here."""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.shortcuts import redirect
from django.templatetags.static import static as static_url
from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from labeling.site.health import health
from labeling.site.login_throttle import ThrottledLoginView, ThrottledTokenView
from projects.access import RowIdConverter

register_converter(RowIdConverter, "row_id")  # before the apps' URL modules are read


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI with its script served as a file (so no inline script); its page carries a
    <style> element, which this one page's policy allows."""

    schema = None  # not an API operation

    def get(self, request, *args, **kwargs):
        response = super().get(request, *args, **kwargs)
        response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY.replace(
            "style-src 'self'", "style-src 'self' 'unsafe-inline'"
        )
        return response


urlpatterns = [
    # First: its event POST is the API's hottest call, and a URL tries the patterns in turn.
    path("", include("labeling.monitor.urls")),
    path("admin/", admin.site.urls),
    path("health/", health, name="health"),
    path("accounts/login/", ThrottledLoginView.as_view(), name="login"),
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
    path("api/auth/token/", ThrottledTokenView.as_view(), name="api-token"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("labeling.datamanager.urls")),  # before projects: it serves .../items/
    path("", include("projects.urls")),
    path("", include("labeling.web.urls")),
    path("", include("labeling.integrations.urls")),
    path("", include("exports.urls")),
]  # media: exports.media serves it to project members (with DEBUG off too)

# JSON for /api/, Django's pages elsewhere.
handler400 = "labeling.site.api_errors.bad_request"
handler403 = "labeling.site.api_errors.permission_denied"
handler404 = "labeling.site.api_errors.page_not_found"
handler500 = "labeling.site.api_errors.server_error"  # the styled page outside /api/
