"""The data manager's table: filters, full-text search, sorts and keyset pagination of items.

One FilterSet (django-filter) reads the query string for the page and the API alike, so a
bookmarked page URL and an API call with the same parameters select the same items. Pages are
keyset pages: the cursor holds the last row's sort value and id, so page 5,000 costs what page
1 costs.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import django_filters.rest_framework as filters
from django import forms
from django.contrib.auth import get_user_model
from django.contrib.postgres.search import SearchQuery
from django.db import OperationalError, connection, transaction
from django.db.models import (
    BooleanField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
)
from django.db.models.expressions import RawSQL
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Left
from django.db.models.lookups import GreaterThan, IsNull, LessThan
from django.http import QueryDict

from labeling.models import Annotation, Resolution
from projects.items.search_index import items_not_searchable_count, search_indexed
from projects.label_schema import LabelSchema, SchemaError
from projects.media import MediaLinks
from projects.models import Item, ItemSearch, Prediction, Project

PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
FIELD_PATH = re.compile(r"^[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*$")
# JSON orders strings (and booleans) after numbers, in PostgreSQL and SQLite alike: a numeric
# range is bounded on both sides so that text values never fall inside it.
NUMBER_CEILING = 1e300


class ItemFilterError(ValueError):
    """The query string is wrong. `errors` maps each parameter to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


def _label_shapes(project: Project | None, label: str) -> list[dict] | None:
    """How a label sits in a result, per control that has it (None: the schema is unknown)."""
    if project is None:
        return None
    try:
        schema = LabelSchema(project.label_schema)
    except SchemaError:
        return None
    shapes = []
    for control in schema.controls:
        if label not in control.label_values:
            continue
        if control.kind == "choice":
            shapes.append({control.name: label})
        elif control.kind == "multi":
            shapes.append({control.name: [label]})
        else:  # spans, boxes, polygons: regions carrying the label
            shapes.append({control.name: [{"label": label}]})
    return shapes


def _key_text(path: str) -> Cast:
    """A data key's text. Cast, so that lookups compare text (on a bare KT, SQLite's lookups
    compare JSON values)."""
    return Cast(KT(path), TextField())


CURRENT = "_current"  # the item's current resolution, joined (see SortKey.prepare)
CURRENT_COLUMNS = {"agreement": "agreement", "resolution": "method"}  # sorts that read it
SEARCH_ROW = "_search_row"  # the item's search row, joined for the sort by text (PostgreSQL)


def current_joined(queryset: QuerySet[Item]) -> QuerySet[Item]:
    """The items joined to their current resolution as CURRENT (at most one per item). A
    filter and the sort on its columns share the one join, so an agreement range sorted by
    agreement is one range of the index resolution_current_agreement."""
    current = FilteredRelation("resolutions", condition=Q(resolutions__is_current=True))
    return queryset.annotate(**{CURRENT: current})


def search_row_joined(queryset: QuerySet[Item]) -> QuerySet[Item]:
    """The items joined to their search rows as SEARCH_ROW, whose `text_key` the sort by text
    reads. The row's project equals the item's, so PostgreSQL bounds the index item_search_text
    by the project too and a page walks it."""
    row = FilteredRelation("search", condition=Q(search__project_id=F("project_id")))
    return queryset.annotate(**{SEARCH_ROW: row})


