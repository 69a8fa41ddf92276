"""Cloud storage sync with S3-compatible buckets (AWS, MinIO, ...) through boto3.

Source storages: `storage_sync` lists the bucket under the prefix (in a thread of its own, a
page or two ahead), keeps the keys the filter matches, and compares each page of keys with what
the last sync saw (key and ETag, in StorageObject): only new or changed objects are taken.
Images become items that reference the object (`data.image` is a stable Quorum path that answers
with a fresh presigned URL; no expiring URL is ever stored); JSON / JSONL / CSV objects are
imported as rows through the ordinary import jobs, keyed by external id, so a re-sync never
duplicates an item.

Target storages: `label_write` writes an item's current accepted resolution as one JSON object
(`<prefix>/<external id>.json`, overwritten on a later resolution); `export_write` copies a
finished export's file to `<prefix>/exports/`.

An endpoint URL is called by this server, so it passes outbound.outbound_url_check with
INTEGRATIONS_PRIVATE_HOSTS (on save, and before each sync and write).

Public: storage_create, storage_update, storage_check, endpoint_check, storage_sync,
storages_due, media_url, label_write, export_write, IMAGE_FIELD.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import queue
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath
from typing import Any, TypeVar
from urllib.parse import quote

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from labeling.integrations.models import CloudStorage, StorageObject
from labeling.integrations.outbound import (
    OutboundRefused,
    integrations_private_hosts,
    outbound_url_check,
)
from labeling.integrations.secrets import secret_decrypt, secret_encrypt
from labeling.models import Resolution
from projects.imports.jobs import ImportRefused, import_job_create
from projects.items.create import items_create
from projects.models import Project
from projects.tasks import import_job_enqueue

log = logging.getLogger(__name__)
T = TypeVar("T")

IMAGE_FIELD = "image"
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".svg"}
ROW_SUFFIXES = {".json", ".jsonl", ".ndjson", ".csv", ".tsv"}
PAGE_SIZE = 1000


class StorageRefused(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _s3_errors() -> tuple[type[Exception], ...]:
    # boto3 is imported where a bucket is reached (it is large): a web process needs it only to
    # presign.
    from labeling.integrations.s3 import S3_ERRORS

    return S3_ERRORS


def storage_client(storage: CloudStorage):
    """A client with the storage's keys. A storage saved without keys reaches its bucket
    unsigned (a public bucket), never with the server's own AWS credentials unless
    STORAGE_SERVER_CREDENTIALS says so: else a lead could read any bucket the server's role
    can."""
    from labeling.integrations.s3 import s3_client

    access_key = secret_decrypt(storage.access_key_encrypted)
    secret_key = secret_decrypt(storage.secret_key_encrypted)
    keyless = not (access_key and secret_key)
    return s3_client(
        endpoint_url=storage.endpoint_url,
        region=storage.region,
        access_key=access_key,
        secret_key=secret_key,
        anonymous=keyless and not settings.STORAGE_SERVER_CREDENTIALS,
    )


def _filter_check(pattern: str, kind: str) -> None:
    if pattern and kind == CloudStorage.FilterKind.REGEX:
        try:
            re.compile(pattern)
        except re.error as exc:
            raise StorageRefused("object_filter", f"Not a regular expression: {exc}.") from exc


EDITABLE = {
    "role",
    "title",
    "bucket",
    "prefix",
    "endpoint_url",
    "region",
    "object_filter",
    "filter_kind",
    "object_kind",
    "presign_ttl",
    "sync_every_minutes",
    "is_active",
    "write_exports",
}


def endpoint_check(storage: CloudStorage) -> None:
    """An endpoint is called by this server: refused on a private address unless
    INTEGRATIONS_PRIVATE_HOSTS lists it (empty: AWS's own endpoints)."""
    if not storage.endpoint_url:
        return
    try:
        outbound_url_check(
            storage.endpoint_url, field="endpoint_url", allow_private=integrations_private_hosts()
        )
    except OutboundRefused as exc:
        raise StorageRefused(exc.field, str(exc)) from exc


def storage_check(storage: CloudStorage) -> None:
    """Reach the bucket with the credentials (one listing of one key), or refuse."""
    try:
        storage_client(storage).list_objects_v2(
            Bucket=storage.bucket, Prefix=storage.prefix, MaxKeys=1
        )
    except _s3_errors() + (ValueError,) as exc:
        raise StorageRefused("bucket", f"The bucket cannot be listed: {exc}") from exc


def storage_create(
    *, project: Project, fields: dict[str, Any], access_key: str = "", secret_key: str = ""
) -> CloudStorage:
    """Check the settings (the filter, and that the bucket answers) and store the storage with
    its credentials encrypted."""
    storage = CloudStorage(project=project)
    return storage_update(
        storage=storage, fields=fields, access_key=access_key, secret_key=secret_key
    )


def storage_update(
    *,
    storage: CloudStorage,
    fields: dict[str, Any],
    access_key: str | None = None,
    secret_key: str | None = None,
) -> CloudStorage:
    for name, value in fields.items():
        if name in EDITABLE:
            setattr(storage, name, value)
    storage.prefix = storage.prefix.lstrip("/")
    storage.endpoint_url = storage.endpoint_url.strip()
    endpoint_check(storage)
    _filter_check(storage.object_filter, storage.filter_kind)
    if access_key is not None and access_key != "":
        storage.access_key_encrypted = secret_encrypt(access_key)
    if secret_key is not None and secret_key != "":
        storage.secret_key_encrypted = secret_encrypt(secret_key)
    if bool(storage.access_key_encrypted) != bool(storage.secret_key_encrypted):
        field = "secret_key" if storage.access_key_encrypted else "access_key"
        raise StorageRefused(field, "Give access_key and secret_key together, or neither.")
    storage_check(storage)
    storage.save()
    return storage


def _suffix(key: str) -> str:
    """The key's extension, lower case, as PurePosixPath(key).suffix has it (without building
    a path for each of a bucket's keys)."""
    name = key.rpartition("/")[2]
    dot = name.rfind(".")
    return name[dot:].lower() if 0 < dot < len(name) - 1 else ""


def _key_taker(storage: CloudStorage) -> Callable[[str], bool]:
    """Whether the sync takes a key: it passes the filter and is of the storage's kind."""
    if storage.object_kind == CloudStorage.ObjectKind.ROWS:
        kind_fits = lambda key: _suffix(key) in ROW_SUFFIXES  # noqa: E731
    elif storage.object_filter:
        # Images: any key the filter takes (object keys often have no extension).
        kind_fits = lambda key: True  # noqa: E731
    else:
        kind_fits = lambda key: _suffix(key) in IMAGE_SUFFIXES  # noqa: E731
    pattern = storage.object_filter
    if not pattern:
        return lambda key: not key.endswith("/") and kind_fits(key)
    if storage.filter_kind == CloudStorage.FilterKind.REGEX:
        compiled = re.compile(pattern)
        return lambda key: (
            not key.endswith("/") and compiled.search(key) is not None and kind_fits(key)
        )
    # A glob matches the key below the prefix (e.g. "*.jpg", "2024/*/cam1_*.png").
    translated = re.compile(fnmatch.translate(pattern))
    prefix_length = len(storage.prefix)
    return lambda key: (
        not key.endswith("/")
        and translated.match(key[prefix_length:].lstrip("/")) is not None
        and kind_fits(key)
    )


def media_path(storage: CloudStorage, key: str) -> str:
    """The stable Quorum path of an object (what items store): it answers with a redirect to a
    presigned URL made on the spot."""
    return f"/storages/{storage.pk}/media/{quote(key)}"


def media_url(*, storage: CloudStorage, key: str) -> str:
    """A presigned GET URL of the object, valid for the storage's presign_ttl seconds."""
    return storage_client(storage).generate_presigned_url(
        "get_object",
        Params={"Bucket": storage.bucket, "Key": key},
        ExpiresIn=storage.presign_ttl,
    )


@dataclass
class SyncReport:
    seen: int = 0
    new: int = 0
    created: int = 0
    imports: int = 0
    problems: int = 0
    listing_seconds: float = 0.0  # waiting for the bucket's pages (the rest is Quorum's work)


STORAGE_OBJECT_TABLE = StorageObject._meta.db_table
# One statement per page of keys, with the keys as one array parameter: building and sending a
# thousand parameters (the ORM's IN list, bulk_create's rows) cost more than the queries.
KNOWN_SQL = f"SELECT key, etag FROM {STORAGE_OBJECT_TABLE} WHERE storage_id = %s AND key = ANY(%s)"
REMEMBER_SQL = (
    f"INSERT INTO {STORAGE_OBJECT_TABLE} (storage_id, key, etag, synced_at)"
    " SELECT %s, k, e, now() FROM unnest(%s::text[], %s::text[]) AS u(k, e)"
    " ON CONFLICT (storage_id, key) DO UPDATE SET etag = EXCLUDED.etag, synced_at = now()"
)


def _changed(storage: CloudStorage, page: list[tuple[str, str]]) -> list[tuple[str, str]]:
    keys = [k for k, _ in page]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(KNOWN_SQL, [storage.pk, keys])
            known = dict(cursor.fetchall())
    else:
        known = dict(
            StorageObject.objects.filter(storage=storage, key__in=keys).values_list("key", "etag")
        )
    return [(key, etag) for key, etag in page if known.get(key) != etag]


def _objects_remember(storage: CloudStorage, objects: list[tuple[str, str]]) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                REMEMBER_SQL, [storage.pk, [k for k, _ in objects], [e for _, e in objects]]
            )
        return
    StorageObject.objects.bulk_create(
        [StorageObject(storage=storage, key=key, etag=etag) for key, etag in objects],
        update_conflicts=True,
        unique_fields=["storage", "key"],
        update_fields=["etag", "synced_at"],
    )


