"""Project membership and the accounts leads make: adding members, changing their roles,
removing them, creating an account with a one-time set-password link.

A member's last activity and answer count are the labeling app's data; labeling registers a
reader for them when Django starts (LabelingConfig.ready), as it does for imports.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from projects.models import Membership, Project

USERNAME_MAX = 150


class MembershipRefused(ValueError):
    """The change is not allowed; `errors` maps the field to the rule it broke."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(errors.values()))


def _leads_left_after(project: Project, user) -> int:
    return project.memberships.filter(role=Membership.Role.LEAD).exclude(user=user).count()


def membership_set(*, project: Project, user, role: str) -> Membership:
    """Give the user this role in the project (adding them if they are not yet a member).
    The last lead keeps the role: a project always has someone who can manage it."""
    if role not in Membership.Role.values:
        raise MembershipRefused({"role": f"must be one of {', '.join(Membership.Role.values)}"})
    with transaction.atomic():
        current = Membership.objects.select_for_update().filter(project=project, user=user).first()
        if (
            current is not None
            and current.role == Membership.Role.LEAD
            and role != Membership.Role.LEAD
            and not _leads_left_after(project, user)
        ):
            raise MembershipRefused({"role": "the project's last lead stays a lead"})
        membership, _ = Membership.objects.update_or_create(
            project=project, user=user, defaults={"role": role}
        )
    return membership


def membership_remove(*, project: Project, user) -> None:
    with transaction.atomic():
        current = Membership.objects.select_for_update().filter(project=project, user=user).first()
        if current is None:
            raise MembershipRefused({"username": f"'{user.username}' is not a member"})
        if current.role == Membership.Role.LEAD and not _leads_left_after(project, user):
            raise MembershipRefused({"username": "the project's last lead cannot be removed"})
        current.delete()


# ---------- accounts ----------


@dataclass(frozen=True)
class NewAccount:
    user: object
    set_password_path: str  # /accounts/reset/<uid>/<token>/, one use, PASSWORD_RESET_TIMEOUT
    emailed: bool


def account_check(*, username: str, email: str = "") -> dict[str, str]:
    """The problems with a new account's fields, by field (empty when it may be made)."""
    errors: dict[str, str] = {}
    User = get_user_model()
    username = (username or "").strip()
    if not username:
        errors["username"] = "is required"
    elif len(username) > USERNAME_MAX:
        errors["username"] = f"has at most {USERNAME_MAX} characters"
    else:
        try:
            User.username_validator(username)
        except Exception:  # noqa: BLE001 - Django raises ValidationError with its own message
            errors["username"] = "may hold letters, digits and @ . + - _ only"
        else:
            if User.objects.filter(username__iexact=username).exists():
                errors["username"] = f"'{username}' is taken"
    if email:
        try:
            validate_email(email)
        except Exception:  # noqa: BLE001
            errors["email"] = "is not an email address"
    return errors


def set_password_path(user) -> str:
    """The one-time link to set (or reset) the user's password: Django's reset token, which
    stops working once the password is set or after PASSWORD_RESET_TIMEOUT."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return reverse("password_reset_confirm", kwargs={"uidb64": uid, "token": token})


def email_configured() -> bool:
    return bool(settings.EMAIL_HOST)


def account_create(
    *,
    username: str,
    email: str = "",
    project: Project | None = None,
    role: str = Membership.Role.ANNOTATOR,
    created_by=None,
    site_url: str = "",
) -> NewAccount:
    """Make an account with no usable password, optionally as a member of the project, and
    the link its owner sets a password with (emailed to them when email is configured)."""
    username, email = (username or "").strip(), (email or "").strip()
    errors = account_check(username=username, email=email)
    if project is not None and role not in Membership.Role.values:
        errors["role"] = f"must be one of {', '.join(Membership.Role.values)}"
    if errors:
        raise MembershipRefused(errors)
    with transaction.atomic():
        user = get_user_model().objects.create_user(username=username, email=email)
        user.set_unusable_password()
        user.save(update_fields=["password"])
        if project is not None:
            membership_set(project=project, user=user, role=role)
    path = set_password_path(user)
    emailed = False
    if email and email_configured():
        inviter = getattr(created_by, "username", "A project lead")
        where = f" to {project.name}" if project is not None else ""
        send_mail(
            subject="Your Quorum account",
            message=f"{inviter} made you a Quorum account{where}.\n\n"
            f"Username: {username}\nSet your password (the link works once): {site_url}{path}\n",
            from_email=None,
            recipient_list=[email],
        )
        emailed = True
    return NewAccount(user=user, set_password_path=path, emailed=emailed)


# ---------- the members table ----------


@dataclass
class MemberRow:
    user_id: int
    username: str
    email: str
    role: str
    joined_at: datetime
    last_active_at: datetime | None = None
    answers: int = 0
    has_password: bool = True


# (project, user ids) -> {user id: (last active, answer count)}
MemberActivity = Callable[[Project, list[int]], dict[int, tuple[datetime | None, int]]]
_activity: list[MemberActivity] = []


def member_activity_register(reader: MemberActivity) -> None:
    _activity[:] = [reader]


def members_with_activity(*, project: Project) -> list[MemberRow]:
    memberships = project.memberships.select_related("user").order_by("user__username")
    rows = [
        MemberRow(
            user_id=m.user_id,
            username=m.user.username,
            email=m.user.email,
            role=m.role,
            joined_at=m.created_at,
            has_password=m.user.has_usable_password(),
        )
        for m in memberships
    ]
    if _activity and rows:
        activity = _activity[0](project, [r.user_id for r in rows])
        for row in rows:
            row.last_active_at, row.answers = activity.get(row.user_id, (None, 0))
    return rows
