"""Project membership: adding members and changing their roles."""

from projects.models import Membership, Project


def membership_set(*, project: Project, user, role: str) -> Membership:
    """Give the user this role in the project (adding them if they are not yet a member)."""
    membership, _ = Membership.objects.update_or_create(
        project=project, user=user, defaults={"role": role}
    )
    return membership


def membership_remove(*, project: Project, user) -> None:
    Membership.objects.filter(project=project, user=user).delete()