@dataclass(frozen=True)
class SortKey:
    name: str
    kind: str  # how a cursor's value is read back: int, float, str, bool, datetime
    column: str | None = None  # an Item column, or:
    nullable: bool = False
    # A sort over a few values is read value by value, each in id order (an index each).
    phases: tuple = ()

    def phase_filter(self, value) -> Q:
        if self.name == "gold":
            return Q(gold__isnull=not value)  # the form the partial index item_gold serves
        return Q(**{self.column: value})

    def prepare(self, queryset: QuerySet[Item]) -> QuerySet[Item]:
        """Join what the sort reads. The current resolution is a join, not a subquery, so a
        page in agreement order walks the index resolution_current_agreement and stops."""
        joined = self.joined_item()
        if joined == CURRENT:
            return current_joined(queryset)
        if joined == SEARCH_ROW:
            return search_row_joined(queryset)
        return queryset

    def joined_item(self) -> str | None:
        """The alias of the joined table the sort walks, whose item_id ties its rows."""
        if self.name in CURRENT_COLUMNS:
            return CURRENT
        if self.name == "text" and search_indexed():
            return SEARCH_ROW
        return None

    def unvalued(self, filtered: QuerySet[Item], sorted_: QuerySet[Item], after: dict):
        """The rows without a sort value, past the cursor (`after`: on the item id). For the
        current resolution's columns: no join, an anti-join bounded by the cursor on both
        sides, so PostgreSQL starts both index scans at the cursor (on the outer join's `IS
        NULL` it merged the resolution index from its start up to there)."""
        bound = {f"item_{k}": v for k, v in after.items()}  # id__gt -> item_id__gt
        if self.name in CURRENT_COLUMNS:
            column = CURRENT_COLUMNS[self.name]
            valued = Resolution.objects.filter(
                item_id=OuterRef("pk"), is_current=True, **{f"{column}__isnull": False}, **bound
            )
        elif self.joined_item() == SEARCH_ROW:
            # Items the indexer has not reached yet sort with those without a text until then.
            valued = ItemSearch.objects.filter(
                item_id=OuterRef("pk"), text_key__isnull=False, **bound
            )
        else:
            return sorted_.filter(_sort__isnull=True, **after)
        return filtered.filter(~Exists(valued), **after).annotate(
            _sort=Value(None, output_field=TextField())
        )

    def expression(self):
        if self.column:
            return F(self.column)
        if self.name == "agreement":
            return F(f"{CURRENT}__agreement")
        if self.name == "resolution":
            return F(f"{CURRENT}__method")
        if self.name == "gold":
            return ExpressionWrapper(Q(gold__isnull=False), output_field=BooleanField())
        if self.name == "text":
            if self.joined_item() == SEARCH_ROW:
                return F(f"{SEARCH_ROW}__text_key")
            return Cast(Left(KT("data__text"), ItemSearch.TEXT_KEY_CHARS), TextField())
        raise KeyError(self.name)


SORTS = {
    key.name: key
    for key in (
        SortKey("id", "int", "id"),
        SortKey("external_id", "str", "external_id"),
        SortKey("text", "str", nullable=True),
        SortKey("status", "str", "status", phases=tuple(sorted(Item.Status.values))),
        SortKey("answers", "int", "annotation_count"),
        SortKey("agreement", "float", nullable=True),
        SortKey("resolution", "str", nullable=True),
        SortKey("score", "float", "prediction_score", nullable=True),
        SortKey("model_version", "str", "prediction_model_version", nullable=True),
        SortKey("gold", "bool", phases=(False, True)),
        SortKey("priority", "int", "priority"),
        SortKey("created", "datetime", "created_at"),
    )
}
ORDERING_CHOICES = [(n, n) for n in SORTS] + [(f"-{n}", f"-{n}") for n in SORTS]
YES_NO = [("true", "yes"), ("false", "no")]
LABEL_SOURCES = [
    ("any", "resolution or any answer"),
    ("resolution", "resolution"),
    ("answers", "any answer"),
]


class ItemFilterForm(forms.Form):
    """Checks across parameters: ranges, the data field filter, who the annotator is."""

    def clean(self):
        data = super().clean()
        for low, high in (("agreement_min", "agreement_max"), ("score_min", "score_max")):
            for name in (low, high):
                value = data.get(name)
                if value is not None and low.startswith("agreement") and not 0 <= value <= 1:
                    self.add_error(name, "must be between 0 and 1")
            both = data.get(low) is not None and data.get(high) is not None
            if both and data[low] > data[high]:
                self.add_error(high, f"must be at least {low}")
        both = data.get("field_min") is not None and data.get("field_max") is not None
        if both and data["field_min"] > data["field_max"]:
            self.add_error("field_max", "must be at least field_min")
        field_ops = [
            n
            for n in ("field_equals", "field_contains", "field_min", "field_max")
            if data.get(n) not in (None, "")
        ]
        path = data.get("field") or ""
        if field_ops and not path:
            self.add_error("field", f"name the data field that {field_ops[0]} applies to")
        if path and not FIELD_PATH.match(path):
            self.add_error(
                "field", "a data key, or a dotted path (meta.source): letters, digits, _ and -"
            )
        if path and not field_ops:
            self.add_error("field", "give field_equals, field_contains, field_min or field_max")
        users = get_user_model().objects
        for name in ("annotator", "not_annotator"):
            username = data.get(name)
            if username and not users.filter(username=username).exists():
                self.add_error(name, f"no user '{username}'")
        return data


