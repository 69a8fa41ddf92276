"""API tokens (issue 18): stored only as digests, expiring, revocable, listed without their
secret; DRF's plain tokens migrated; the token endpoint still throttled; the API tokens page."""

import hashlib
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient, APIRequestFactory

from labeling.site.authentication import ApiTokenAuthentication
from projects.api_tokens import api_token_create
from projects.models import ApiToken
from projects.tasks import api_tokens_purge_task
from tests.conftest import api_client_for
from tests.factories import UserFactory, api_token_secret

pytestmark = pytest.mark.django_db


def token_client(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {secret}")
    return client


def made_through_the_api(user, **fields) -> dict:
    response = api_client_for(user).post("/api/tokens/", fields, format="json")
    assert response.status_code == 201, response.content
    return response.json()


# ---------- at rest ----------


def test_the_database_holds_a_digest_never_the_secret(lead):
    made = made_through_the_api(lead, name="pipeline")
    secret = made["token"]
    assert secret.startswith("qrm_") and len(secret) == 47
    assert made["prefix"] == secret[:12] and made["name"] == "pipeline"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiToken._meta.db_table}")
        stored = cursor.fetchall()
    assert len(stored) == 1
    assert not any(secret in str(value) for value in stored[0])
    row = ApiToken.objects.get()
    assert row.digest == hashlib.sha256(secret.encode()).hexdigest()
    assert token_client(secret).get("/api/projects/").status_code == 200


def test_listing_and_reading_tokens_never_answers_a_secret(lead):
    made = made_through_the_api(lead, name="one")
    api = api_client_for(lead)
    listed = api.get("/api/tokens/").json()
    assert listed["count"] == 1
    row = listed["results"][0]
    assert set(row) == {
        "id",
        "name",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "state",
    }
    assert row["state"] == "active" and row["prefix"] == made["prefix"]
    assert made["token"] not in api.get(f"/api/tokens/{made['id']}/").content.decode()


# ---------- lifetime ----------


