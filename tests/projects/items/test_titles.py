"""What a person reads for an item, and the lead's skip reasons."""

import pytest

from projects.items.titles import item_title, item_title_of
from tests.conftest import api_client_for
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_an_item_reads_as_its_number_and_its_given_id_only():
    project, other = ProjectFactory(), ProjectFactory()
    ItemFactory(project=other)  # numbers count within the project
    first = ItemFactory(project=project, external_id="row-7")
    second = ItemFactory(project=project, external_id="sha1:2c83aa17")
    assert item_title_of(first) == "Item 1 (row-7)"
    assert item_title_of(second) == "Item 2"
    assert item_title(number=3, external_id="") == "Item 3"


def test_an_items_title_over_the_api():
    project = ProjectFactory()
    annotator = UserFactory()
    MembershipFactory(project=project, user=annotator, role="annotator")
    ItemFactory(project=project, external_id="first")
    item = ItemFactory(project=project, external_id="sha1:abc")
    client = api_client_for(annotator)
    assert client.get(f"/api/items/{item.pk}/title/").json() == {"title": "Item 2"}
    assert client.get("/api/items/999999/title/").status_code == 404
    assert api_client_for(UserFactory()).get(f"/api/items/{item.pk}/title/").status_code == 404


def test_skip_reasons_are_set_over_the_api_and_checked():
    lead = UserFactory()
    project = ProjectFactory()
    MembershipFactory(project=project, user=lead, role="lead")
    client = api_client_for(lead)
    url = f"/api/projects/{project.pk}/"
    response = client.patch(url, {"skip_reasons": [" Unreadable ", "Not sure"]}, format="json")
    assert response.status_code == 200 and response.json()["skip_reasons"] == [
        "Unreadable",
        "Not sure",
    ]
    response = client.patch(url, {"skip_reasons": ["ok", ""]}, format="json")
    assert response.status_code == 400 and "skip_reasons" in response.json()
    project.refresh_from_db()
    assert project.skip_reasons == ["Unreadable", "Not sure"]


def test_skip_reasons_are_set_on_the_settings_page(client):
    lead = UserFactory()
    project = ProjectFactory()
    MembershipFactory(project=project, user=lead, role="lead")
    client.force_login(lead)
    page = client.get(f"/projects/{project.pk}/settings/")
    form = page.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data.update(
        {
            "schema_json": form.initial["schema_json"],
            "skip_reasons_text": "Unreadable\n\nNot sure\nUnreadable\n",
            "prefill_predictions": "",
        }
    )
    data.pop("prefill_predictions")
    response = client.post(f"/projects/{project.pk}/settings/", data)
    assert response.status_code == 302, response.context["form"].errors
    project.refresh_from_db()
    assert project.skip_reasons == ["Unreadable", "Not sure"]
