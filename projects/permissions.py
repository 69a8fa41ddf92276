"""Authorization in one place: the API's permission class and the pages' decorator, both on the
rule of projects.access (404 to someone outside the project, 403 to a member whose role is not
enough).

An API view says where its URL names the project and what each of its actions needs:

    class ItemViewSet(viewsets.GenericViewSet):
        project_from = ProjectInUrl(of=Item)    # /api/items/{pk}/...: the item's project
        project_roles = {"retrieve": EVERY_MEMBER, "annotations": LABELERS}

Keys are a viewset's actions, or an APIView's HTTP methods ("get", "post"...). A value is a
set of roles, which needs the project named by the URL, or an access.AccountRule (SIGNED_IN,
STAFF, PROJECT_CREATORS) for a call that names no project. ProjectRolePermission is the API's
default permission class (settings REST_FRAMEWORK), so a view that declares nothing is
refused (ImproperlyConfigured), never open; tests/test_permissions.py walks every route.

The project and the caller's role are checked before the view runs and kept on the request:
`request.project`, `request.project_role` (None for a call that names no project).
"""

from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import ImproperlyConfigured
from django.db.models import Model
from django.http import Http404, JsonResponse
from rest_framework.permissions import BasePermission

from projects import access
from projects.access import AccountRule
from projects.api_tokens import ApiTokenRefused, api_token_authenticate, token_header_secret
from projects.models import Project

NOT_CHECKED = object()


@dataclass(frozen=True)
class ProjectInUrl:
    """Where a URL names its project: the `kwarg` is the project's id or, with `of`, the id of
    a row of that model, whose `project` it is. `unowned`: the rule for such a row that belongs
    to no project (a global webhook); without it such a row is not there (404)."""

    of: type[Model] | None = None
    kwarg: str = "pk"
    unowned: AccountRule | None = None

    def project_checked(self, request, pk, allowed: frozenset) -> Project | None:
        """The project (None for an unowned row the caller may reach), once the caller's role
        in it is checked."""
        try:
            return access.project_checked(request, allowed, project_id=pk, of=self.of, row_id=pk)
        except Http404:
            if self.unowned is None or not self.of.objects.filter(pk=pk, project=None).exists():
                raise
        self.unowned.check(request.user)
        return None


PROJECT_IN_URL = ProjectInUrl()


def _keep(request, project: Project | None) -> None:
    """On the HttpRequest under DRF's (its clones share it: OPTIONS checks each method)."""
    plain = getattr(request, "_request", request)
    plain.project = project
    plain.project_role = (
        None if project is None else access.project_role(user=request.user, project=project)
    )


def _rule_name(request, view) -> str | None:
    """The action (viewsets) or method (APIViews) the request calls; None when the view has no
    handler for it (DRF answers 405)."""
    if request.method.lower() not in view.http_method_names:
        return None
    if request.method == "OPTIONS" or getattr(view, "action", None) == "metadata":
        return "metadata"
    if hasattr(view, "action_map"):  # a viewset (its module is not imported: it reads this one)
        name = view.action
    else:
        name = "get" if request.method == "HEAD" else request.method.lower()
    if name is None or not hasattr(view, name):
        return None
    return name


class ProjectRolePermission(BasePermission):
    """The roles a view declares in `project_roles`, for the project its `project_from` names."""

    def has_permission(self, request, view) -> bool:
        if not request.user.is_authenticated:
            return False  # DRF answers 401
        name = _rule_name(request, view)
        if name is None:
            return True
        source: ProjectInUrl | None = getattr(view, "project_from", None)
        names_project = source is not None and source.kwarg in view.kwargs
        if name == "metadata":
            # OPTIONS describes a project's calls to its members only.
            rule = access.EVERY_MEMBER if names_project else access.SIGNED_IN
        else:
            rule = view_rule(type(view), name)
        if isinstance(rule, AccountRule):
            rule.check(request.user)
            _keep(request, None)
            return True
        if not names_project:
            raise ImproperlyConfigured(
                f"{type(view).__name__}.{name} needs a project role, so the view declares "
                "project_from (a ProjectInUrl its URL fills)."
            )
        checked = getattr(request, "project", NOT_CHECKED)
        if checked is NOT_CHECKED or checked is None:
            checked = source.project_checked(request, view.kwargs[source.kwarg], rule)
            _keep(request, checked)
        else:
            access.project_check_role(user=request.user, project=checked, allowed=rule)
        return True

    def has_object_permission(self, request, view, obj) -> bool:
        """The object a view loads must be of the project checked (404 otherwise); a call that
        named no project still shows no object of a project the caller is not in."""
        project_id = obj.pk if isinstance(obj, Project) else getattr(obj, "project_id", None)
        checked = getattr(request, "project", None)
        if checked is not None:
            if checked.pk != project_id:
                raise Http404("Not found.")
            if not isinstance(obj, Project):
                obj.project = checked  # the view reads the project it was checked for, no query
        elif project_id is not None:
            access.project_checked(request, access.EVERY_MEMBER, project_id=project_id)
        return True


def view_rule(view_class: type, name: str):
    """The rule `view_class` declares for its action or method `name`; a view that declares
    none is a mistake, refused loudly rather than left open."""
    rules = getattr(view_class, "project_roles", None) or {}
    rule = rules.get(name)
    if not isinstance(rule, frozenset | AccountRule):
        raise ImproperlyConfigured(
            f"{view_class.__name__} declares no project_roles entry for {name!r}: the roles "
            "(access.LEAD_ONLY, REVIEWERS, ...) or an access.AccountRule."
        )
    return rule


def project_page(allowed: frozenset, source: ProjectInUrl = PROJECT_IN_URL):
    """Pages: signed in, then the project the URL's `pk` names checked with the same rule as
    the API (404 outside it, 403 without one of the `allowed` roles), kept as
    `request.project` and `request.project_role`."""

    def decorate(view):
        @wraps(view)
        def checked(request, pk, *args, **kwargs):
            _keep(request, source.project_checked(request, pk, allowed))
            return view(request, pk, *args, **kwargs)

        checked.project_page_roles = allowed  # tests/test_permissions.py finds it on each page
        return login_required(checked)

    return decorate


def token_accepted(view):
    """A page a script reads too (a file whose path the API hands out): a call with
    `Authorization: Token <secret>` acts as the token's user, as on the API (a refused token:
    401 with the reason, as the API words it); any other call is the page's own (its session,
    or the login page)."""

    @wraps(view)
    def accepting(request, *args, **kwargs):
        authorization = request.META.get("HTTP_AUTHORIZATION", "")
        if authorization.split(" ", 1)[0].lower() == "token":
            secret = token_header_secret(authorization)
            try:
                if secret is None:
                    raise ApiTokenRefused("Invalid token header.")
                request.user = api_token_authenticate(secret=secret)[0]
            except ApiTokenRefused as exc:
                refusal = JsonResponse({"detail": str(exc)}, status=401)
                refusal["WWW-Authenticate"] = "Token"
                return refusal
        return view(request, *args, **kwargs)

    return accepting
