"""Uploaded and exported files, served to the members of their project only.

Every file under the media storage belongs to one job: the images of an import live under
`imports/<job id>/` (every member of the project sees them: they are the items), an import's
source file and an export's file are the job's `file` (leads only). Anything else is 404, as
is a file of a project the caller is not in. On object storage the answer is a redirect to a URL
presigned now (projects.media). With MEDIA_ACCEL_REDIRECT set (a proxy such as nginx in front),
the answer is an empty one naming the file in X-Accel-Redirect, and the proxy sends it from its
internal location; otherwise Django streams it.
"""

import mimetypes
import re

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_GET

from exports.models import ExportJob
from projects import access
from projects.media import media_served_here, media_url
from projects.models import ImportJob, Project
from projects.permissions import token_accepted

IMPORTED_IMAGE = re.compile(r"imports/(?P<job>[0-9]{1,18})/")


def media_project(name: str) -> tuple[Project, frozenset] | None:
    """The project a stored file belongs to and the roles that may read it, or None. A job's
    own file first: older source uploads sit under imports/<year>/, which looks like a prefix
    of images."""
    for model in (ImportJob, ExportJob):
        job = model.objects.select_related("project").filter(file=name).first()
        if job is not None:
            return job.project, access.LEAD_ONLY
    if match := IMPORTED_IMAGE.match(name):
        job = ImportJob.objects.select_related("project").filter(pk=match["job"]).first()
        return (job.project, access.EVERY_MEMBER) if job else None
    return None


@token_accepted  # the API hands out these paths: a script with a token reads them too
@require_GET
@login_required
def media_serve(request, name: str):
    if ".." in name.split("/") or name.startswith("/"):
        raise Http404("No such file.")
    owner = media_project(name)
    if owner is None:
        raise Http404("No such file.")
    project, allowed = owner
    if access.project_role(user=request.user, project=project) not in allowed:
        raise Http404("No such file.")  # 404, not 403: other projects' files are not there
    if not media_served_here():
        response = HttpResponseRedirect(media_url(name))
        response["Cache-Control"] = "private, no-store"
        return response
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if settings.MEDIA_ACCEL_REDIRECT:
        response = HttpResponse(content_type=content_type)
        response["X-Accel-Redirect"] = settings.MEDIA_ACCEL_REDIRECT.rstrip("/") + "/" + name
        return response
    if not default_storage.exists(name):
        raise Http404("No such file.")
    response = FileResponse(default_storage.open(name, "rb"), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response
