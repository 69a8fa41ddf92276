"""People: leads make accounts with a one-time set-password link, change roles, remove members;
the members table shows last activity and answers. Bad input: 400 naming the field, nothing
stored."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from labeling.models import Annotation
from projects.members import MembershipRefused, account_create, members_with_activity
from projects.models import Membership
from tests.factories import ItemFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
User = get_user_model()


def test_account_gets_a_one_time_set_password_link(project, lead, client):
    account = account_create(username="newbie", email="", project=project, created_by=lead)
    assert not account.user.has_usable_password()
    assert project.memberships.get(user=account.user).role == Membership.Role.ANNOTATOR
    assert account.emailed is False
    page = client.get(account.set_password_path, follow=True)
    assert "Set your password" in page.content.decode()
    form_url = page.redirect_chain[-1][0]
    done = client.post(
        form_url, {"new_password1": "a-Long-pass-4242", "new_password2": "a-Long-pass-4242"}
    )
    assert done.status_code == 302
    assert Client().login(username="newbie", password="a-Long-pass-4242")
    # The link is spent once the password is set.
    again = Client().get(account.set_password_path, follow=True)
    assert "has been used already or has expired" in again.content.decode()


def test_the_link_is_emailed_when_email_is_configured(project, lead, settings):
    settings.EMAIL_HOST = "smtp.example.com"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    account = account_create(
        username="mailed",
        email="mailed@example.com",
        project=project,
        created_by=lead,
        site_url="https://quorum.example.com",
    )
    assert account.emailed is True
    assert mail.outbox[0].to == ["mailed@example.com"]
    assert f"https://quorum.example.com{account.set_password_path}" in mail.outbox[0].body


def test_api_creates_an_account_as_a_member(project, lead_api):
    response = lead_api.post(
        f"/api/projects/{project.pk}/accounts/",
        {"username": "rosa", "email": "rosa@example.com", "role": "reviewer"},
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["role"] == "reviewer" and body["emailed"] is False
    assert re.match(r"^http://testserver/accounts/reset/[^/]+/[^/]+/$", body["set_password_url"])
    assert project.memberships.get(user__username="rosa").role == "reviewer"


@pytest.mark.parametrize(
    ("body", "field", "rule"),
    [
        ({"username": "lead"}, "username", "is taken"),
        ({"username": "LEAD"}, "username", "is taken"),
        ({"username": "has space"}, "username", "letters, digits"),
        ({"username": ""}, "username", ""),
        ({"username": "x" * 151}, "username", ""),
        ({"username": "ok", "email": "not-an-email"}, "email", ""),
        ({"username": "ok", "role": "boss"}, "role", ""),
    ],
)
def test_api_account_bad_input_names_the_field_and_stores_nothing(
    project, lead_api, body, field, rule
):
    before = User.objects.count()
    response = lead_api.post(f"/api/projects/{project.pk}/accounts/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert rule in " ".join(response.json()[field])
    assert User.objects.count() == before


def test_annotators_cannot_create_accounts(project, annotator_api):
    response = annotator_api.post(
        f"/api/projects/{project.pk}/accounts/", {"username": "sneaky"}, format="json"
    )
    assert response.status_code == 403
    assert not User.objects.filter(username="sneaky").exists()


def test_api_changes_roles_and_removes_members_but_keeps_the_last_lead(project, lead_api, lead):
    url = f"/api/projects/{project.pk}/members/"
    assert lead_api.patch(f"{url}ann1/", {"role": "reviewer"}, format="json").status_code == 200
    assert project.memberships.get(user__username="ann1").role == "reviewer"
    bad = lead_api.patch(f"{url}ann1/", {"role": "boss"}, format="json")
    assert bad.status_code == 400 and "role" in bad.json()
    last = lead_api.patch(f"{url}lead/", {"role": "annotator"}, format="json")
    assert last.status_code == 400
    assert last.json() == {"role": ["the project's last lead stays a lead"]}
    assert lead_api.delete(f"{url}lead/").json() == {
        "username": ["the project's last lead cannot be removed"]
    }
    assert lead_api.delete(f"{url}ann1/").status_code == 204
    assert not project.memberships.filter(user__username="ann1").exists()
    assert lead_api.delete(f"{url}ann1/").status_code == 404
    assert project.memberships.get(user=lead).role == "lead"


def test_members_show_last_activity_and_answers(project, annotator, lead_api):
    items = [ItemFactory(project=project) for _ in range(2)]
    for item in items:
        Annotation.objects.create(
            project=project, item=item, annotator=annotator, result={"sentiment": "positive"}
        )
    rows = {r.username: r for r in members_with_activity(project=project)}
    assert rows["ann1"].answers == 2 and rows["ann1"].last_active_at is not None
    assert rows["lead"].answers == 0 and rows["lead"].last_active_at is None
    listed = {m["username"]: m for m in lead_api.get(f"/api/projects/{project.pk}/members/").json()}
    assert listed["ann1"]["answers"] == 2 and listed["ann1"]["last_active_at"]


def test_members_page_creates_an_account_shows_the_link_once_and_manages_roles(project, lead):
    client = Client()
    client.force_login(lead)
    created = client.post(
        f"/projects/{project.pk}/accounts/", {"username": "pia", "email": "", "role": "annotator"}
    )
    assert created.status_code == 302
    page = client.get(f"/projects/{project.pk}/").content.decode()
    assert "Account pia created" in page and "/accounts/reset/" in page
    assert "/accounts/reset/" not in client.get(f"/projects/{project.pk}/").content.decode()
    pia = User.objects.get(username="pia")
    client.post(f"/projects/{project.pk}/members/{pia.pk}/role/", {"role": "reviewer"})
    assert project.memberships.get(user=pia).role == "reviewer"
    client.post(f"/projects/{project.pk}/members/{pia.pk}/remove/")
    assert not project.memberships.filter(user=pia).exists()
    refused = client.post(f"/projects/{project.pk}/members/{lead.pk}/remove/", follow=True)
    assert "last lead cannot be removed" in refused.content.decode()
    taken = client.post(
        f"/projects/{project.pk}/accounts/", {"username": "ann1", "role": "annotator"}, follow=True
    )
    assert "Username: &#x27;ann1&#x27; is taken." in taken.content.decode()


def test_the_service_refuses_a_duplicate_username(project):
    UserFactory(username="dup")
    with pytest.raises(MembershipRefused) as caught:
        account_create(username="dup", project=project)
    assert caught.value.errors == {"username": "'dup' is taken"}


def test_error_pages_are_styled_with_the_navigation(project, lead, settings):
    settings.DEBUG = False
    other = MembershipFactory(role="annotator").project
    MembershipFactory(project=other, user=lead, role="annotator")
    client = Client()
    client.force_login(lead)
    lead.is_staff = False
    lead.save()
    missing = client.get("/projects/999999/")
    assert missing.status_code == 404
    assert 'class="topbar"' in missing.content.decode() and "Not found" in missing.content.decode()
    assert client.get(f"/projects/{project.pk + 999999}/").status_code == 404
    forbidden = client.get(f"/projects/{other.pk}/settings/")
    assert forbidden.status_code == 403
    assert "This needs the role lead" in forbidden.content.decode()
    assert "Log out" in forbidden.content.decode()


def test_500_page_and_favicon(rf, client):
    from labeling.site.errors import server_error

    request = rf.get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    response = server_error(request)
    assert response.status_code == 500
    assert "Something went wrong" in response.content.decode()
    assert 'class="topbar"' in response.content.decode()
    favicon = client.get("/favicon.ico")
    assert favicon.status_code == 302 and favicon["Location"].endswith("favicon.ico")
