"""API tokens: made with a name and a lifetime, their secret answered once and stored only as
its SHA-256 digest, checked on every API request, revoked by their owner.

- api_token_create(user=, name=, expires_in_days=) -> (ApiToken, secret)
- api_token_authenticate(secret=) -> (user, ApiToken), or ApiTokenRefused
- api_token_project(secret=, project_id=) -> (project, role), or None: a hot path's one query
- lead_caller_sql(conditions) and lead_caller_params(...): the same check as part of a hot
  path's own statement (a `caller` row only for a lead's valid token), the use noted there too
- api_token_revoke(token=), api_tokens_of(user=), api_token_default_days()
- token_header_secret(authorization): the secret of an `Authorization: Token ...` header
- api_tokens_purge(): forget tokens expired or revoked API_TOKEN_KEEP_DAYS ago (beat, daily)

A secret is `qrm_` and 43 random URL-safe characters (256 bits), so a plain digest without a
salt is as strong as the secret (there is no dictionary to try); `qrm_` lets secret scanners
recognise a leaked one. Tokens of DRF's authtoken were hashed into this table by migration
0011 and keep working: their 40 hex characters are looked up the same way.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from projects.direct_sql import model_columns, model_row_read, rows_update
from projects.models import ApiToken, Membership, Project

SECRET_PREFIX = "qrm_"
PREFIX_SHOWN = len(SECRET_PREFIX) + 8
NAME_MAX = ApiToken._meta.get_field("name").max_length
LIFETIME_MAX_DAYS = 3650
# last_used_at is written when it is older than this, so a busy token costs one UPDATE a minute.
LAST_USED_PRECISION = timedelta(minutes=1)

User = get_user_model()
_token = ApiToken._meta
# The user and the token's state in one query on the digest's unique index: expiry and
# staleness are compared in SQL, so no datetime comes back to convert (SQLite returns text).
USER_BY_TOKEN_SQL = (
    f"SELECT {model_columns(User, 'u')}, t.{_token.pk.column} AS api_token_id,"
    f" (t.revoked_at IS NOT NULL) AS api_token_revoked,"
    f" (t.expires_at IS NOT NULL AND t.expires_at <= %s) AS api_token_expired,"
    f" (t.last_used_at IS NULL OR t.last_used_at < %s) AS api_token_unused_lately"
    f" FROM {User._meta.db_table} u JOIN {_token.db_table} t"
    f" ON t.user_id = u.{User._meta.pk.column} WHERE t.digest = %s"
)

# A token's call on one project in one query: the project row, whether the token may act, and
# its user's role there (a superuser's is lead, as in projects.access).
PROJECT_BY_TOKEN_SQL = (
    f"SELECT {model_columns(Project, 'p')}, t.{_token.pk.column} AS api_token_id,"
    f" (t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > %s) AND u.is_active)"
    f" AS api_token_valid,"
    f" (t.last_used_at IS NULL OR t.last_used_at < %s) AS api_token_unused_lately,"
    f" CASE WHEN u.is_superuser THEN %s ELSE (SELECT m.role FROM {Membership._meta.db_table} m"
    f" WHERE m.project_id = p.id AND m.user_id = u.{User._meta.pk.column}) END AS member_role"
    f" FROM {_token.db_table} t JOIN {User._meta.db_table} u"
    f" ON t.user_id = u.{User._meta.pk.column}, {Project._meta.db_table} p"
    f" WHERE t.digest = %s AND p.id = %s"
)


# A lead's token call on one project as the first CTEs of a statement that does the work too:
# `caller` has a row (project_id, token_id) only when the token may act and its user leads the
# project (a superuser does), and the project row also meets `{conditions}` (SQL that follows
# the WHERE's conditions, e.g. more conditions on p and a locking clause); `noted` writes
# last_used_at as _use_note does. The statement's answer must say whether `caller` had a row.
LEAD_CALLER_SQL = (
    f"caller AS (SELECT p.id AS project_id, t.{_token.pk.column} AS token_id,"
    f" (t.last_used_at IS NULL OR t.last_used_at < %s) AS unused_lately"
    f" FROM {_token.db_table} t JOIN {User._meta.db_table} u"
    f" ON t.user_id = u.{User._meta.pk.column}, {Project._meta.db_table} p"
    f" WHERE t.digest = %s AND p.id = %s AND t.revoked_at IS NULL"
    f" AND (t.expires_at IS NULL OR t.expires_at > %s) AND u.is_active"
    f" AND (u.is_superuser OR EXISTS (SELECT 1 FROM {Membership._meta.db_table} m"
    f" WHERE m.project_id = p.id AND m.user_id = u.{User._meta.pk.column} AND m.role = %s))"
    " {conditions}),"
    f" noted AS (UPDATE {_token.db_table} SET last_used_at = %s WHERE {_token.pk.column} IN"
    " (SELECT token_id FROM caller WHERE unused_lately))"
)


def lead_caller_sql(conditions: str) -> str:
    return LEAD_CALLER_SQL.format(conditions=conditions)


def lead_caller_params(*, secret: str, project_id: int, conditions_params: list) -> list:
    """The parameters of lead_caller_sql, `conditions_params` those of its conditions."""
    now = timezone.now()
    expiry, staleness = _expiry_and_staleness(now)
    lead = Membership.Role.LEAD
    digest = api_token_digest(secret)
    return [staleness, digest, project_id, expiry, lead, *conditions_params, expiry]


class ApiTokenRefused(Exception):
    """The secret authenticates nobody; the message says why (for a 401)."""


def api_token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


def token_header_secret(authorization: str) -> str | None:
    """The secret of an `Authorization: Token <secret>` header as DRF's TokenAuthentication
    reads it, or None for any other header."""
    parts = authorization.split()
    if len(parts) != 2 or parts[0].lower() != "token" or not parts[1].isascii():
        return None
    return parts[1]


def api_token_default_days() -> int | None:
    """The lifetime a new token gets unless its owner chooses (API_TOKEN_DAYS; None: never)."""
    return settings.API_TOKEN_DAYS or None


def api_token_create(*, user, name: str, expires_in_days: int | None) -> tuple[ApiToken, str]:
    """A new token for the user, expiring after that many days (None: never), and its secret:
    the only time it is known; only its digest is stored."""
    if expires_in_days is not None and not 1 <= expires_in_days <= LIFETIME_MAX_DAYS:
        raise ValueError(f"expires_in_days must be between 1 and {LIFETIME_MAX_DAYS}")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:NAME_MAX] or "API token",
        prefix=secret[:PREFIX_SHOWN],
        digest=api_token_digest(secret),
        created_at=now,
        expires_at=None if expires_in_days is None else now + timedelta(days=expires_in_days),
    )
    return token, secret


def api_token_authenticate(*, secret: str) -> tuple[object, ApiToken]:
    """The active user this secret belongs to and the token it is; ApiTokenRefused if it is
    unknown, revoked or expired, or its user is inactive. Notes the use (once a minute)."""
    now = timezone.now()
    params = [*_expiry_and_staleness(now), api_token_digest(secret)]
    found = model_row_read(User, USER_BY_TOKEN_SQL, params)
    if found is None:
        raise ApiTokenRefused("Invalid token.")
    user, (token_id, revoked, expired, unused_lately) = found
    if revoked:
        raise ApiTokenRefused("Token revoked.")
    if expired:
        raise ApiTokenRefused("Token expired.")
    if not user.is_active:
        raise ApiTokenRefused("User inactive or deleted.")
    _use_note(token_id, unused_lately, now)
    return user, ApiToken(pk=token_id, user=user)


def api_token_project(*, secret: str, project_id: int) -> tuple[Project, str | None] | None:
    """For the hottest API calls, answered before DRF's request cycle: the project and the
    role in it of the user this secret belongs to (None: not a member), in one query. None when
    the secret is refused (unknown, revoked, expired, its user inactive) or there is no such
    project: the full path then answers with the reason. Notes the use, as
    api_token_authenticate does."""
    now = timezone.now()
    params = [
        *_expiry_and_staleness(now),
        Membership.Role.LEAD,
        api_token_digest(secret),
        project_id,
    ]
    found = model_row_read(Project, PROJECT_BY_TOKEN_SQL, params)
    if found is None:
        return None
    project, (token_id, valid, unused_lately, role) = found
    if not valid:
        return None
    _use_note(token_id, unused_lately, now)
    return project, role


def _expiry_and_staleness(now) -> list:
    """The moments the token queries compare in SQL, as the database takes them: now (expiry)
    and the oldest last use that needs no new note."""
    return [
        connection.ops.adapt_datetimefield_value(moment)
        for moment in (now, now - LAST_USED_PRECISION)
    ]


def _use_note(token_id: int, unused_lately: bool, now) -> None:
    """last_used_at, written once a minute at most (the token query read `unused_lately`)."""
    if unused_lately:
        rows_update(ApiToken, {"pk": token_id}, set={"last_used_at": now})


def api_tokens_of(*, user):
    """The user's tokens, newest first (revoked and expired ones too)."""
    return ApiToken.objects.filter(user=user).order_by("-created_at", "-id")


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    """Revoke the token for good (again: nothing changes). The row stays, so the page and the
    401 can say it was revoked."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
            revoked_at=token.revoked_at
        )
    return token


def api_tokens_purge(*, now=None) -> int:
    """Delete the tokens that expired or were revoked over API_TOKEN_KEEP_DAYS ago (until then
    a call with one is told "Token expired." and its owner's page lists it). The count."""
    now = now or timezone.now()
    before = now - timedelta(days=settings.API_TOKEN_KEEP_DAYS)
    gone = ApiToken.objects.filter(Q(expires_at__lte=before) | Q(revoked_at__lte=before))
    return gone.delete()[0]