def _field_lookup(path: str) -> str:
    """The ORM path of a data key (every part of it a JSON key)."""
    return "__".join(["data", *path.split(".")])


def _found(rows: QuerySet) -> IsNull:
    """Whether the correlated rows hold one: a scalar subquery that no plan turns into a hash of
    all such rows (EXISTS may be), for filters that are probed item by item down a sort."""
    return IsNull(Subquery(rows.order_by().values("pk")[:1]), False)


class ItemFilter(filters.FilterSet):
    """The data manager's filters; every one combines with the others (AND)."""

    search = filters.CharFilter(
        method="filter_search",
        help_text="Full-text search in the item's text (every string of its data).",
    )
    # No DISTINCT (django-filter's default): an item has one status, and DISTINCT sorts by every
    # column.
    status = filters.MultipleChoiceFilter(choices=Item.Status.choices, distinct=False)
    annotator = filters.CharFilter(method="filter_annotator", help_text="Answered by (username).")
    not_annotator = filters.CharFilter(
        method="filter_not_annotator", help_text="Not answered by (username)."
    )
    label = filters.CharFilter(
        method="filter_label", help_text="A label in the resolution or in an answer (label_in)."
    )
    label_in = filters.ChoiceFilter(
        choices=LABEL_SOURCES, method="filter_nothing", help_text="Where `label` looks; any."
    )
    agreement_min = filters.NumberFilter(method="filter_agreement_min")
    agreement_max = filters.NumberFilter(method="filter_agreement_max")
    score_min = filters.NumberFilter(field_name="prediction_score", lookup_expr="gte")
    score_max = filters.NumberFilter(field_name="prediction_score", lookup_expr="lte")
    model_version = filters.CharFilter(
        method="filter_model_version", help_text="Has a prediction of this model version."
    )
    gold = filters.ChoiceFilter(choices=YES_NO, method="filter_gold", help_text="Gold or not.")
    disagreement = filters.ChoiceFilter(
        choices=YES_NO,
        method="filter_disagreement",
        help_text="The answers differ (the current resolution's agreement is below 1).",
    )
    field = filters.CharFilter(
        method="filter_nothing", help_text="A data field (dotted path for nested) for field_*."
    )
    field_equals = filters.CharFilter(method="filter_field_equals")
    field_contains = filters.CharFilter(method="filter_field_contains")
    field_min = filters.NumberFilter(method="filter_field_min")
    field_max = filters.NumberFilter(method="filter_field_max")
    ordering = filters.ChoiceFilter(
        choices=ORDERING_CHOICES,
        method="filter_nothing",
        help_text="Sort column; '-' for descending. Ties go by id.",
    )

    class Meta:
        model = Item
        fields: list[str] = []
        form = ItemFilterForm

    def filter_nothing(self, queryset, name, value):
        return queryset  # read by another filter or by the pagination

    def filter_search(self, queryset, name, value):
        if search_indexed():
            # The words of every string in the item's data, kept apart from the items
            # (projects.items.search_index): an item is found once the indexer reached it.
            query = SearchQuery(value, config="simple", search_type="websearch")
            found = ItemSearch.objects.filter(document=query)
            if self.project is not None:
                found = found.filter(project_id=self.project.pk)
            return queryset.filter(pk__in=found.values("item_id"))
        # SQLite: each word somewhere in the data's text.
        queryset = queryset.annotate(_data_text=Cast("data", TextField()))
        for word in value.split():
            queryset = queryset.filter(_data_text__icontains=word)
        return queryset

    project: Project | None = None  # set by items_table_query: label filters read its schema
    # A label in the resolution or any answer: probed item by item down the sort (fast when the
    # label is common), or as EXISTS, which PostgreSQL may hash whole (fast when it is rare).
    label_probed = False

    def _answered_by(self, username: str) -> Exists:
        user_id = get_user_model().objects.filter(username=username).values_list("pk").first()
        # By id: the (item, annotator) unique index answers each probe.
        return Exists(
            Annotation.objects.filter(
                item_id=OuterRef("pk"), annotator_id=user_id[0] if user_id else None
            )
        )

    def filter_annotator(self, queryset, name, value):
        return queryset.filter(self._answered_by(value))

    def filter_not_annotator(self, queryset, name, value):
        return queryset.filter(~self._answered_by(value))

    def _label_rows(self, model, value: str, **lookups) -> QuerySet:
        """Rows of `model` (annotations, resolutions) whose result holds the label.

        PostgreSQL: JSON containment, per control of the schema that has the label (a choice's
        value, an element of a multiple choice, a region's label). Elsewhere: the label as a
        JSON string anywhere in the result's text."""
        rows = model.objects.filter(item_id=OuterRef("pk"), **lookups)
        shapes = _label_shapes(self.project, value) if connection.vendor == "postgresql" else None
        if shapes is None:
            needle = json.dumps(value, ensure_ascii=connection.vendor != "postgresql")
            return rows.annotate(_text=Cast("result", TextField())).filter(_text__contains=needle)
        condition = Q(pk__in=[])
        for shape in shapes:
            condition |= Q(result__contains=shape)
        return rows.filter(condition)

    def filter_label(self, queryset, name, value):
        where = self.form.cleaned_data.get("label_in") or "any"
        in_resolution = self._label_rows(Resolution, value, is_current=True)
        if where == "resolution":
            return queryset.filter(Exists(in_resolution))
        if where == "answers":
            return queryset.filter(Exists(self._label_rows(Annotation, value)))
        in_answers = self._label_rows(Annotation, value)
        if not self.label_probed:
            return queryset.filter(Exists(in_resolution) | Exists(in_answers))
        return queryset.filter(_found(in_resolution) | _found(in_answers))

    def _current_with(self, **lookups) -> Exists:
        return Exists(Resolution.objects.filter(item_id=OuterRef("pk"), is_current=True, **lookups))

    def filter_agreement_min(self, queryset, name, value):
        return current_joined(queryset).filter(**{f"{CURRENT}__agreement__gte": value})

    def filter_agreement_max(self, queryset, name, value):
        return current_joined(queryset).filter(**{f"{CURRENT}__agreement__lte": value})

    def filter_model_version(self, queryset, name, value):
        return queryset.filter(
            Exists(Prediction.objects.filter(item_id=OuterRef("pk"), model_version=value))
        )

    def filter_gold(self, queryset, name, value):
        return queryset.filter(gold__isnull=value != "true")

    def filter_disagreement(self, queryset, name, value):
        if value == "true":
            return current_joined(queryset).filter(**{f"{CURRENT}__agreement__lt": 1})
        return queryset.filter(~self._current_with(agreement__lt=1))

    def _field(self, queryset, text: bool):
        path = _field_lookup(self.form.cleaned_data["field"])
        if text:
            return queryset.annotate(_field_text=_key_text(path))
        return queryset.annotate(_field_value=F(path))

    def filter_field_equals(self, queryset, name, value):
        return self._field(queryset, text=True).filter(_field_text=value)

    def filter_field_contains(self, queryset, name, value):
        return self._field(queryset, text=True).filter(_field_text__icontains=value)

    def filter_field_min(self, queryset, name, value):
        return self._field(queryset, text=False).filter(
            _field_value__gte=float(value), _field_value__lte=NUMBER_CEILING
        )

    def filter_field_max(self, queryset, name, value):
        return self._field(queryset, text=False).filter(
            _field_value__lte=float(value), _field_value__gte=-NUMBER_CEILING
        )


