"""Model backends speaking Label Studio's ML backend protocol, so existing Label Studio ML
backends plug in unchanged: `GET /health`, `POST /setup`, `POST /predict` (tasks and the label
config), `POST /train` (or the `/webhook` START_TRAINING event of newer backends).

Items go out as Label Studio tasks (`{"id", "data", "meta": {"external_id"}}`) with the Label
Studio config of the project's schema (projects.label_studio_config); the results that come back
are converted with the Label Studio importer's converter and checked against the schema, and
stored as predictions with the model version the backend reports. A result the schema cannot
hold is counted and named in the backend's status, never stored. Every failure (timeout, backend
down, bad answer) is recorded on the backend row for the project page, never raised into
labeling.

The backend's URL passes outbound.outbound_url_check with INTEGRATIONS_PRIVATE_HOSTS (on save
and before each call); redirects are not followed, and an error answer is kept as a short
one-line excerpt only.

Public: backend_create, backend_update, backend_url_check, backend_health_check, backend_setup,
items_predict, item_predict_on_demand, backend_train, answer_excerpt, BackendRefused.
"""

from __future__ import annotations

import logging
import re
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any
from urllib.parse import unquote

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from labeling.integrations.models import CloudStorage, ModelBackend
from labeling.integrations.outbound import (
    OutboundRefused,
    integrations_private_hosts,
    outbound_url_check,
)
from labeling.integrations.storage import media_url
from labeling.models import Resolution
from projects.imports.readers.label_studio import ConversionError, ls_result_convert
from projects.items.predictions import predictions_store
from projects.label_schema import LabelSchema, ResultError
from projects.label_studio_config import label_studio_config_from_schema
from projects.label_studio_results import label_studio_result
from projects.media import MediaLinks
from projects.models import Item, Prediction, Project

log = logging.getLogger(__name__)

REQUEST_TIMEOUT = 30.0  # batch prediction, setup and training requests
HEALTH_TIMEOUT = 5.0
ERROR_EXCERPT_CHARS = 120
MAX_ON_DEMAND_MS = 10_000
MEDIA_PATH = re.compile(r"^/storages/(\d+)/media/(.+)$")
# Threads for on-demand predictions (HTTP only, no database): the request waits at most the
# time limit for one; a late answer is dropped.
_on_demand = ThreadPoolExecutor(max_workers=4, thread_name_prefix="backend-on-demand")


