"""The data manager's filters, search, sorts and keyset pages, through the service."""

import pytest
from django.db import connection

from labeling.datamanager import query
from labeling.datamanager.query import ItemFilterError, items_table_page, items_table_query
from projects.items.create import items_create
from projects.items.predictions import predictions_create
from projects.items.search_index import items_search_index, search_indexed
from projects.models import Item, ItemSearch
from tests.factories import ItemFactory


def external_ids(project, **params) -> list[str]:
    queryset, _ = items_table_query(project=project, params=params)
    return [item.external_id for item in queryset]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, list("abcdef")),
        ({"status": ["resolved", "in_review"]}, ["b", "c"]),
        ({"annotator": "cat"}, ["b", "c"]),
        ({"not_annotator": "cat"}, ["a", "d", "e", "f"]),
        ({"label": "negative"}, ["c"]),
        ({"label": "negative", "label_in": "resolution"}, []),
        ({"label": "positive", "label_in": "resolution"}, ["b", "c"]),
        ({"label": "negative", "label_in": "answers"}, ["c"]),
        ({"agreement_min": 0.9}, ["b"]),
        ({"agreement_max": 0.6}, ["c"]),
        ({"agreement_min": 0.4, "agreement_max": 1}, ["b", "c"]),
        ({"score_min": 0.5}, ["f"]),
        ({"score_max": 0.5}, ["e"]),
        ({"model_version": "v2"}, ["f"]),
        ({"gold": "true"}, ["d"]),
        ({"gold": "false"}, list("abcef")),
        ({"disagreement": "true"}, ["c"]),
        ({"disagreement": "false"}, list("abdef")),
        ({"field": "meta.source", "field_equals": "news"}, ["e"]),
        ({"field": "meta.source", "field_contains": "LO"}, ["f"]),
        ({"field": "n", "field_min": 10}, ["f"]),
        ({"field": "n", "field_max": 10}, ["e"]),
        ({"field": "text", "field_min": 0}, []),  # text values are never inside a number range
        ({"search": "crowd"}, ["b"]),
        ({"search": "rain play"}, ["f"]),
        ({"status": "open", "search": "the"}, ["a"]),
        ({"annotator": "bob", "agreement_min": 0.9, "label": "positive"}, ["b"]),
    ],
)
def test_filters_select_the_items(table, params, expected):
    assert external_ids(table.project, **params) == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("id", list("abcdef")),
        ("-id", list("fedcba")),
        ("priority", list("defabc")),
        ("-priority", list("cbafed")),
        ("-answers", list("cbfeda")),
        ("agreement", list("cbadef")),  # items without a resolution last, by id
        ("-agreement", list("bcfeda")),
        ("score", list("efabcd")),
        ("-score", list("fedcba")),
        ("gold", list("abcef") + ["d"]),
        ("-gold", ["d"] + list("fecba")),
        ("-external_id", list("fedcba")),
        ("status", list("cadefb")),
        ("model_version", list("efabcd")),
        ("text", list("dbfeca")),
        ("resolution", list("bcadef")),
        ("created", list("abcdef")),
    ],
)
def test_every_column_sorts(table, ordering, expected):
    assert external_ids(table.project, ordering=ordering) == expected


def walk(project, size: int, **params) -> list[str]:
    seen, cursor = [], None
    for _ in range(100):
        page = items_table_page(
            project=project, params={**params, **({"cursor": cursor} if cursor else {})}, size=size
        )
        seen += [item.external_id for item in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return seen
    raise AssertionError("the pages never ended")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "ordering",
    [
        "id",
        "-id",
        "priority",
        "-priority",
        "agreement",
        "-agreement",
        "score",
        "-score",
        "gold",
        "-gold",
        "created",
        "-created",
        "text",
        "status",
        "-status",
        "-model_version",
        "resolution",
        "-resolution",
    ],
)
def test_keyset_pages_walk_every_item_once_in_order(table, ordering):
    for n in range(7):  # ties and NULLs spread over page boundaries
        ItemFactory(project=table.project, external_id=f"x{n}", priority=n % 2)
    whole = external_ids(table.project, ordering=ordering)
    assert walk(table.project, 2, ordering=ordering) == whole
    assert walk(table.project, 3, ordering=ordering, gold="false") == [e for e in whole if e != "d"]
    # Filters on the current resolution share the sort's join with it.
    resolved = external_ids(table.project, ordering=ordering, agreement_min=0.4)
    assert sorted(resolved) == ["b", "c"]
    assert walk(table.project, 1, ordering=ordering, agreement_min=0.4) == resolved
    disputed = walk(table.project, 1, ordering=ordering, disagreement="true", agreement_max=0.9)
    assert disputed == ["c"]


