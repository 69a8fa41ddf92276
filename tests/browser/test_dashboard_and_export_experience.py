"""Issue 15, the dashboard and the export panel: progress buckets, unclipped captions, plain help
texts, "Stratify by" with labeled controls only, and CoNLL's tokenisation option."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from exports.models import ExportJob
from labeling.annotate.submit import annotation_submit
from labeling.models import Annotation, Resolution
from projects.models import Item, Membership
from tests.browser.conftest import login, screenshot
from tests.factories import ItemFactory, MembershipFactory, ProjectFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

SCHEMA = {
    "controls": [
        {"name": "sentiment", "kind": "choice", "source": "text", "labels": ["pos", "neg"]},
        {
            "name": "entities",
            "kind": "spans",
            "source": "text",
            "labels": ["PER", "ORG"],
            "required": False,
        },
        {"name": "comment", "kind": "text", "source": "text", "required": False},
    ]
}
# Every text element of every chart inside its own picture (rotated ones included).
TEXT_OUTSIDE_ITS_CHART = """() => {
  const out = [];
  for (const chart of document.querySelectorAll("svg.chart")) {
    const box = chart.getBoundingClientRect();
    for (const text of chart.querySelectorAll("text")) {
      const r = text.getBoundingClientRect();
      if (r.left < box.left - 0.5 || r.right > box.right + 0.5 || r.top < box.top - 0.5
          || r.bottom > box.bottom + 0.5) out.push(text.textContent);
    }
  }
  return out;
}"""


def test_dashboard_buckets_by_minutes_and_shows_whole_captions(page, page_errors):
    project = ProjectFactory(name="Session", label_schema=SCHEMA, overlap=2, review_policy="none")
    MembershipFactory(project=project, user=UserFactory(username="dora"), role="lead")
    annotators = [
        UserFactory(username="annotator-with-a-rather-long-name"),
        UserFactory(username="ben"),
    ]
    pairs = [("pos", "pos"), ("neg", "neg"), ("pos", "neg"), ("neg", "neg"), ("pos", "pos")]
    for n, pair in enumerate(pairs):
        item = ItemFactory(project=project, data={"text": f"Ada met Babbage, day {n}."})
        for user, label in zip(annotators, pair, strict=True):
            annotation_submit(item=item, annotator=user, result={"sentiment": label})
    # A 40-minute session: one bucket per 10 minutes of work, not one dot.
    start = timezone.now() - timedelta(minutes=40)
    for n, annotation in enumerate(Annotation.objects.order_by("id")):
        Annotation.objects.filter(pk=annotation.pk).update(
            created_at=start + timedelta(minutes=4 * n)
        )
    login(page, "dora")
    page.goto(f"/projects/{project.pk}/dashboard/")
    progress = page.get_by_role("img", name="Progress over time")
    points = progress.locator("polyline").first.get_attribute("points").split()
    assert len(points) >= 10  # the ten minutes answered, and the minute the items resolved
    page.get_by_text("Dawid-Skene confusion matrix of each annotator").click()
    assert page.evaluate(TEXT_OUTSIDE_ITS_CHART) == []
    help_texts = " ".join(page.locator(".helptext").all_inner_texts())
    assert not re.search(r"\b[A-Z]\w+\.\w+", help_texts), help_texts  # Model.field
    assert "_" not in help_texts
    screenshot(page, "i15-dashboard")
    assert page_errors == []


def test_stratify_offers_labeled_controls_and_conll_tokens_are_chosen(page, page_errors):
    lead = UserFactory(username="lena")
    project = ProjectFactory(name="Entities", label_schema=SCHEMA, created_by=lead)
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    text = "Microsoft's chief met Ada."
    for n in range(4):
        item = Item.objects.create(
            project=project,
            external_id=f"e{n}",
            data={"text": text},
            status=Item.Status.RESOLVED,
        )
        result = {"sentiment": "pos", "entities": [{"start": 0, "end": 9, "label": "ORG"}]}
        Resolution.objects.create(item=item, result=result, method="single")

    login(page, "lena")
    page.goto(f"/projects/{project.pk}/")
    panel = page.locator("#export-panel")
    panel.get_by_label("Stratify by").wait_for()  # the panel arrives by htmx
    stratify = panel.get_by_label("Stratify by").locator("option").all_inner_texts()
    assert stratify == ["the first control with labels", "sentiment", "entities"]
    tokens = panel.get_by_label("CoNLL tokens")
    assert tokens.input_value() == "conll2003"
    screenshot(page, "i15-export-panel")

    panel.get_by_label("Format").select_option("conll")
    page.get_by_role("button", name="Start export").click()
    page.locator("#export-jobs-table tr[data-status='done']").first.wait_for()
    first = ExportJob.objects.get()
    assert first.options["conll_tokens"] == "conll2003"
    tokens.select_option("label_studio")
    page.get_by_role("button", name="Start export").click()
    page.wait_for_function(
        "document.querySelectorAll(\"#export-jobs-table tr[data-status='done']\").length === 2"
    )
    second = ExportJob.objects.exclude(pk=first.pk).get()

    def lines(job):
        with job.file.open("rb") as stream:
            return stream.read().decode().splitlines()[1:4]

    assert lines(first) == ["Microsoft -X- _ B-ORG", "'s -X- _ O", "chief -X- _ O"]
    assert lines(second) == ["Microsoft -X- _ B-ORG", "' -X- _ O", "s -X- _ O"]
    assert page_errors == []
