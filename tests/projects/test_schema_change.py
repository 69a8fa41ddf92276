"""Changing a label schema: removing a used label is refused with the number of answers it would
orphan; a rename map moves answers, drafts, resolutions, predictions and gold in one transaction
and is recorded in the project's history."""

import pytest

from labeling.models import Annotation, Draft, Resolution
from projects.label_schema import SchemaError
from projects.models import Item, Prediction, ProjectHistory
from projects.schema_change import SchemaChangeRefused, project_schema_change
from tests.factories import ItemFactory, PredictionFactory, UserFactory

pytestmark = pytest.mark.django_db

SCHEMA = {
    "controls": [
        {"name": "sentiment", "kind": "choice", "source": "text", "labels": ["pos", "neg", "meh"]},
        {"name": "topics", "kind": "multi", "source": "text", "labels": ["a", "b", "c"]},
        {"name": "entities", "kind": "spans", "source": "text", "labels": ["PER", "ORG"]},
    ]
}


def renamed_schema(**labels):
    controls = []
    for control in SCHEMA["controls"]:
        controls.append({**control, "labels": labels.get(control["name"], control["labels"])})
    return {"controls": controls}


@pytest.fixture
def answered(project, annotator):
    project.label_schema = SCHEMA
    project.save()
    other = UserFactory(username="ann2")
    items = [ItemFactory(project=project, data={"text": "Maria works at Acme."}) for _ in range(3)]
    results = [
        {
            "sentiment": "pos",
            "topics": ["a", "b"],
            "entities": [{"start": 0, "end": 5, "label": "PER"}],
        },
        {"sentiment": "neg", "topics": ["b"], "entities": []},
        {
            "sentiment": "pos",
            "topics": ["c"],
            "entities": [{"start": 15, "end": 19, "label": "ORG"}],
        },
    ]
    for item, result in zip(items, results, strict=True):
        Annotation.objects.create(project=project, item=item, annotator=annotator, result=result)
    Annotation.objects.create(
        project=project,
        item=items[1],
        annotator=other,
        result={"sentiment": "pos", "topics": ["a"]},
    )
    Draft.objects.create(item=items[2], annotator=other, result={"sentiment": "pos"})
    Resolution.objects.create(item=items[0], result=results[0], method="majority")
    PredictionFactory(item=items[1], result={"sentiment": "pos", "topics": ["a", "c"]})
    Item.objects.filter(pk=items[2].pk).update(gold={"sentiment": "pos", "topics": ["a"]})
    return project


def test_removing_a_used_label_is_refused_with_the_answers_it_would_orphan(answered, lead):
    with pytest.raises(SchemaChangeRefused) as caught:
        project_schema_change(
            project=answered,
            label_schema=renamed_schema(sentiment=["positive", "neg", "meh"]),
            user=lead,
        )
    refusal = caught.value
    assert "would orphan 3 answers" in refusal.errors["label_schema"]
    assert "'sentiment' label 'pos'" in refusal.errors["label_schema"]
    assert refusal.orphaned["answers"] == 3
    assert refusal.orphaned["resolutions"] == 1
    assert refusal.orphaned["predictions"] == 1
    assert refusal.orphaned["gold answers"] == 1
    assert refusal.orphaned["drafts"] == 1
    answered.refresh_from_db()
    assert answered.label_schema == SCHEMA
    assert not ProjectHistory.objects.exists()


def test_removing_an_unused_label_or_adding_one_is_allowed_and_recorded(answered, lead):
    change = project_schema_change(
        project=answered,
        label_schema=renamed_schema(sentiment=["pos", "neg", "new"]),
        user=lead,
    )
    assert change.changed_by == lead and change.migrated == {}
    answered.refresh_from_db()
    assert [lb["value"] for lb in answered.label_schema["controls"][0]["labels"]] == [
        "pos",
        "neg",
        "new",
    ]


def test_removing_a_used_control_counts_every_answer_with_it(answered):
    schema = {"controls": SCHEMA["controls"][:2]}
    with pytest.raises(SchemaChangeRefused) as caught:
        project_schema_change(project=answered, label_schema=schema)
    assert "control 'entities'" in caught.value.errors["label_schema"]
    assert caught.value.orphaned["answers"] == 2  # the answers with at least one entity