def _images_take(storage: CloudStorage, objects: list[tuple[str, str]], report: SyncReport):
    rows = [
        (
            index,
            {
                "external_id": key,
                "data": {
                    IMAGE_FIELD: media_path(storage, key),
                    "source_uri": f"s3://{storage.bucket}/{key}",
                },
            },
        )
        for index, (key, _) in enumerate(objects, start=1)
    ]
    with transaction.atomic():  # the items and the keys seen commit together
        created = items_create(project=storage.project, raw_rows=rows)
        _objects_remember(storage, objects)
    report.created += created.created
    report.problems += len(created.errors)


def _rows_take(storage: CloudStorage, objects: list[tuple[str, str]], report: SyncReport):
    """Each JSON / JSONL / CSV object becomes an import job of the ordinary importers."""
    client = storage_client(storage)
    for key, etag in objects:
        name = PurePosixPath(key).name
        with tempfile.TemporaryFile() as scratch:
            client.download_fileobj(storage.bucket, key, scratch)
            size = scratch.tell()
            scratch.seek(0)
            upload = UploadedFile(file=scratch, name=name, size=size)
            try:
                with transaction.atomic():
                    job = import_job_create(
                        project=storage.project,
                        user=None,
                        upload=upload,
                        mapping=None,
                    )
                    job.options = {**job.options, "source": f"s3://{storage.bucket}/{key}"}
                    job.save(update_fields=["options"])
                    _objects_remember(storage, [(key, etag)])
                    import_job_enqueue(job.pk)
            except ImportRefused as exc:
                log.info("storage %s: object %s not imported: %s", storage.pk, key, exc)
                report.problems += 1
                _objects_remember(storage, [(key, etag)])
                continue
        report.imports += 1