def test_a_new_token_expires_after_the_default_or_the_chosen_days(lead, settings):
    settings.API_TOKEN_DAYS = 30
    default = ApiToken.objects.get(pk=made_through_the_api(lead)["id"])
    assert default.expires_at - default.created_at == timedelta(days=30)
    chosen = ApiToken.objects.get(pk=made_through_the_api(lead, expires_in_days=7)["id"])
    assert chosen.expires_at - chosen.created_at == timedelta(days=7)
    never = made_through_the_api(lead, expires_in_days=None)
    assert never["expires_at"] is None
    settings.API_TOKEN_DAYS = 0  # no expiry unless chosen
    assert made_through_the_api(lead)["expires_at"] is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"expires_in_days": 0}, "expires_in_days"),
        ({"expires_in_days": 3651}, "expires_in_days"),
        ({"expires_in_days": "soon"}, "expires_in_days"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
    ],
)
def test_bad_token_fields_are_a_400_naming_the_field(lead, fields, field):
    response = api_client_for(lead).post("/api/tokens/", fields, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not ApiToken.objects.exists()


def test_an_expired_token_is_a_401(lead):
    secret = api_token_secret(lead, expires_in_days=1)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = token_client(secret).get("/api/projects/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Token expired."}
    assert response["WWW-Authenticate"] == "Token"


def test_a_revoked_token_is_a_401_at_once(lead):
    secret = api_token_secret(lead)
    client = token_client(secret)
    token_id = ApiToken.objects.get().pk
    assert client.delete(f"/api/tokens/{token_id}/").status_code == 204  # revokes itself
    response = client.get("/api/projects/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Token revoked."}
    again = api_client_for(lead).delete(f"/api/tokens/{token_id}/")
    assert again.status_code == 204  # revoking twice changes nothing
    shown = api_client_for(lead).get(f"/api/tokens/{token_id}/").json()
    assert shown["state"] == "revoked" and shown["revoked_at"]


def test_the_purge_forgets_tokens_long_expired_or_revoked_and_keeps_the_rest(lead, settings):
    settings.API_TOKEN_KEEP_DAYS = 30
    now = timezone.now()
    ages = {"fresh": None, "never": None, "expired lately": 29, "expired long ago": 31}
    ages |= {"revoked lately": 29, "revoked long ago": 31}
    secrets = {name: api_token_secret(lead, name=name) for name in ages}
    ApiToken.objects.filter(name="never").update(expires_at=None)
    for name, days in ages.items():
        moment = now - timedelta(days=days) if days else None
        field = "revoked_at" if name.startswith("revoked") else "expires_at"
        if moment:
            ApiToken.objects.filter(name=name).update(**{field: moment})
    api_tokens_purge_task()  # as beat runs it
    kept = set(ApiToken.objects.values_list("name", flat=True))
    assert kept == {"fresh", "never", "expired lately", "revoked lately"}
    answer = token_client(secrets["expired long ago"]).get("/api/projects/")
    assert answer.json() == {"detail": "Invalid token."}
    assert token_client(secrets["expired lately"]).get("/api/projects/").json() == {
        "detail": "Token expired."
    }
    assert token_client(secrets["fresh"]).get("/api/projects/").status_code == 200


def test_another_users_token_is_a_404_and_stays_working(lead, annotator):
    secret = api_token_secret(lead)
    token_id = ApiToken.objects.get().pk
    outsider = api_client_for(annotator)
    assert outsider.get(f"/api/tokens/{token_id}/").status_code == 404
    assert outsider.delete(f"/api/tokens/{token_id}/").status_code == 404
    assert outsider.get("/api/tokens/").json()["count"] == 0
    assert token_client(secret).get("/api/projects/").status_code == 200


# ---------- each request ----------


def test_a_request_authenticates_in_one_query_and_notes_its_use_once_a_minute(lead):
    secret = api_token_secret(lead)
    request = APIRequestFactory().get("/api/projects/", HTTP_AUTHORIZATION=f"Token {secret}")

    def authenticate() -> int:
        with CaptureQueriesContext(connection) as queries:
            user, token = ApiTokenAuthentication().authenticate(request)
        assert user == lead and token.pk == ApiToken.objects.get().pk
        return len(queries)

    assert ApiToken.objects.get().last_used_at is None
    assert authenticate() == 2  # the lookup, then last_used_at
    first_use = ApiToken.objects.get().last_used_at
    assert first_use is not None
    assert authenticate() == 1  # used a moment ago: the lookup alone
    assert ApiToken.objects.get().last_used_at == first_use
    two_minutes_ago = first_use - timedelta(minutes=2)
    ApiToken.objects.update(last_used_at=two_minutes_ago)
    assert authenticate() == 2
    assert ApiToken.objects.get().last_used_at > two_minutes_ago


def test_tokens_of_a_deleted_user_go_with_them(lead):
    secret = api_token_secret(lead)
    lead.delete()
    response = token_client(secret).get("/api/projects/")
    assert response.status_code == 401 and response.json() == {"detail": "Invalid token."}


# ---------- DRF's plain tokens ----------

LEGACY_KEY = "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"


@pytest.mark.django_db(transaction=True)
def test_a_plain_drf_token_is_hashed_by_the_migration_and_keeps_working(settings):
    """The migration run for real on a database that still has authtoken's table (as DRF made
    it), from the migration before."""
    settings.API_TOKEN_DAYS = 90
    user = UserFactory(username="scripted")
    created = timezone.now() - timedelta(days=400)
    call_command("migrate", "projects", "0010", verbosity=0)
    try:
        datetime_type = (
            "timestamp with time zone" if connection.vendor == "postgresql" else "datetime"
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f'CREATE TABLE authtoken_token ("key" varchar(40) PRIMARY KEY,'
                f" created {datetime_type} NOT NULL, user_id integer NOT NULL)"
            )
            cursor.execute(
                "INSERT INTO authtoken_token VALUES (%s, %s, %s)",
                [LEGACY_KEY, connection.ops.adapt_datetimefield_value(created), user.pk],
            )
        call_command("migrate", "projects", "0011", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM authtoken_token")
            assert cursor.fetchone()[0] == 0  # the plain key left the database
    finally:
        call_command("migrate", "projects", verbosity=0)
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS authtoken_token")
    migrated = ApiToken.objects.get()
    assert migrated.user == user and migrated.prefix == LEGACY_KEY[:8]
    assert migrated.digest == hashlib.sha256(LEGACY_KEY.encode()).hexdigest()
    assert abs(migrated.created_at - created) < timedelta(seconds=1)
    assert migrated.expires_at - timezone.now() > timedelta(days=89)
    response = token_client(LEGACY_KEY).get("/api/tokens/")
    assert response.status_code == 200
    assert response.json()["results"][0]["name"] == "Migrated token"


# ---------- the token endpoint ----------


def obtain(username="lead", password="secret-pass-123", **fields):
    return APIClient().post(
        "/api/auth/token/", {"username": username, "password": password, **fields}, format="json"
    )


def test_the_token_endpoint_makes_a_new_token_each_time_shown_once(lead):
    first, second = obtain(), obtain(name="nightly", expires_in_days=None)
    assert first.status_code == second.status_code == 200
    assert first.json()["token"] != second.json()["token"]
    assert first.json()["name"] == "Token from a login" and first.json()["expires_at"]
    assert second.json()["name"] == "nightly" and second.json()["expires_at"] is None
    for answer in (first, second):
        assert token_client(answer.json()["token"]).get("/api/projects/").status_code == 200
    listed = api_client_for(lead).get("/api/tokens/").json()
    assert listed["count"] == 2
    assert all("token" not in row for row in listed["results"])


def test_the_token_endpoint_refuses_an_inactive_user_like_a_wrong_password(lead):
    lead.is_active = False
    lead.save()
    response = obtain()
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
    assert not ApiToken.objects.exists()


def test_the_token_endpoint_is_still_throttled_and_makes_no_token_then(lead, settings):
    settings.LOGIN_FAILURES_PER_USER = 3
    for _ in range(3):
        assert obtain(password="wrong").status_code == 400
    refused = obtain()
    assert refused.status_code == 429
    assert "Too many failed logins" in refused.json()["detail"]
    assert not ApiToken.objects.exists()


# ---------- the page ----------


def token_form(page, **fields) -> dict:
    """The fields the page's form posts: its hidden `once` and the ones given."""
    return {"once": page.context["form"]["once"].initial, "lifetime": "30", **fields}


def test_the_page_makes_a_token_and_shows_its_secret_once(client, lead):
    client.force_login(lead)
    page = client.get("/account/tokens/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>API tokens</h1>" in html and 'href="/account/tokens/"' in html  # in the menu
    made = client.post("/account/tokens/", token_form(page, name="notebook", lifetime="30"))
    assert made.status_code == 200 and made["Cache-Control"] == "no-store"
    token = ApiToken.objects.get()
    assert token.name == "notebook"
    assert token.expires_at - token.created_at == timedelta(days=30)
    secret = made.context["created"]["secret"]
    assert f'value="{secret}"' in made.content.decode()
    assert "not shown again" in made.content.decode()
    assert token_client(secret).get("/api/projects/").status_code == 200
    later = client.get("/account/tokens/").content.decode()
    assert secret not in later and f"{token.prefix}…" in later


def test_sending_the_form_again_makes_no_second_token(client, lead):
    """A reload of the answer sends the same form again."""
    client.force_login(lead)
    form = token_form(client.get("/account/tokens/"), name="once")
    assert "created" in client.post("/account/tokens/", form).context
    again = client.post("/account/tokens/", form, follow=True)
    assert again.redirect_chain == [("/account/tokens/", 302)]
    assert "That form was sent already" in again.content.decode()
    assert ApiToken.objects.count() == 1
    another = token_form(client.get("/account/tokens/"), name="twice")
    client.post("/account/tokens/", another)
    assert ApiToken.objects.count() == 2


def test_the_page_can_make_a_token_that_never_expires(client, lead):
    client.force_login(lead)
    page = client.get("/account/tokens/")
    client.post("/account/tokens/", token_form(page, name="forever", lifetime="never"))
    assert ApiToken.objects.get().expires_at is None


def test_the_page_offers_the_default_lifetime_first(client, lead, settings):
    settings.API_TOKEN_DAYS = 45
    client.force_login(lead)
    form = client.get("/account/tokens/").context["form"]
    assert form["lifetime"].initial == "45"
    assert ("45", "45 days") in form.fields["lifetime"].choices


def test_the_page_refuses_a_bad_form_and_makes_nothing(client, lead):
    client.force_login(lead)
    page = client.post("/account/tokens/", {"name": "", "lifetime": "12345"})
    assert page.status_code == 200
    assert page.context["form"].errors.keys() == {"name", "lifetime", "once"}
    assert not ApiToken.objects.exists()


def test_the_page_revokes_a_token(client, lead):
    secret = api_token_secret(lead, name="old laptop")
    token = ApiToken.objects.get()
    client.force_login(lead)
    response = client.post(f"/account/tokens/{token.pk}/revoke/", follow=True)
    assert response.redirect_chain == [("/account/tokens/", 302)]
    html = response.content.decode()
    assert f"Token {token.prefix}… (old laptop) revoked." in html
    assert "Expired and revoked" in html and "No active tokens." in html
    assert token_client(secret).get("/api/projects/").status_code == 401


def test_the_page_cannot_revoke_another_users_token(client, lead, annotator):
    secret = api_token_secret(lead)
    token = ApiToken.objects.get()
    client.force_login(annotator)
    assert client.post(f"/account/tokens/{token.pk}/revoke/").status_code == 404
    assert client.get(f"/account/tokens/{token.pk}/revoke/").status_code == 405
    assert token.pk not in [t.pk for t in client.get("/account/tokens/").context["active"]]
    assert token_client(secret).get("/api/projects/").status_code == 200


def test_the_page_needs_a_login(client):
    response = client.get("/account/tokens/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_service_refuses_a_lifetime_out_of_range(lead):
    with pytest.raises(ValueError):
        api_token_create(user=lead, name="x", expires_in_days=0)
