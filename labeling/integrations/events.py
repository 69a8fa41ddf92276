"""The integrations' listener on projects.event_hooks: each event becomes webhook deliveries
(outbox rows in the cause's transaction), and item events feed the model backends (pre-annotation
of new items, training every N resolved items) and target storages (the resolved label written to
the bucket).

Public: integrations_listener, event_data_build.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection

from labeling.integrations import backends_hooks, storage_hooks
from labeling.integrations.models import CloudStorage, ModelBackend, Webhook
from labeling.integrations.webhooks import webhooks_event_record, webhooks_listening
from labeling.models import Annotation, Resolution
from projects.models import ImportJob, Item, Project


def _item_json(item: Item) -> dict[str, Any]:
    return {
        "id": item.pk,
        "external_id": item.external_id,
        "data": item.data,
        "status": item.status,
        "priority": item.priority,
    }


def _resolution_json(resolution: Resolution) -> dict[str, Any]:
    return {
        "id": resolution.pk,
        "result": resolution.result,
        "method": resolution.method,
        "agreement": resolution.agreement,
        "state": resolution.state,
        "reviewer": resolution.reviewer.username if resolution.reviewer else None,
        "created_at": resolution.created_at.isoformat(),
    }


def event_data_build(*, event: str, ids: dict[str, Any]) -> dict[str, Any]:
    """The full object an event concerns, as the API shows it."""
    if event == "item.created":
        items = Item.objects.filter(pk__in=ids["items"]).order_by("id")
        return {"items": [_item_json(item) for item in items]}
    if event in ("annotation.created", "annotation.updated"):
        annotation = Annotation.objects.select_related("annotator", "item").get(
            pk=ids["annotation"]
        )
        return {
            "annotation": {
                "id": annotation.pk,
                "item": annotation.item_id,
                "annotator": annotation.annotator.username,
                "result": annotation.result,
                "lead_time": annotation.lead_time,
                "created_at": annotation.created_at.isoformat(),
                "updated_at": annotation.updated_at.isoformat(),
            },
            "item": _item_json(annotation.item),
        }
    if event in ("item.resolved", "review.decided"):
        resolution = Resolution.objects.select_related("item", "reviewer").get(pk=ids["resolution"])
        return {"item": _item_json(resolution.item), "resolution": _resolution_json(resolution)}
    if event == "import.finished":
        job = ImportJob.objects.get(pk=ids["import"])
        return {
            "import": {
                "id": job.pk,
                "status": job.status,
                "format": job.format,
                "rows_read": job.rows_read,
                "created": job.created_count,
                "skipped": job.skipped_count,
                "failed": job.failed_count,
                "message": job.message,
            }
        }
    if event == "project.updated":
        project = Project.objects.get(pk=ids["project"])
        return {
            "project": {
                "id": project.pk,
                "name": project.name,
                "label_schema": project.label_schema,
                "overlap": project.overlap,
                "ordering": project.ordering,
                "review_policy": project.review_policy,
            }
        }
    return dict(ids)  # monitor.alert and any event whose ids are its whole story


@dataclass(frozen=True)
class ProjectIntegrations:
    webhooks: bool  # active webhooks of the project, or global ones
    backends: bool  # active model backends
    targets: bool  # active target storages

    @property
    def any(self) -> bool:
        return self.webhooks or self.backends or self.targets


def _integrations_sql() -> str:
    webhooks = Webhook._meta.db_table
    backends = ModelBackend._meta.db_table
    storages = CloudStorage._meta.db_table
    return (
        f"SELECT EXISTS(SELECT 1 FROM {webhooks} w WHERE (w.project_id = %s"
        " OR w.project_id IS NULL) AND w.is_active),"
        f" EXISTS(SELECT 1 FROM {backends} b WHERE b.project_id = %s AND b.is_active),"
        f" EXISTS(SELECT 1 FROM {storages} s WHERE s.project_id = %s AND s.role = %s"
        " AND s.is_active)"
    )


INTEGRATIONS_SQL = _integrations_sql()


def project_integrations(*, project_id: int) -> ProjectIntegrations:
    """What the project has connected, in one query: events cost one round trip in a project
    with no integrations (most of them, and the answer path is the hottest there is). Plain
    SQL: the same query built by the ORM cost several times what PostgreSQL spends on it, twice
    per submitted answer."""
    with connection.cursor() as cursor:
        cursor.execute(
            INTEGRATIONS_SQL, [project_id, project_id, project_id, CloudStorage.Role.TARGET]
        )
        found = cursor.fetchone()
    return ProjectIntegrations(*(bool(v) for v in found))


class IntegrationsListener:
    """Registered with projects.event_hooks by LabelingConfig.ready()."""

    def wanted(self, *, project_id: int, event: str) -> bool:
        connected = project_integrations(project_id=project_id)
        if connected.webhooks and webhooks_listening(project_id=project_id, event=event):
            return True
        return (
            event == "item.created"
            and connected.backends
            and backends_hooks.backends_pre_annotating(project_id=project_id)
        )

    def emit(
        self, *, project_id: int, event: str, ids: dict[str, Any], data: dict[str, Any] | None
    ) -> None:
        connected = project_integrations(project_id=project_id)
        if connected.webhooks:
            webhooks_event_record(
                project_id=project_id,
                event=event,
                ids=ids,
                data_build=lambda: (
                    data if data is not None else event_data_build(event=event, ids=ids)
                ),
            )
        if event == "item.created" and connected.backends:
            backends_hooks.items_created(project_id=project_id, item_ids=ids["items"])
        elif event == "item.resolved":
            if connected.backends:
                backends_hooks.item_resolved(project_id=project_id)
            if connected.targets:
                storage_hooks.item_resolved(project_id=project_id, resolution_id=ids["resolution"])
        elif event == "export.finished" and connected.targets:
            storage_hooks.export_finished(project_id=project_id, export=(data or {}).get("export"))


integrations_listener = IntegrationsListener()
