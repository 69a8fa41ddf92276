"""Login throttling (issue 18): failed logins per username and per address, for the login page
and the token endpoint scripts use; past the limit even the right password waits."""

import pytest
from rest_framework.test import APIClient

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a long right password"


@pytest.fixture
def victim():
    user = UserFactory(username="victim")
    user.set_password(PASSWORD)
    user.save()
    return user


def token(client, username, password, address="10.0.0.1"):
    return client.post(
        "/api/auth/token/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def test_the_token_endpoint_still_works_for_scripts(victim):
    response = token(APIClient(), "victim", PASSWORD)
    assert response.status_code == 200 and response.json()["token"]


def test_token_requests_are_throttled_per_username(victim, settings):
    settings.LOGIN_FAILURES_PER_USER = 5
    client = APIClient()
    for n in range(5):  # from different addresses: the username's count still grows
        assert token(client, "victim", "wrong", address=f"10.0.0.{n}").status_code == 400
    refused = token(client, "victim", PASSWORD, address="10.9.9.9")
    assert refused.status_code == 429
    assert "Too many failed logins" in refused.json()["detail"]
    assert refused["Retry-After"] == str(settings.LOGIN_FAILURE_WINDOW)


def test_token_requests_are_throttled_per_address(victim, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 3
    client = APIClient()
    for name in ("a", "b", "c"):  # different usernames, one address
        assert token(client, name, "wrong").status_code == 400
    assert token(client, "victim", PASSWORD).status_code == 429
    assert token(client, "victim", PASSWORD, address="10.0.0.2").status_code == 200


def test_the_login_page_is_throttled_too(client, victim, settings):
    settings.LOGIN_FAILURES_PER_USER = 2
    for _ in range(2):
        page = client.post("/accounts/login/", {"username": "victim", "password": "wrong"})
        assert page.status_code == 200
    page = client.post("/accounts/login/", {"username": "victim", "password": PASSWORD})
    assert page.status_code == 429
    assert b"Too many failed logins" in page.content
    assert "_auth_user_id" not in client.session


def test_behind_the_proxy_the_address_it_appended_counts(victim, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 2
    settings.TRUST_X_FORWARDED_FOR = True
    client = APIClient()

    def attempt(forwarded, password="wrong"):
        return client.post(
            "/api/auth/token/",
            {"username": "victim", "password": password},
            REMOTE_ADDR="172.18.0.5",  # the proxy, for everyone
            HTTP_X_FORWARDED_FOR=forwarded,
        )

    settings.LOGIN_FAILURES_PER_USER = 100
    assert attempt("6.6.6.6, 10.1.1.1").status_code == 400
    assert attempt("7.7.7.7, 10.1.1.1").status_code == 400  # a forged first entry changes nothing
    assert attempt("10.1.1.1", PASSWORD).status_code == 429
    assert attempt("10.2.2.2", PASSWORD).status_code == 200  # another client is not held up


def test_a_token_request_that_is_not_an_object_is_a_400(victim):
    response = APIClient().post("/api/auth/token/", [None, None], format="json")
    assert response.status_code == 400  # found by the fuzzer: it was a 500
