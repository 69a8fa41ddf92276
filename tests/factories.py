"""factory_boy factories shared by every test."""

import copy

import factory
from django.contrib.auth import get_user_model

from projects.api_tokens import api_token_create
from projects.items.search_index import items_search_index
from projects.models import Item, Membership, Prediction, Project

TEXT_CLASSIFICATION_SCHEMA = {
    "controls": [
        {
            "name": "sentiment",
            "kind": "choice",
            "source": "text",
            "labels": [
                {"value": "positive", "color": "#2e7d32", "hotkey": "1"},
                {"value": "negative", "color": "#c62828", "hotkey": "2"},
                {"value": "neutral", "color": "#616161", "hotkey": "3"},
            ],
        }
    ]
}


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password("secret-pass-123")


class ProjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Project

    name = factory.Sequence(lambda n: f"Project {n}")
    instructions = "Label the sentiment of each text."
    # A copy each: a test that edits its project's schema in place leaves the others' alone.
    label_schema = factory.LazyFunction(lambda: copy.deepcopy(TEXT_CLASSIFICATION_SCHEMA))
    overlap = 1


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    project = factory.SubFactory(ProjectFactory)
    user = factory.SubFactory(UserFactory)
    role = Membership.Role.ANNOTATOR


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Item
        skip_postgeneration_save = True

    project = factory.SubFactory(ProjectFactory)
    external_id = factory.Sequence(lambda n: f"item-{n}")
    data = factory.Sequence(lambda n: {"text": f"Text number {n} is fine."})

    @factory.post_generation
    def searchable(item, create, extracted, **kwargs):
        """Indexed for search at once, as the worker would have it after items arrive;
        ItemFactory(searchable=False) leaves it pending."""
        if create and extracted is not False:
            items_search_index(item.project_id)


class PredictionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prediction

    item = factory.SubFactory(ItemFactory)
    model_version = "v1"
    result = factory.LazyFunction(lambda: {"sentiment": "positive"})
    score = 0.9


def api_token_secret(user, *, name: str = "test token", expires_in_days: int | None = 1) -> str:
    """The secret of a new API token of the user, made as the page and the API make them."""
    return api_token_create(user=user, name=name, expires_in_days=expires_in_days)[1]