class BackendRefused(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class BackendFailed(Exception):
    """The backend did not answer usefully; the message says how."""


class BackendTimedOut(BackendFailed):
    """The backend did not answer within the time allowed."""


EDITABLE = {
    "title",
    "url",
    "is_active",
    "pre_annotate",
    "predict_timeout_ms",
    "batch_size",
    "train_every",
}


def backend_url_check(url: str) -> None:
    """A backend is called by this server: refused on a private address unless
    INTEGRATIONS_PRIVATE_HOSTS lists it."""
    try:
        outbound_url_check(url, field="url", allow_private=integrations_private_hosts())
    except OutboundRefused as exc:
        raise BackendRefused(exc.field, str(exc)) from exc


def backend_update(*, backend: ModelBackend, fields: dict[str, Any]) -> ModelBackend:
    for name, value in fields.items():
        if name in EDITABLE:
            setattr(backend, name, value)
    backend.url = (backend.url or "").strip().rstrip("/")
    backend_url_check(backend.url)
    if not 1 <= backend.predict_timeout_ms <= MAX_ON_DEMAND_MS:
        raise BackendRefused(
            "predict_timeout_ms", f"Between 1 and {MAX_ON_DEMAND_MS} milliseconds."
        )
    if not 1 <= backend.batch_size <= 1000:
        raise BackendRefused("batch_size", "Between 1 and 1000 items per request.")
    backend.save()
    return backend


def backend_create(*, project: Project, fields: dict[str, Any]) -> ModelBackend:
    """Store the backend, then check its health and call /setup (their outcome is its status,
    not a refusal: a backend may come up later)."""
    backend = backend_update(backend=ModelBackend(project=project), fields=fields)
    if backend_health_check(backend=backend) == ModelBackend.Health.UP:
        backend_setup(backend=backend)
    backend.refresh_from_db()
    return backend


def _problem_record(backend: ModelBackend, message: str) -> None:
    log.info("model backend %s: %s", backend.pk, message)
    ModelBackend.objects.filter(pk=backend.pk).update(
        last_error=message[:2000], last_error_at=timezone.now()
    )
    backend.last_error = message


def answer_excerpt(text: str) -> str:
    """A short one-line excerpt of an error answer: enough to tell a backend's own error from
    another server's page, too little to read an internal host's responses through it."""
    head = "".join(c if c.isprintable() else " " for c in text[: ERROR_EXCERPT_CHARS * 4])
    line = " ".join(head.split())
    return line if len(line) <= ERROR_EXCERPT_CHARS else line[: ERROR_EXCERPT_CHARS - 1] + "…"


def _called_url(backend: ModelBackend, path: str) -> str:
    """The URL of a call, checked again: the host's addresses or the setting may have
    changed since the backend was saved."""
    try:
        backend_url_check(backend.url)
    except BackendRefused as exc:
        raise BackendFailed(f"{path} not called: {exc}") from exc
    return f"{backend.url}{path}"


def _post(backend: ModelBackend, path: str, body: dict, timeout: float) -> dict:
    import requests  # where it is used (every web process imports this module)

    url = _called_url(backend, path)
    try:
        # No redirects: one would lead past the address check.
        response = requests.post(url, json=body, timeout=timeout, allow_redirects=False)
    except requests.Timeout as exc:
        raise BackendTimedOut(f"{path} did not answer within {timeout:g} s") from exc
    except requests.RequestException as exc:
        raise BackendFailed(f"{path} is unreachable: {type(exc).__name__}") from exc
    if response.status_code >= 300:
        excerpt = answer_excerpt(response.text)
        raise BackendFailed(
            f"{path} answered {response.status_code}" + (f": {excerpt}" if excerpt else "")
        )
    try:
        answer = response.json()
    except ValueError as exc:
        raise BackendFailed(f"{path} answered something that is not JSON") from exc
    if not isinstance(answer, dict):
        raise BackendFailed(f"{path} answered JSON that is not an object")
    return answer


def project_label_config(project: Project) -> str:
    return label_studio_config_from_schema(project.label_schema)


def ls_project_ref(project: Project) -> str:
    """Label Studio names a project "<id>.<created unix time>" for its backends."""
    return f"{project.pk}.{int(project.created_at.timestamp())}"


def backend_health_check(*, backend: ModelBackend) -> str:
    """GET /health: `{"status": "UP", ...}` is up; anything else (or nothing) is down."""
    import requests

    now = timezone.now()
    try:
        response = requests.get(
            _called_url(backend, "/health"), timeout=HEALTH_TIMEOUT, allow_redirects=False
        )
        answered = response.status_code < 300
        body = response.json() if answered else {}
        body = body if isinstance(body, dict) else {}
        up = answered and str(body.get("status", "")).upper() == "UP"
        message = (
            f"model class {answer_excerpt(str(body.get('model_class', '?')))}"
            if up
            else f"/health answered {response.status_code}"
        )
    except BackendFailed as exc:
        up, message = False, str(exc)
    except (requests.RequestException, ValueError) as exc:
        up, message = False, f"/health unreachable: {type(exc).__name__}"
    health = ModelBackend.Health.UP if up else ModelBackend.Health.DOWN
    ModelBackend.objects.filter(pk=backend.pk).update(
        health=health, health_message=message, health_checked_at=now
    )
    backend.health, backend.health_message = health, message
    return health


def backend_setup(*, backend: ModelBackend) -> str | None:
    """POST /setup with the label config; keep the model version the backend names."""
    project = backend.project
    body = {
        "project": ls_project_ref(project),
        "schema": project_label_config(project),
        "hostname": "",
        "access_token": "",
        "model_version": backend.model_version or None,
        "extra_params": None,
    }
    try:
        answer = _post(backend, "/setup", body, REQUEST_TIMEOUT)
    except BackendFailed as exc:
        _problem_record(backend, str(exc))
        return None
    version = str(answer.get("model_version") or "")
    if version:
        ModelBackend.objects.filter(pk=backend.pk).update(model_version=version[:200])
        backend.model_version = version[:200]
    return version or None


def _task_data(data: dict, *, links: MediaLinks) -> dict:
    """The item's data as a backend can read it: Quorum's stable media paths become presigned
    URLs made now (the backend fetches the image itself)."""
    out = dict(links.data(data))
    for field, value in data.items():
        match = MEDIA_PATH.match(value) if isinstance(value, str) else None
        if match:
            storage = CloudStorage.objects.filter(pk=int(match[1])).first()
            if storage is not None:
                out[field] = media_url(storage=storage, key=unquote(match[2]))
    return out


def ls_task(item: Item, *, links: MediaLinks) -> dict[str, Any]:
    return {
        "id": item.pk,
        "data": _task_data(item.data, links=links),
        "meta": {"external_id": item.external_id},
    }


def _predictions_from(
    backend: ModelBackend, items: list[Item], answer: dict
) -> tuple[list[Prediction], list[str]]:
    """Label Studio predictions (one per task, in task order) as ours; the problems by item."""
    results = answer.get("results")
    if not isinstance(results, list) or len(results) != len(items):
        raise BackendFailed(
            f"/predict answered {len(results) if isinstance(results, list) else 'no'} results"
            f" for {len(items)} tasks"
        )
    schema = LabelSchema(backend.project.label_schema)
    made, problems = [], []
    for item, prediction in zip(items, results, strict=True):
        if isinstance(prediction, list):  # newer backends: a list of predictions per task
            prediction = prediction[0] if prediction else None
        if not isinstance(prediction, dict) or not prediction.get("result"):
            continue  # the model has nothing to say about this item
        try:
            result = ls_result_convert(prediction["result"], schema=schema, data=item.data)
            schema.validate(result, data=item.data, width=item.width, height=item.height)
        except (ConversionError, ResultError, KeyError, TypeError) as exc:
            detail = exc.errors if isinstance(exc, ResultError) else str(exc)
            problems.append(f"item {item.external_id}: the schema cannot hold it ({detail})")
            continue
        score = prediction.get("score")
        made.append(
            Prediction(
                item_id=item.pk,
                model_version=str(
                    prediction.get("model_version")
                    or answer.get("model_version")
                    or backend.model_version
                    or ""
                )[:100],
                result=result,
                score=float(score) if isinstance(score, int | float) else None,
            )
        )
    return made, problems


def _predict_body(backend: ModelBackend, items: list[Item]) -> dict:
    project = backend.project
    links = MediaLinks(project.pk)
    return {
        "tasks": [ls_task(item, links=links) for item in items],
        "project": ls_project_ref(project),
        "label_config": project_label_config(project),
        "params": {"login": None, "password": None, "context": None},
    }


def _predictions_store(backend: ModelBackend, made: list[Prediction], problems: list[str]):
    with transaction.atomic():
        predictions_store(made)
        ModelBackend.objects.filter(pk=backend.pk).update(
            predictions_made=F("predictions_made") + len(made),
            predictions_refused=F("predictions_refused") + len(problems),
        )
    if made and made[-1].model_version and made[-1].model_version != backend.model_version:
        ModelBackend.objects.filter(pk=backend.pk).update(model_version=made[-1].model_version)
    if problems:
        _problem_record(backend, f"{len(problems)} predictions refused; first: {problems[0]}")


def items_predict(*, backend_id: int, item_ids: list[int]) -> int:
    """Pre-annotate: one /predict request for the items that still have no prediction; store
    what the schema holds. Answers how many predictions were stored."""
    backend = ModelBackend.objects.select_related("project").get(pk=backend_id)
    if not backend.is_active:
        return 0
    predicted = Prediction.objects.filter(item_id__in=item_ids).values("item_id")
    items = list(
        Item.objects.filter(pk__in=item_ids, project_id=backend.project_id, gold__isnull=True)
        .exclude(pk__in=predicted)
        .order_by("id")
    )
    if not items:
        return 0
    try:
        answer = _post(backend, "/predict", _predict_body(backend, items), REQUEST_TIMEOUT)
        made, problems = _predictions_from(backend, items, answer)
    except BackendFailed as exc:
        _problem_record(backend, str(exc))
        return 0
    _predictions_store(backend, made, problems)
    return len(made)


def backend_predicts(*, project: Project) -> bool:
    """Whether the project has an active model backend (the workspace then asks it on demand)."""
    return ModelBackend.objects.filter(project_id=project.pk, is_active=True).exists()


def item_predict_on_demand(*, item: Item) -> Prediction | None:
    """A prediction for an item an annotator opens without one, if the project's backend
    answers within its time limit (default 1 s); else None, and the item shows without it."""
    if item.gold is not None:
        return None
    backend = (
        ModelBackend.objects.filter(project_id=item.project_id, is_active=True)
        .select_related("project")
        .first()
    )
    if backend is None:
        return None
    limit = backend.predict_timeout_ms / 1000
    started = time.monotonic()
    body = _predict_body(backend, [item])  # here: the thread below only waits on HTTP
    future = _on_demand.submit(_post, backend, "/predict", body, limit)
    try:
        answer = future.result(timeout=limit)
        made, problems = _predictions_from(backend, [item], answer)
    except (FutureTimeout, BackendTimedOut):  # whichever clock notices first
        _problem_record(backend, f"on-demand prediction took over {limit:g} s; item shown without")
        return None
    except BackendFailed as exc:
        _problem_record(backend, f"on-demand prediction: {exc}")
        return None
    log.debug("on-demand prediction in %.3f s", time.monotonic() - started)
    _predictions_store(backend, made, problems)
    return made[0] if made else None


def _training_tasks(project: Project, limit: int = 100_000) -> list[dict[str, Any]]:
    """The project's resolved items as Label Studio tasks, each with its final label as the one
    annotation (what a backend's fit() reads)."""
    schema = LabelSchema(project.label_schema)
    resolutions = (
        Resolution.objects.filter(
            item__project=project, is_current=True, state=Resolution.State.ACCEPTED
        )
        .select_related("item")
        .order_by("item_id")[:limit]
    )
    tasks = []
    for resolution in resolutions:
        item = resolution.item
        result = label_studio_result(
            schema,
            resolution.result,
            data=item.data,
            width=item.width,
            height=item.height,
            key=(item.pk, resolution.pk),
        )
        tasks.append(
            {
                "id": item.pk,
                "data": item.data,
                "annotations": [{"id": resolution.pk, "result": result, "was_cancelled": False}],
            }
        )
    return tasks


def backend_train(*, backend_id: int) -> str:
    """Ask the backend to train on the project's resolved labels: POST /train with them (the
    protocol's training call), or, where a backend has no /train, its /webhook START_TRAINING.
    Answers the training state."""
    backend = ModelBackend.objects.select_related("project").get(pk=backend_id)
    project = backend.project
    ModelBackend.objects.filter(pk=backend.pk).update(
        training=ModelBackend.Training.REQUESTED, training_message="", resolved_since_training=0
    )
    tasks = _training_tasks(project)
    body = {
        "annotations": tasks,
        "project": ls_project_ref(project),
        "label_config": project_label_config(project),
        "params": {},
    }
    try:
        try:
            answer = _post(backend, "/train", body, REQUEST_TIMEOUT)
        except BackendFailed as exc:
            if " answered 404" not in str(exc) and " answered 405" not in str(exc):
                raise
            event = {
                "action": "START_TRAINING",
                "project": {"id": project.pk, "label_config": body["label_config"]},
                "annotations": tasks,
            }
            answer = _post(backend, "/webhook", event, REQUEST_TIMEOUT)
    except BackendFailed as exc:
        ModelBackend.objects.filter(pk=backend.pk).update(
            training=ModelBackend.Training.FAILED, training_message=str(exc)[:2000]
        )
        _problem_record(backend, f"training: {exc}")
        return ModelBackend.Training.FAILED
    version = str(answer.get("model_version") or "") if isinstance(answer, dict) else ""
    changes = {
        "training": ModelBackend.Training.DONE,
        "training_message": f"trained on {len(tasks)} resolved items",
        "trained_at": timezone.now(),
    }
    if version:
        changes["model_version"] = version[:200]
    ModelBackend.objects.filter(pk=backend.pk).update(**changes)
    return ModelBackend.Training.DONE