def _listed_pages(storage: CloudStorage, client) -> Iterator[list[tuple[str, str]]]:
    """The bucket's keys under the prefix that the sync takes, with their ETags, a page at a
    time."""
    takes = _key_taker(storage)
    pages = client.get_paginator("list_objects_v2").paginate(
        Bucket=storage.bucket,
        Prefix=storage.prefix,
        PaginationConfig={"PageSize": PAGE_SIZE},
    )
    for page in pages:
        yield [
            (entry["Key"], entry.get("ETag", "").strip('"'))
            for entry in page.get("Contents", ())
            if takes(entry["Key"])
        ]


_END = object()


def _read_ahead(items: Iterator[T], *, ahead: int = 2) -> Iterator[T]:
    """Iterate `items` in a thread of its own, up to `ahead` items before the caller: the next
    listing page is asked for and parsed while this thread compares and stores the last one.
    The producer's exception is raised here; closing this iterator stops the producer."""
    handoff: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def hand(entry) -> bool:
        while not stop.is_set():
            try:
                handoff.put(entry, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not hand((item, None)):
                    return
        except BaseException as exc:  # raised again in the consumer
            hand((_END, exc))
            return
        hand((_END, None))

    threading.Thread(target=produce, name="storage-listing", daemon=True).start()
    try:
        while True:
            item, error = handoff.get()
            if item is _END:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()


def _sync_failed(storage: CloudStorage, exc: Exception, report: SyncReport) -> SyncReport:
    CloudStorage.objects.filter(pk=storage.pk).update(
        sync_status="failed",
        sync_message=f"The sync stopped: {exc}"[:2000],
        last_synced_at=timezone.now(),
    )
    return report


def storage_sync(*, storage_id: int) -> SyncReport:
    """List the bucket and take what is new or changed; the storage row carries the outcome."""
    storage = CloudStorage.objects.select_related("project").get(pk=storage_id)
    report = SyncReport()
    if storage.role != CloudStorage.Role.SOURCE:
        return report
    CloudStorage.objects.filter(pk=storage.pk).update(sync_status="running", sync_message="")
    take = _images_take if storage.object_kind == CloudStorage.ObjectKind.IMAGES else _rows_take
    try:
        endpoint_check(storage)  # again: the host's addresses or the setting may have changed
        # Made here, not in the reading thread: a client may be shared by threads, and each
        # new thread would make a new session, loading the S3 service model again.
        pages = _read_ahead(_listed_pages(storage, storage_client(storage)))
    except (StorageRefused, *_s3_errors()) as exc:
        return _sync_failed(storage, exc, report)
    try:
        while True:
            waited = time.perf_counter()
            listed = next(pages, None)
            report.listing_seconds += time.perf_counter() - waited
            if listed is None:
                break
            report.seen += len(listed)
            changed = _changed(storage, listed)
            if changed:
                report.new += len(changed)
                take(storage, changed, report)
    except _s3_errors() as exc:
        return _sync_failed(storage, exc, report)
    finally:
        pages.close()
    message = f"{report.seen} objects listed, {report.new} new or changed"
    if storage.object_kind == CloudStorage.ObjectKind.IMAGES:
        message += f", {report.created} items created"
    else:
        message += f", {report.imports} imports started"
    if report.problems:
        message += f", {report.problems} not taken (see the import errors)"
    CloudStorage.objects.filter(pk=storage.pk).update(
        sync_status="done",
        sync_message=message,
        last_synced_at=timezone.now(),
        objects_seen=report.seen,
        objects_new=report.new,
        items_created=storage.items_created + report.created,
    )
    return report


def storages_due(*, now=None) -> list[int]:
    """Source storages whose scheduled sync is due (and none is queued or running)."""
    now = now or timezone.now()
    due = []
    candidates = CloudStorage.objects.filter(
        role=CloudStorage.Role.SOURCE, is_active=True, sync_every_minutes__isnull=False
    ).exclude(sync_status__in=["queued", "running"])
    for storage in candidates:
        last = storage.last_synced_at
        if last is None or last + timedelta(minutes=storage.sync_every_minutes) <= now:
            due.append(storage.pk)
    CloudStorage.objects.filter(pk__in=due).update(sync_status="queued")
    return due


def _label_key(storage: CloudStorage, external_id: str) -> str:
    name = external_id.strip("/") or "item"
    return f"{storage.prefix.rstrip('/')}/{name}.json".lstrip("/")


def label_write(*, storage_id: int, resolution_id: int) -> str | None:
    """Write the item's current accepted resolution (the one named, or a newer one) as JSON;
    answer the key written, or None when the item has no accepted resolution any more."""
    storage = CloudStorage.objects.get(pk=storage_id)
    item_id = Resolution.objects.filter(pk=resolution_id).values_list("item_id", flat=True).first()
    if item_id is None:
        return None
    resolution = (
        Resolution.objects.filter(item_id=item_id, is_current=True)
        .filter(Q(state=Resolution.State.ACCEPTED))
        .select_related("item", "reviewer")
        .first()
    )
    if resolution is None:
        return None
    item = resolution.item
    document = {
        "id": item.pk,
        "external_id": item.external_id,
        "project": item.project_id,
        "data": item.data,
        "result": resolution.result,
        "method": resolution.method,
        "agreement": resolution.agreement,
        "reviewer": resolution.reviewer.username if resolution.reviewer else None,
        "resolved_at": resolution.created_at.isoformat(),
    }
    key = _label_key(storage, item.external_id)
    endpoint_check(storage)
    storage_client(storage).put_object(
        Bucket=storage.bucket,
        Key=key,
        Body=json.dumps(document, ensure_ascii=False, sort_keys=True).encode(),
        ContentType="application/json",
    )
    return key


def export_write(*, storage_id: int, file_name: str) -> str:
    """Copy a finished export's file to `<prefix>/exports/<its name>`."""
    storage = CloudStorage.objects.get(pk=storage_id)
    key = f"{storage.prefix.rstrip('/')}/exports/{PurePosixPath(file_name).name}".lstrip("/")
    endpoint_check(storage)
    with default_storage.open(file_name, "rb") as stream:
        storage_client(storage).upload_fileobj(stream, storage.bucket, key)
    return key