@dataclass(frozen=True)
class Ordering:
    key: SortKey
    descending: bool

    @classmethod
    def parse(cls, text: str | None) -> Ordering:
        text = text or "id"
        return cls(SORTS[text.lstrip("-")], text.startswith("-"))

    def __str__(self) -> str:
        return f"{'-' if self.descending else ''}{self.key.name}"

    def order_by(self, *, nulls_apart: bool = False) -> list:
        """Sort value then id; NULLs last. nulls_apart: the caller reads the NULL rows in a
        query of their own, so the plain order, which an index gives either way, will do."""
        value = F("_sort")
        if nulls_apart:
            value = value.desc() if self.descending else value.asc()
        else:
            value = value.desc(nulls_last=True) if self.descending else value.asc(nulls_last=True)
        return [value, "-id" if self.descending else "id"]


def _params_dict(params) -> QueryDict:
    if isinstance(params, QueryDict):
        return params
    query = QueryDict(mutable=True)
    for name, value in (params or {}).items():
        if isinstance(value, list | tuple):
            query.setlist(name, [str(v) for v in value])
        elif value is not None:
            query[name] = str(value).lower() if isinstance(value, bool) else str(value)
    return query


UNKNOWN_OK = {"cursor", "size", "page"}


def item_filter_check(params) -> ItemFilter:
    """The bound, validated FilterSet for these parameters, or ItemFilterError naming each bad
    parameter (unknown parameters included: a misspelt filter must not silently match all)."""
    params = _params_dict(params)
    filterset = ItemFilter(params, queryset=Item.objects.none())
    errors: dict[str, list[str]] = {}
    if not filterset.is_valid():
        errors.update({k: [str(m) for m in v] for k, v in filterset.errors.items()})
    for name in sorted(set(params) - set(ItemFilter.base_filters) - UNKNOWN_OK):
        errors[name] = ["unknown filter"]
    if errors:
        raise ItemFilterError(errors)
    return filterset