@pytest.mark.django_db
def test_the_sort_by_text_reads_its_start_and_waits_for_the_indexer(table):
    """On PostgreSQL the sort reads the text's start from the search row the indexer writes:
    an item it has not reached sorts with the items without a text, then takes its place."""
    start = "y" * ItemSearch.TEXT_KEY_CHARS
    tied = [
        Item.objects.create(project=table.project, external_id=ext, data={"text": start + tail})
        for ext, tail in (("tie-z", "z"), ("tie-a", "a"))  # alike as far as the sort reads
    ]
    late = Item.objects.create(project=table.project, external_id="late", data={"text": "0 first"})
    indexed = list("dbfeca") + ["tie-z", "tie-a"]
    if search_indexed():
        items_search_index(table.project.pk, from_id=tied[0].pk)
        ItemSearch.objects.filter(item=late).delete()
        assert external_ids(table.project, ordering="text") == indexed + ["late"]
        assert walk(table.project, 2, ordering="text") == indexed + ["late"]
        items_search_index(table.project.pk)
    assert external_ids(table.project, ordering="text") == ["late", *indexed]
    assert walk(table.project, 3, ordering="text") == ["late", *indexed]
    assert walk(table.project, 2, ordering="-text") == list(reversed(["late", *indexed]))


@pytest.mark.django_db
def test_a_page_holds_the_size_and_the_last_page_has_no_cursor(table):
    first = items_table_page(project=table.project, params={"ordering": "-priority"}, size=4)
    assert [i.external_id for i in first.items] == list("cbaf")
    last = items_table_page(
        project=table.project, params={"ordering": "-priority", "cursor": first.next_cursor}
    )
    assert [i.external_id for i in last.items] == ["e", "d"] and last.next_cursor is None


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"agreement_min": "high"}, "agreement_min"),
        ({"agreement_min": "2"}, "agreement_min"),
        ({"score_min": "0.9", "score_max": "0.1"}, "score_max"),
        ({"status": "finished"}, "status"),
        ({"ordering": "colour"}, "ordering"),
        ({"gold": "maybe"}, "gold"),
        ({"label_in": "elsewhere"}, "label_in"),
        ({"field_equals": "x"}, "field"),
        ({"field": "a b", "field_equals": "x"}, "field"),
        ({"field": "n"}, "field"),
        ({"field": "n", "field_min": "ten"}, "field_min"),
        ({"annotator": "nobody"}, "annotator"),
        ({"colour": "red"}, "colour"),
        ({"cursor": "garbage!"}, "cursor"),
        ({"size": "0"}, "size"),
    ],
)
def test_bad_parameters_are_named(table, params, field):
    with pytest.raises(ItemFilterError) as caught:
        items_table_page(project=table.project, params=params)
    assert field in caught.value.errors


@pytest.mark.django_db
def test_a_cursor_of_another_ordering_is_refused(table):
    page = items_table_page(project=table.project, params={"ordering": "priority"}, size=2)
    with pytest.raises(ItemFilterError) as caught:
        items_table_page(
            project=table.project, params={"ordering": "id", "cursor": page.next_cursor}
        )
    assert "ordering 'priority'" in caught.value.errors["cursor"][0]


@pytest.mark.django_db
def test_items_of_other_projects_never_show(table):
    ItemFactory(external_id="elsewhere", data={"text": "great match"})
    assert "elsewhere" not in external_ids(table.project, search="match")
    assert Item.objects.filter(external_id="elsewhere").exists()


@pytest.mark.django_db
def test_the_model_version_sort_follows_the_newest_prediction(table):
    e = table.items["e"]
    predictions_create(
        project=table.project,
        raw_rows=[{"item": e.pk, "model_version": "v3", "result": {"sentiment": "neutral"}}],
    )
    assert external_ids(table.project, ordering="model_version") == list("feabcd")
    assert external_ids(table.project, model_version="v1") == ["e"]  # any prediction of it


@pytest.mark.django_db
def test_imported_predictions_give_the_item_its_model_version(project):
    rows = [
        {
            "data": {"text": "hello"},
            "external_id": "p1",
            "predictions": [
                {"result": {"sentiment": "neutral"}, "score": 0.4, "model_version": "old"},
                {"result": {"sentiment": "positive"}, "score": 0.7, "model_version": "new"},
            ],
        },
        {"data": {"text": "bye"}, "external_id": "p2"},
    ]
    items_create(project=project, raw_rows=enumerate(rows, start=1))
    by_version = dict(Item.objects.values_list("external_id", "prediction_model_version"))
    assert by_version == {"p1": "new", "p2": None}
    assert external_ids(project, ordering="-model_version") == ["p1", "p2"]


@pytest.mark.django_db
@pytest.mark.parametrize("ordering", ["-id", "priority", "agreement"])
@pytest.mark.parametrize("label", ["positive", "negative", "neutral"])
def test_a_label_probed_down_the_sort_finds_what_the_plain_filter_finds(table, ordering, label):
    plain = external_ids(table.project, ordering=ordering, label=label)
    assert walk(table.project, 1, ordering=ordering, label=label) == plain


@pytest.mark.postgres
@pytest.mark.django_db
def test_a_probe_over_its_budget_gives_way_and_leaves_the_timeout_as_it_was():
    def timeout() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('statement_timeout')")
            return cursor.fetchone()[0]

    def slow():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_sleep(0.2)")
        return ["rows"]

    before = timeout()
    assert query._rows_within(20, slow) is None
    assert timeout() == before
    assert query._rows_within(5000, slow) == ["rows"]
    assert timeout() == before