def test_a_rename_map_moves_every_stored_result_in_one_change(answered, lead):
    new_schema = renamed_schema(
        sentiment=["positive", "neg", "meh"], topics=["a", "c"], entities=["PERSON", "ORG"]
    )
    change = project_schema_change(
        project=answered,
        label_schema=new_schema,
        renames={
            "sentiment": {"pos": "positive"},
            "topics": {"b": "a"},
            "entities": {"PER": "PERSON"},
        },
        user=lead,
    )
    assert change.renames["sentiment"] == {"pos": "positive"}
    assert change.migrated == {
        "answers": 4,
        "drafts": 1,
        "resolutions": 1,
        "predictions": 1,
        "gold answers": 1,
    }
    results = list(
        Annotation.objects.filter(project=answered).order_by("id").values_list("result", flat=True)
    )
    assert [r["sentiment"] for r in results] == ["positive", "neg", "positive", "positive"]
    # b merged into a: listed once.
    assert [r["topics"] for r in results] == [["a"], ["a"], ["c"], ["a"]]
    assert results[0]["entities"] == [{"start": 0, "end": 5, "label": "PERSON"}]
    assert Draft.objects.get().result == {"sentiment": "positive"}
    assert Resolution.objects.get().result["sentiment"] == "positive"
    assert Prediction.objects.get().result == {"sentiment": "positive", "topics": ["a", "c"]}
    assert Item.objects.get(gold__isnull=False).gold["sentiment"] == "positive"
    # Every stored result answers the new schema.
    from projects.label_schema import LabelSchema

    schema = LabelSchema(new_schema)
    for result in results:
        schema.validate(result)


@pytest.mark.parametrize(
    ("renames", "message"),
    [
        ({"nope": {"pos": "positive"}}, "'nope' is not a control with labels"),
        ({"sentiment": {"zzz": "positive"}}, "'zzz' is not one of its labels"),
        ({"sentiment": {"pos": "missing"}}, "'missing' is not a label of the new schema"),
        (["pos"], "must be an object"),
    ],
)
def test_a_wrong_rename_map_is_refused_and_changes_nothing(answered, renames, message):
    with pytest.raises(SchemaChangeRefused) as caught:
        project_schema_change(
            project=answered,
            label_schema=renamed_schema(sentiment=["positive", "neg", "meh"]),
            renames=renames,
        )
    assert message in caught.value.errors["label_renames"]
    assert Annotation.objects.filter(result__sentiment="pos").count() == 3


def test_a_bad_schema_is_a_schema_error(answered):
    with pytest.raises(SchemaError):
        project_schema_change(project=answered, label_schema={"controls": []})


# ---------- over the API ----------


def test_api_refuses_an_orphaning_change_with_400_naming_the_field(answered, lead_api):
    response = lead_api.patch(
        f"/api/projects/{answered.pk}/",
        {"label_schema": renamed_schema(sentiment=["positive", "neg", "meh"]), "name": "Renamed"},
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert "would orphan 3 answers" in body["label_schema"][0]
    assert body["orphaned"]["answers"] == 3
    answered.refresh_from_db()
    assert answered.name != "Renamed" and answered.label_schema == SCHEMA


def test_api_renames_with_a_map_and_lists_the_history(answered, lead_api):
    response = lead_api.patch(
        f"/api/projects/{answered.pk}/",
        {
            "label_schema": renamed_schema(sentiment=["positive", "neg", "meh"]),
            "label_renames": {"sentiment": {"pos": "positive"}},
        },
        format="json",
    )
    assert response.status_code == 200, response.content
    assert "label_renames" not in response.json()
    assert Annotation.objects.filter(result__sentiment="positive").count() == 3
    history = lead_api.get(f"/api/projects/{answered.pk}/history/").json()["results"]
    assert history[0]["renames"] == {"sentiment": {"pos": "positive"}}
    assert history[0]["migrated"]["answers"] == 3
    assert history[0]["changed_by"] == "lead"


def test_api_renames_without_a_schema_are_refused(answered, lead_api):
    response = lead_api.patch(
        f"/api/projects/{answered.pk}/", {"label_renames": {"sentiment": {}}}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"label_renames": ["comes with label_schema"]}


def test_settings_page_refuses_then_renames(answered, lead):
    import json

    from django.test import Client

    client = Client()
    client.force_login(lead)
    form = {
        "name": answered.name,
        "instructions": "",
        "overlap": 1,
        "max_overlap": 5,
        "assignment_timeout": 1800,
        "ordering": "sequential",
        "review_policy": "none",
        "auto_accept_threshold": 0,
        "aggregation": "majority",
        "gold_share": 0,
        "schema_json": json.dumps(renamed_schema(sentiment=["positive", "neg", "meh"])),
    }
    refused = client.post(f"/projects/{answered.pk}/settings/", form)
    assert refused.status_code == 200
    assert "would orphan 3 answers" in refused.content.decode()
    saved = client.post(
        f"/projects/{answered.pk}/settings/",
        {**form, "label_renames": json.dumps({"sentiment": {"pos": "positive"}})},
    )
    assert saved.status_code == 302
    assert Annotation.objects.filter(result__sentiment="positive").count() == 3
    page = client.get(f"/projects/{answered.pk}/settings/").content.decode()
    assert "pos → positive" in page