def _items_filtered(
    *, project: Project, params, label_probed: bool = False
) -> tuple[QuerySet[Item], Ordering]:
    """The project's items matching the parameters (unsorted), and the ordering asked."""
    filterset = item_filter_check(params)
    filterset.project = project
    filterset.label_probed = label_probed
    ordering = Ordering.parse(filterset.form.cleaned_data.get("ordering"))
    return filterset.filter_queryset(Item.objects.filter(project=project)), ordering


def _sorted(queryset: QuerySet[Item], ordering: Ordering) -> QuerySet[Item]:
    """With the sort value as `_sort` (and what it reads joined)."""
    return ordering.key.prepare(queryset).annotate(_sort=ordering.key.expression())


def items_table_query(*, project: Project, params) -> tuple[QuerySet[Item], Ordering]:
    """The project's items matching the parameters, sorted, with the ordering used."""
    queryset, ordering = _items_filtered(project=project, params=params)
    return _sorted(queryset, ordering).order_by(*ordering.order_by()), ordering


def item_selection_query(*, project: Project, params) -> QuerySet[Item]:
    """The items the parameters select, unordered (bulk actions and exports walk them by id)."""
    filterset = item_filter_check(params)
    filterset.project = project
    return filterset.filter_queryset(Item.objects.filter(project=project)).order_by()


# --- keyset pagination -------------------------------------------------------------------------


def _value_out(value) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def _value_in(kind: str, value) -> Any:
    if value is None:
        return None
    if kind == "datetime":
        return datetime.fromisoformat(value)
    return {"int": int, "float": float, "str": str, "bool": bool}[kind](value)


