"""The events list reads a window of time below each page's position (event_pages): its pages
are the cursor pagination's, event for event, however the events spread over time and whatever
the filter, and a page of recent events reads only its window."""

from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from labeling.monitor import event_pages
from labeling.monitor.models import PredictionEvent
from tests.labeling.monitor.helpers import START, event

BASE = START - timedelta(days=60)  # the newest events are then still in the past

pytestmark = pytest.mark.django_db


def every_page(api, url: str) -> list[str]:
    ids, pages = [], 0
    while url:
        response = api.get(url)
        assert response.status_code == 200, response.content
        body = response.json()
        ids += [e["event_id"] for e in body["results"]]
        url, pages = body["next"], pages + 1
        assert pages < 50
    return ids


def expected(project, **filters) -> list[str]:
    events = PredictionEvent.objects.filter(project=project, **filters)
    return list(events.order_by("-timestamp", "-id").values_list("event_id", flat=True))


@pytest.fixture
def spread(project, lead_api, monkeypatch):
    """330 events: bursts an hour apart, a quiet month, and twenty at one same instant (the
    cursor's offset), in three versions; pages of 40 so windows run out and widen."""
    monkeypatch.setattr(event_pages.EventPagination, "page_size", 40)
    moments = [BASE + timedelta(minutes=3 * n) for n in range(150)]  # a burst of 7.5 hours
    moments += [BASE + timedelta(days=40, hours=n) for n in range(100)]  # one an hour
    moments += [BASE + timedelta(days=45)] * 20
    moments += [BASE - timedelta(days=90, hours=n * 7) for n in range(60)]  # older, sparse
    events = [
        event(n, at=at, version=f"v{n % 3}", label="negative" if n % 10 == 0 else "positive")
        for n, at in enumerate(moments)
    ]
    for start in range(0, len(events), 100):
        response = lead_api.post(
            f"/api/projects/{project.pk}/monitor/events/",
            events[start : start + 100],
            format="json",
        )
        assert response.status_code == 201, response.content
    return f"/api/projects/{project.pk}/monitor/events/"


def test_the_pages_are_every_event_newest_first(project, lead_api, spread):
    assert every_page(lead_api, spread) == expected(project)


def at(**delta) -> str:
    return (BASE + timedelta(**delta)).isoformat()


@pytest.mark.parametrize(
    "query, filters",
    [
        ({"model_version": "v1"}, {"version__version": "v1"}),
        ({"label": "negative"}, {"label": "negative"}),
        (
            {"since": at(days=39), "until": at(days=44, hours=12)[:19]},  # until without a zone
            {"timestamp__gte": at(days=39), "timestamp__lt": at(days=44, hours=12)},
        ),
        ({"until": at(hours=5)}, {"timestamp__lt": at(hours=5)}),
        ({"since": at(days=-92)}, {"timestamp__gte": at(days=-92)}),
        (
            {"model_version": "v2", "since": at(hours=1)},
            {"version__version": "v2", "timestamp__gte": at(hours=1)},
        ),
    ],
)
def test_filtered_pages_are_the_filtered_events(project, lead_api, spread, query, filters):
    assert every_page(lead_api, f"{spread}?{urlencode(query)}") == expected(project, **filters)


def test_backwards_from_a_page_gives_the_page_before(project, lead_api, spread):
    first = lead_api.get(spread).json()
    second = lead_api.get(first["next"]).json()
    back = lead_api.get(second["previous"]).json()
    assert [e["event_id"] for e in back["results"]] == [e["event_id"] for e in first["results"]]


def test_a_page_of_recent_events_reads_one_window(project, lead_api, spread, monkeypatch):
    monkeypatch.setattr(event_pages.EventPagination, "page_size", 10)
    with CaptureQueriesContext(connection) as queries:
        page = lead_api.get(spread).json()
    assert len(page["results"]) == 10
    reads = [q["sql"] for q in queries.captured_queries if "monitor_predictionevent" in q["sql"]]
    assert len(reads) == 1, reads  # the newest hour holds twenty events
    assert '"timestamp" >=' in reads[0]


@pytest.mark.postgres
def test_the_time_index_summarizes_its_ranges_as_they_fill():
    """A BRIN range not summarized matches every query on time: the windows would read the
    whole table until the next vacuum."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reloptions FROM pg_class WHERE relname = 'monitor_predictionevent_time_brin'"
        )
        assert cursor.fetchone()[0] == ["autosummarize=on"]
