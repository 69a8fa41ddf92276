"""The files items refer to, and the URLs handed out for them.

An item never stores a URL that expires. An image an import stored is referred to by its stable
Quorum path, MEDIA_URL and its storage name (`/media/imports/<job>/<name>`, `media_reference`).
Whatever hands an item to a page, the API or an export resolves it then (`MediaLinks`):

- local storage: the path as it is; `exports.media` serves it to the project's members;
- object storage (S3): a URL presigned at that moment, for `S3_PUBLIC_ENDPOINT_URL` when one is
  set (the endpoint the storage itself uses may be a name only the servers know); the path
  itself answers with a redirect to one, so a path copied elsewhere keeps working.

Items imported before kept a presigned URL of the storage's bucket; such a URL is recognised
(`media_name`) and signed afresh. Only files of the item's own project are signed: a path or
URL naming another project's import stays as it is (and its path answers 404 to outsiders).
Cloud storage sync has its own stable paths (`/storages/<id>/media/<key>`), resolved by its view.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

import orjson
from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage, storages
from django.utils.encoding import filepath_to_uri

from projects.models import ImportJob

# The storage alias that signs URLs for browsers (settings: S3_PUBLIC_ENDPOINT_URL).
LINKS_STORAGE = "media_links"
IMPORTED = re.compile(r"imports/(?P<job>[0-9]{1,18})/")
SIGNED = ("X-Amz-Signature=", "Signature=")


def media_reference(name: str) -> str:
    """What an item stores for the storage's file `name`: its stable Quorum path."""
    return settings.MEDIA_URL + filepath_to_uri(name)


def media_served_here() -> bool:
    """Whether the media storage is local disk, whose files the media view sends itself."""
    return isinstance(default_storage, FileSystemStorage)


def media_url(name: str) -> str:
    """A URL a browser can fetch the storage's file `name` from now: its stable path on local
    disk, a freshly presigned URL on object storage."""
    if media_served_here():
        return media_reference(name)
    links = storages[LINKS_STORAGE] if LINKS_STORAGE in settings.STORAGES else default_storage
    return links.url(name)


def _signed_url_name(value: str) -> str | None:
    """The storage name a presigned URL of the media bucket points at (path-style or
    virtual-hosted), or None."""
    bucket = getattr(default_storage, "bucket_name", None)
    if not bucket:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not any(s in parts.query for s in SIGNED):
        return None
    path = unquote(parts.path)
    if path.startswith(f"/{bucket}/"):
        key = path[len(bucket) + 2 :]
    elif parts.hostname and parts.hostname.startswith(f"{bucket}."):
        key = path[1:]
    else:
        return None
    location = (getattr(default_storage, "location", "") or "").strip("/")
    if location:
        if not key.startswith(location + "/"):
            return None
        key = key[len(location) + 1 :]
    return key or None


def media_name(value: Any) -> str | None:
    """The storage name an item's value refers to (a stable path, or a presigned URL of the
    media bucket), or None when it is no file of ours."""
    if not isinstance(value, str):
        return None
    media_prefix = settings.MEDIA_URL
    if value.startswith(media_prefix):
        name = unquote(urlsplit(value).path[len(media_prefix) :])
        return name if name and ".." not in name.split("/") else None
    if "Signature=" in value:
        return _signed_url_name(value)
    return None


class MediaLinks:
    """Resolves the media references of one project's items. Make one per request or export:
    it remembers which import jobs are the project's. On local disk it does nothing at all."""

    def __init__(self, project_id: int):
        self.project_id = project_id
        self.active = not media_served_here()
        self._own_jobs: dict[int, bool] = {}

    def owns(self, name: str) -> bool:
        """Whether the storage's file `name` is an image of one of the project's imports."""
        match = IMPORTED.match(name)
        if match is None:
            return False
        job_id = int(match["job"])
        if job_id not in self._own_jobs:
            self._own_jobs[job_id] = ImportJob.objects.filter(
                pk=job_id, project_id=self.project_id
            ).exists()
        return self._own_jobs[job_id]

    def value(self, value: Any) -> Any:
        """One value: a URL to fetch it by now if it is a file of the project's, else as is."""
        if not self.active or not isinstance(value, str):
            return value
        name = media_name(value)
        if name is None or not self.owns(name):
            return value
        return media_url(name)

    def data(self, data: Any) -> Any:
        """An item's data with its file references resolved (its top-level values, where
        imports put them); the same object when there is nothing to resolve."""
        if not self.active or not isinstance(data, dict):
            return data
        resolved = None
        for key, value in data.items():
            if isinstance(value, str) and (
                value.startswith(settings.MEDIA_URL) or "Signature=" in value
            ):
                url = self.value(value)
                if url is not value:
                    resolved = resolved if resolved is not None else dict(data)
                    resolved[key] = url
        return data if resolved is None else resolved

    def data_json(self, text: str) -> str:
        """The same for data as the database's JSON text (exports copy it verbatim)."""
        if not self.active or (settings.MEDIA_URL not in text and "Signature=" not in text):
            return text
        data = orjson.loads(text)
        resolved = self.data(data)
        return text if resolved is data else orjson.dumps(resolved).decode()