def cursor_encode(*, ordering: Ordering, value, item_id: int) -> str:
    raw = json.dumps([str(ordering), _value_out(value), item_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def cursor_decode(*, ordering: Ordering, cursor: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        name, value, item_id = json.loads(base64.urlsafe_b64decode(padded.encode()))
        value = _value_in(ordering.key.kind, value)
        item_id = int(item_id)
    except (ValueError, TypeError, KeyError):
        raise ItemFilterError({"cursor": ["not a cursor this list gave out"]}) from None
    if name != str(ordering):
        raise ItemFilterError({"cursor": [f"belongs to ordering '{name}', not '{ordering}'"]})
    return value, item_id


class Row(Func):
    """A row value, `(a, b)`: compared as a whole, it bounds a keyset page in one index range."""

    template = "(%(expressions)s)"
    output_field = TextField()


def _beyond(ordering: Ordering, value, item_id: int):
    """(sort value, id) after the cursor's, in the ordering (both sides not NULL). A sort on
    the current resolution compares its item id, the same as the item's by the join: then the
    row is the index's (column, item) and the page starts at the cursor in it."""
    # The join's own column by its alias: an F() through the filtered relation joins it again.
    joined = ordering.key.joined_item()
    tie = RawSQL(f"{joined}.item_id", (), output_field=IntegerField()) if joined else F("id")
    rows = Row(F("_sort"), tie), Row(Value(value), Value(item_id))
    return LessThan(*rows) if ordering.descending else GreaterThan(*rows)


def _page_rows(filtered, ordering: Ordering, cursor: tuple | None, limit: int) -> list[Item]:
    """Up to `limit` of the filtered rows after the cursor. A nullable sort reads its valued
    rows, then the rows without a value by id, each query in an order an index can give."""
    value, item_id = cursor if cursor else (None, None)
    queryset = _sorted(filtered, ordering)
    tie = "id__lt" if ordering.descending else "id__gt"
    by_id = "-id" if ordering.descending else "id"
    if ordering.key.phases:
        phases = list(reversed(ordering.key.phases) if ordering.descending else ordering.key.phases)
        start = phases.index(value) if cursor and value in phases else 0
        rows = []
        for phase in phases[start:]:
            part = queryset.filter(ordering.key.phase_filter(phase))
            if cursor and phase == value:
                part = part.filter(**{tie: item_id})
            rows += list(part.order_by(by_id)[: limit - len(rows)])
            if len(rows) >= limit:
                break
        return rows
    if not ordering.key.nullable:
        if cursor:
            queryset = queryset.filter(_beyond(ordering, value, item_id))
        return list(queryset.order_by(*ordering.order_by(nulls_apart=True))[:limit])
    rows: list[Item] = []
    if cursor is None or value is not None:
        valued = queryset.filter(_sort__isnull=False)
        if cursor:
            valued = valued.filter(_beyond(ordering, value, item_id))
        rows = list(valued.order_by(*ordering.order_by(nulls_apart=True))[:limit])
    if len(rows) < limit:
        after = {tie: item_id} if cursor and value is None else {}
        unvalued = ordering.key.unvalued(filtered, queryset, after)
        rows += list(unvalued.order_by(by_id)[: limit - len(rows)])
    return rows


@dataclass
class ItemPage:
    items: list[Item]
    ordering: Ordering
    next_cursor: str | None
    # With a search: the project's items search cannot find yet (being indexed); else 0.
    not_searchable: int = 0


def page_size_parse(raw) -> int:
    if raw in (None, ""):
        return PAGE_SIZE
    text = str(raw)
    if not text.isdigit() or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise ItemFilterError({"size": [f"a whole number from 1 to {MAX_PAGE_SIZE}"]})
    return int(text)


# How long a page may probe a label item by item before it reads it the other way.
PROBE_BUDGET_MS = 150
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement_timeout


def _rows_within(budget_ms: int, read: Callable[[], list[Item]]) -> list[Item] | None:
    """The rows `read` gives, or None if it took longer than the budget (PostgreSQL cancels it;
    elsewhere there is no budget)."""
    if connection.vendor != "postgresql":
        return read()
    set_timeout = "SELECT set_config('statement_timeout', %s, true)"
    try:
        with transaction.atomic():  # a savepoint: a cancel rolls back to it, timeout included
            with connection.cursor() as cursor:
                cursor.execute("SELECT current_setting('statement_timeout')")
                before = cursor.fetchone()[0]
                cursor.execute(set_timeout, [f"{budget_ms}ms"])
            rows = read()
            with connection.cursor() as cursor:  # a released savepoint keeps its SET LOCAL
                cursor.execute(set_timeout, [before])
            return rows
    except OperationalError as exc:
        if getattr(exc.__cause__, "sqlstate", None) != QUERY_CANCELED:
            raise
        return None


def items_table_page(*, project: Project, params, size: int | None = None) -> ItemPage:
    """One page of the table after the parameters' `cursor` (the first page without one)."""
    params = _params_dict(params)
    size = size or page_size_parse(params.get("size"))
    probe = bool(params.get("label")) and (params.get("label_in") or "any") == "any"
    filtered, ordering = _items_filtered(project=project, params=params, label_probed=probe)
    cursor = params.get("cursor")
    position = cursor_decode(ordering=ordering, cursor=cursor) if cursor else None
    items = None
    if probe:
        items = _rows_within(
            PROBE_BUDGET_MS, lambda: _page_rows(filtered, ordering, position, size + 1)
        )
    if items is None:  # no probe, or it gave way: the label as EXISTS
        if probe:
            filtered, _ = _items_filtered(project=project, params=params)
        items = _page_rows(filtered, ordering, position, size + 1)
    next_cursor = None
    if len(items) > size:
        items = items[:size]
        last = items[-1]
        next_cursor = cursor_encode(ordering=ordering, value=last._sort, item_id=last.pk)
    not_searchable = items_not_searchable_count(project.pk) if params.get("search") else 0
    return ItemPage(
        items=items, ordering=ordering, next_cursor=next_cursor, not_searchable=not_searchable
    )


# --- the table's columns -----------------------------------------------------------------------


def _preview_fields(project: Project) -> tuple[list[str], list[str]]:
    """The data fields the schema reads as text and as images (text and image by default)."""
    try:
        schema = LabelSchema(project.label_schema)
    except SchemaError:
        return ["text"], ["image"]
    texts, images = [], []
    for control in schema.controls:
        on_image = control.kind in {"boxes", "polygons"} or "image" in control.source
        kinds = images if on_image else texts
        for source in control.source:
            if source not in texts + images:
                kinds.append(source)
    return texts or ["text"], images or ["image"]


PREVIEW_CHARS = 160


def item_rows_describe(*, project: Project, items: list[Item]) -> list[dict[str, Any]]:
    """The table's columns for these items (two more queries, whatever their number)."""
    ids = [item.pk for item in items]
    resolutions = {
        r["item_id"]: r
        for r in Resolution.objects.filter(item_id__in=ids, is_current=True).values(
            "item_id", "result", "method", "agreement", "state"
        )
    }
    predictions: dict[int, dict] = {}
    for p in (
        Prediction.objects.filter(item_id__in=ids)
        .order_by("item_id", "-created_at", "-id")
        .values("item_id", "model_version", "score", "result")
    ):
        predictions.setdefault(p["item_id"], p)
    text_fields, image_fields = _preview_fields(project)
    links = MediaLinks(project.pk)
    rows = []
    for item in items:
        data = item.data if isinstance(item.data, dict) else {}
        text = next((data[f] for f in text_fields if isinstance(data.get(f), str)), None)
        if text is None and not any(f in data for f in image_fields):
            text = next((v for v in data.values() if isinstance(v, str)), None)
        image = next((data[f] for f in image_fields if isinstance(data.get(f), str)), None)
        resolution = resolutions.get(item.pk)
        prediction = predictions.get(item.pk)
        rows.append(
            {
                "id": item.pk,
                "external_id": item.external_id,
                "label": item.external_id or f"#{item.pk}",
                "preview": (text or "")[:PREVIEW_CHARS],
                "thumbnail": links.value(data.get("thumbnail") or image),
                "status": item.status,
                "answers": item.annotation_count,
                "wanted": project.overlap + item.extra_slots,
                "agreement": resolution["agreement"] if resolution else None,
                "resolution": (
                    {k: resolution[k] for k in ("result", "method", "state")}
                    if resolution
                    else None
                ),
                "prediction": (
                    {k: prediction[k] for k in ("result", "model_version", "score")}
                    if prediction
                    else None
                ),
                "gold": item.gold,
                "priority": item.priority,
                "created_at": item.created_at,
            }
        )
    return rows
