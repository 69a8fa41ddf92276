"""Who may do what in a project: the one place roles are enforced, for pages and API alike.

Functions raise Http404 for someone outside the project and PermissionDenied (403) for a member
whose role is not enough; Django renders them for pages, DRF as JSON for the API.
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from projects.models import Item, Membership, Project

Role = Membership.Role
LEAD_ONLY = frozenset({Role.LEAD})
REVIEWERS = frozenset({Role.LEAD, Role.REVIEWER})
EVERY_MEMBER = frozenset({Role.LEAD, Role.REVIEWER, Role.ANNOTATOR})
# Who may label: annotators, and leads and reviewers who want to label too.
LABELERS = EVERY_MEMBER


class RowIdConverter:
    """A row id in a URL (`<row_id:pk>`): digits that fit a bigint. Anything else matches no
    route, so `/api/items/abc/` answers 404 and never reaches a query."""

    regex = r"[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(value)


def _roles_remembered(user: AbstractBaseUser) -> dict[int, str | None]:
    """The user's roles read so far in this request, by project id (kept on the user object)."""
    roles = getattr(user, "_project_roles", None)
    if roles is None:
        roles = user._project_roles = {}
    return roles


def project_role(*, user: AbstractBaseUser, project: Project) -> str | None:
    """The user's role in the project, or None. Superusers act as leads everywhere."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return Role.LEAD
    cache = _roles_remembered(user)
    if project.pk not in cache:
        cache[project.pk] = (
            Membership.objects.filter(project=project, user=user)
            .values_list("role", flat=True)
            .first()
        )
    return cache[project.pk]


# The project with the user's membership role in one round trip (the API's hot paths load a
# project or an item and check the caller's role on every request).
PROJECT_WITH_ROLE_SQL = (
    f"SELECT p.*, (SELECT m.role FROM {Membership._meta.db_table} m WHERE m.project_id = p.id"
    f" AND m.user_id = %s) AS member_role FROM {Project._meta.db_table} p"
)
BY_PROJECT = " WHERE p.id = %s"
BY_ITEM = f" WHERE p.id = (SELECT i.project_id FROM {Item._meta.db_table} i WHERE i.id = %s)"


def project_with_role(
    *, user: AbstractBaseUser, project_id: int | None = None, item_id: int | None = None
) -> Project | None:
    """The project, or the project of the item (None if there is none), with the user's role
    in it read along and remembered for project_role."""
    sql = PROJECT_WITH_ROLE_SQL + (BY_ITEM if project_id is None else BY_PROJECT)
    params = [user.pk, item_id if project_id is None else project_id]
    project = next(iter(Project.objects.raw(sql, params)), None)
    if project is not None and user.is_authenticated:
        _roles_remembered(user)[project.pk] = project.member_role
    return project


def project_check_role(*, user: AbstractBaseUser, project: Project, allowed: frozenset) -> str:
    """Return the user's role if it is one of `allowed`; otherwise refuse: 404 to someone
    outside the project (its objects are not there for them), 403 to a member whose role is
    not enough."""
    role = project_role(user=user, project=project)
    if role is None:
        raise Http404("No such project.")
    if role not in allowed:
        raise PermissionDenied(f"This needs the role {' or '.join(sorted(allowed))}.")
    return role


def projects_visible_to(user: AbstractBaseUser) -> QuerySet[Project]:
    if user.is_superuser:
        return Project.objects.all()
    return Project.objects.filter(memberships__user=user)


def user_can_create_projects(user: AbstractBaseUser) -> bool:
    """Staff and the leads of any project may create projects; the creator becomes its lead."""
    if not user.is_authenticated:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return Membership.objects.filter(user=user, role=Role.LEAD).exists()


# The API's lookups: an id from the URL, then the project with the caller's role checked.
def id_from_url(pk) -> int:
    """A row id from the URL; anything that cannot be one names no row (404)."""
    text = str(pk)
    if not (text.isascii() and text.isdigit()) or int(text) >= 2**63:
        raise Http404("No such row.")
    return int(text)


def project_checked(
    request,
    allowed: frozenset,
    *,
    project_id: int | None = None,
    item_id: int | None = None,
) -> Project:
    """The project, or the item's project (404 if there is none), once the caller's role in it
    is checked (403)."""
    project = project_with_role(user=request.user, project_id=project_id, item_id=item_id)
    if project is None:
        raise Http404("No such project." if item_id is None else "No such item.")
    project_check_role(user=request.user, project=project, allowed=allowed)
    return project


def project_for(request, pk, allowed: frozenset) -> Project:
    """Load a project the user may see (404 otherwise) and check their role (403)."""
    return project_checked(request, allowed, project_id=id_from_url(pk))
