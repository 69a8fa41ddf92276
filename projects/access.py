"""Who may do what in a project: the one rule, for pages and API alike.

Functions raise Http404 for someone outside the project and PermissionDenied (403) for a member
whose role is not enough; Django renders them for pages, DRF as JSON for the API. Views do not
call them by hand: API views declare the roles of their actions for
projects.permissions.ProjectRolePermission, pages wear projects.permissions.project_page.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Model, QuerySet
from django.http import Http404

from projects.direct_sql import model_columns, model_row_read
from projects.models import Membership, Project

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


def project_roles_remember(*, user: AbstractBaseUser, projects) -> None:
    """Read the user's roles in these projects in one query (a list of projects shows each
    one's role: one query per row otherwise)."""
    if not user.is_authenticated or user.is_superuser:
        return
    cache = _roles_remembered(user)
    wanted = [p.pk for p in projects if p.pk not in cache]
    if not wanted:
        return
    cache.update(dict.fromkeys(wanted))
    cache.update(
        Membership.objects.filter(user=user, project_id__in=wanted).values_list(
            "project_id", "role"
        )
    )


# The project with the user's membership role in one round trip (the API's hot paths load a
# project or an item and check the caller's role on every request).
PROJECT_WITH_ROLE_SQL = (
    f"SELECT {model_columns(Project, 'p')}, (SELECT m.role FROM {Membership._meta.db_table} m"
    f" WHERE m.project_id = p.id AND m.user_id = %s) AS member_role FROM {Project._meta.db_table} p"
)
BY_PROJECT = " WHERE p.id = %s"
BY_ROW = " WHERE p.id = (SELECT r.project_id FROM {table} r WHERE r.id = %s)"


def project_with_role(
    *,
    user: AbstractBaseUser,
    project_id: int | None = None,
    of: type[Model] | None = None,
    row_id: int | None = None,
) -> Project | None:
    """The project (by its id), or the project of a row (`of` a model with a `project`, by the
    row's id), or None if there is none, with the user's role in it read along and remembered
    for project_role."""
    if of is None:
        sql, params = PROJECT_WITH_ROLE_SQL + BY_PROJECT, [user.pk, project_id]
    else:
        table = connection.ops.quote_name(of._meta.db_table)
        sql, params = PROJECT_WITH_ROLE_SQL + BY_ROW.format(table=table), [user.pk, row_id]
    found = model_row_read(Project, sql, params)
    if found is None:
        return None
    project, (role,) = found
    if user.is_authenticated:
        _roles_remembered(user)[project.pk] = role
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


def project_checked(
    request, allowed: frozenset, *, project_id: int | None = None, of=None, row_id=None
) -> Project:
    """The project, or the project of the row `of` names (404 if there is none), once the
    caller's role in it is checked (404 outside it, 403 without the role)."""
    project = project_with_role(user=request.user, project_id=project_id, of=of, row_id=row_id)
    if project is None or project_role(user=request.user, project=project) is None:
        # The same answer for a row of another project as for no row at all.
        raise Http404(f"No such {of._meta.verbose_name}." if of else "No such project.")
    project_check_role(user=request.user, project=project, allowed=allowed)
    return project


@dataclass(frozen=True)
class AccountRule:
    """Who may make a call that names no project, by their account alone."""

    name: str
    allows: Callable[[AbstractBaseUser], bool]
    refusal: str

    def check(self, user: AbstractBaseUser) -> None:
        if not self.allows(user):
            raise PermissionDenied(self.refusal)


SIGNED_IN = AccountRule("signed in", lambda user: user.is_authenticated, "Sign in first.")
STAFF = AccountRule("staff", lambda user: user.is_staff, "This needs a staff account.")
PROJECT_CREATORS = AccountRule(
    "project creators",
    user_can_create_projects,
    "Only staff and project leads create projects.",
)
