from django.urls import path

from labeling.monitor import api, pages
from labeling.monitor.event_post import events_view

P = "api/projects/<row_id:pk>/monitor/"

urlpatterns = [
    path(P + "events/", events_view(api.EventsView.as_view()), name="monitor-events"),
    path(P + "events/upload/", api.EventUploadView.as_view(), name="monitor-events-upload"),
    path(P + "actuals/", api.ActualsView.as_view(), name="monitor-actuals"),
    path(P + "rules/", api.RulesView.as_view(), name="monitor-rules"),
    path(P + "rules/<row_id:rule_pk>/", api.RuleView.as_view(), name="monitor-rule"),
    path(
        P + "rules/<row_id:rule_pk>/dry-run/",
        api.RuleDryRunView.as_view(),
        name="monitor-rule-dry-run",
    ),
    path(P + "metrics/", api.MetricsView.as_view(), name="monitor-metrics"),
    path(P + "rollups/refresh/", api.RollupsRefreshView.as_view(), name="monitor-refresh"),
    path(P + "alerts/", api.AlertsView.as_view(), name="monitor-alerts"),
    path(P + "models/", api.ModelsView.as_view(), name="monitor-models"),
    path("projects/<row_id:pk>/monitor/", pages.model_health, name="model-health"),
    path("projects/<row_id:pk>/monitor/rules/", pages.rule_editor, name="monitor-rules-page"),
]
