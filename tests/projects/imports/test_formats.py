"""Every import format, end to end through the API (in-process, and on a real worker on
PostgreSQL). The test data is made here with pandas and Pillow."""

import io
import json
import zipfile

import pandas as pd
import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from PIL import Image

from labeling.models import Annotation
from projects.models import Item, Membership, Prediction
from tests.conftest import LABEL_STUDIO_FIXTURES as LS_FIXTURES
from tests.factories import MembershipFactory, ProjectFactory
from tests.projects.imports.import_support import error_report, import_file, import_mode

__all__ = ["import_mode"]


TEXTS = [f"Review number {n}: " + "words " * 30 for n in range(40)]


def _items(project):
    return list(Item.objects.filter(project=project).order_by("id"))


def test_tsv(import_mode, lead_api, project):
    content = "external_id\ttext\n" + "".join(f"r{n}\t{t}\n" for n, t in enumerate(TEXTS))
    job = import_file(lead_api, project, "data.tsv", content.encode())
    assert (job["format"], job["status"], job["created_count"]) == ("tsv", "done", 40)
    assert _items(project)[3].data == {"text": TEXTS[3]}


def test_csv_split_into_chunks_keeps_every_row_once(import_mode, lead_api, project, settings):
    settings.IMPORT_CHUNK_BYTES = 300  # many chunks, boundaries falling inside quoted newlines
    frame = pd.DataFrame(
        {"external_id": [f"c{n}" for n in range(40)], "text": [f'"{t}"\nline two' for t in TEXTS]}
    )
    job = import_file(lead_api, project, "chunks.csv", frame.to_csv(index=False).encode())
    assert job["status"] == "done", job
    assert job["chunk_count"] > 5
    assert (job["rows_read"], job["created_count"], job["failed_count"]) == (40, 40, 0)
    items = _items(project)
    assert [i.external_id for i in items] == [f"c{n}" for n in range(40)]
    assert items[7].data["text"] == f'"{TEXTS[7]}"\nline two'


def test_jsonl_with_shaped_rows(import_mode, lead_api, project):
    lines = [
        json.dumps({"external_id": f"j{n}", "text": t, "priority": n % 3})
        for n, t in enumerate(TEXTS[:10])
    ]
    lines.append(json.dumps({"data": {"text": "shaped"}, "external_id": "s1", "gold": "positive"}))
    job = import_file(lead_api, project, "rows.jsonl", "\n".join(lines).encode())
    assert (job["format"], job["created_count"]) == ("jsonl", 11)
    shaped = Item.objects.get(project=project, external_id="s1")
    assert (shaped.data, shaped.gold) == ({"text": "shaped"}, {"sentiment": "positive"})
    assert Item.objects.get(project=project, external_id="j2").priority == 2


def test_json_array(import_mode, lead_api, project):
    records = [{"id": n, "text": t, "meta": {"n": n}} for n, t in enumerate(TEXTS[:25])]
    body = json.dumps(records, indent=2).encode()
    job = import_file(lead_api, project, "export.json", body, mapping='{"external_id": "id"}')
    assert (job["format"], job["status"], job["created_count"]) == ("json", "done", 25), job
    assert Item.objects.get(project=project, external_id="4").data == {
        "text": TEXTS[4],
        "meta": {"n": 4},
    }


def test_parquet_by_row_groups(import_mode, lead_api, project, settings):
    settings.IMPORT_CHUNK_ROWS = 10
    frame = pd.DataFrame(
        {
            "external_id": [f"p{n}" for n in range(40)],
            "text": TEXTS,
            "score": [n / 10 for n in range(40)],
            "when": pd.date_range("2024-01-01", periods=40, freq="D"),
        }
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer, row_group_size=7, index=False)
    job = import_file(lead_api, project, "table.parquet", buffer.getvalue())
    assert (job["format"], job["status"], job["created_count"]) == ("parquet", "done", 40), job
    assert job["chunk_count"] > 1
    item = Item.objects.get(project=project, external_id="p12")
    assert item.data == {"text": TEXTS[12], "score": 1.2, "when": "2024-01-13T00:00:00"}
    assert [i.external_id for i in _items(project)] == [f"p{n}" for n in range(40)]


def test_xlsx(import_mode, lead_api, project):
    frame = pd.DataFrame({"external_id": ["x1", "x2", "x3"], "text": TEXTS[:3], "n": [1, 2, 3]})
    buffer = io.BytesIO()
    frame.to_excel(buffer, index=False)
    job = import_file(lead_api, project, "sheet.xlsx", buffer.getvalue())
    assert (job["format"], job["status"], job["created_count"]) == ("xlsx", "done", 3), job
    assert Item.objects.get(project=project, external_id="x2").data == {"text": TEXTS[1], "n": 2}


@pytest.fixture
def image_project(db, lead):
    schema = {"controls": [{"name": "kind", "kind": "choice", "source": "image", "labels": ["a"]}]}
    project = ProjectFactory(label_schema=schema)
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    return project


def _image_bytes(image_format: str, size=(40, 20), exif_orientation=None) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    buffer = io.BytesIO()
    if exif_orientation:
        exif = Image.Exif()
        exif[0x0112] = exif_orientation
        image.save(buffer, format=image_format, exif=exif)
    else:
        image.save(buffer, format=image_format)
    return buffer.getvalue()


def test_zip_of_images(import_mode, lead_api, image_project):
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("img/a.png", _image_bytes("PNG"))
        zf.writestr("img/b.jpg", _image_bytes("JPEG", exif_orientation=6))  # rotated 90°
        zf.writestr("img/c.webp", _image_bytes("WEBP"))
        zf.writestr("img/d.tiff", _image_bytes("TIFF"))
        zf.writestr("img/e.gif", _image_bytes("GIF"))
    job = import_file(lead_api, image_project, "photos.zip", archive.getvalue())
    assert (job["format"], job["status"], job["created_count"]) == ("image_zip", "done", 5), job
    items = {i.external_id: i for i in _items(image_project)}
    assert (items["img/a.png"].width, items["img/a.png"].height) == (40, 20)
    assert (items["img/b.jpg"].width, items["img/b.jpg"].height) == (20, 40)  # EXIF applied
    media_url = settings.MEDIA_URL
    for item in items.values():
        assert item.data["image"].startswith(media_url)
        stored = item.data["image"][len(media_url) :]
        thumbnail = item.data["thumbnail"][len(media_url) :]
        assert default_storage.exists(stored) and default_storage.exists(thumbnail)
    with default_storage.open(items["img/b.jpg"].data["image"][len(media_url) :]) as f:
        assert Image.open(f).size == (20, 40)  # stored upright


def test_text_file_of_image_urls(import_mode, lead_api, image_project):
    body = (
        b"# cameras\nhttps://example.com/a.png\n\nhttps://example.com/b.jpg\n"
        b"ftp://example.com/c.png\n/media/d.png\n"
    )
    job = import_file(lead_api, image_project, "urls.txt", body)
    assert (job["format"], job["created_count"], job["failed_count"]) == ("image_urls", 3, 1)
    assert Item.objects.get(
        project=image_project, external_id="https://example.com/b.jpg"
    ).data == {"image": "https://example.com/b.jpg"}
    assert error_report(lead_api, job["id"])[1][0] == "5"


@pytest.fixture
def ner_project(db, lead):
    schema = {
        "controls": [
            {
                "name": "sentiment",
                "kind": "choice",
                "source": "text",
                "labels": ["positive", "negative", "neutral"],
            },
            {
                "name": "entities",
                "kind": "spans",
                "source": "text",
                "labels": ["PER", "ORG", "LOC"],
            },
        ]
    }
    project = ProjectFactory(label_schema=schema, overlap=2)
    MembershipFactory(project=project, user=lead, role=Membership.Role.LEAD)
    return project


def test_label_studio_snapshot_carries_annotations_and_predictions(
    import_mode, lead_api, ner_project
):
    body = (LS_FIXTURES / "text-sentiment-ner.snapshot.json").read_bytes()
    job = import_file(lead_api, ner_project, "project-1.json", body)
    assert (job["format"], job["status"], job["created_count"]) == ("label_studio", "done", 12)
    assert job["failed_count"] == 0, error_report(lead_api, job["id"])
    assert Annotation.objects.filter(project=ner_project).count() == 18  # 8 x 2 + 1 + 1
    assert Prediction.objects.filter(item__project=ner_project).count() == 6
    task1 = Item.objects.get(project=ner_project, external_id="1")
    assert task1.gold == Annotation.objects.filter(item=task1).order_by("id").first().result
    assert task1.gold["entities"][0] == {"start": 0, "end": 11, "label": "PER"}
    emails = set(
        Annotation.objects.filter(project=ner_project).values_list("annotator__email", flat=True)
    )
    assert emails == {"admin@example.com", "annotator2@example.com"}
    task10 = Item.objects.get(project=ner_project, external_id="10")
    spans = Annotation.objects.get(item=task10).result["entities"]
    assert [task10.data["text"][s["start"] : s["end"]] for s in spans] == [
        "Castlereach",
        "Zoë Haddad",
    ]
    task1.refresh_from_db()
    assert task1.annotation_count == 2
    # a second import of the same export adds nothing
    again = import_file(lead_api, ner_project, "project-1.json", body)
    assert (again["created_count"], again["skipped_count"]) == (0, 12)
    assert Annotation.objects.filter(project=ner_project).count() == 18


def test_label_studio_plain_export_and_boxes_and_pairwise(import_mode, lead_api, lead):
    plain = ProjectFactory(
        label_schema={
            "controls": [
                {
                    "name": "sentiment",
                    "kind": "choice",
                    "source": "text",
                    "labels": ["positive", "negative", "neutral"],
                },
                {
                    "name": "entities",
                    "kind": "spans",
                    "source": "text",
                    "labels": ["PER", "ORG", "LOC"],
                },
            ]
        }
    )
    boxes = ProjectFactory(
        label_schema={
            "controls": [
                {"name": "objects", "kind": "boxes", "source": "image", "labels": ["car", "person"]}
            ]
        }
    )
    pairwise = ProjectFactory(
        label_schema={"controls": [{"name": "pw", "kind": "pairwise", "source": ["a", "b"]}]}
    )
    for p in (plain, boxes, pairwise):
        MembershipFactory(project=p, user=lead, role=Membership.Role.LEAD)

    job = import_file(
        lead_api, plain, "t.json", (LS_FIXTURES / "text-sentiment-ner.json").read_bytes()
    )
    assert (job["format"], job["created_count"], job["failed_count"]) == ("label_studio", 12, 0)
    assert Annotation.objects.filter(project=plain).count() == 18
    assert not Prediction.objects.filter(item__project=plain).exists()  # ids only in this export
    assert (
        Annotation.objects.filter(project=plain, annotator__username="labelstudio-2").count() == 9
    )

    job = import_file(lead_api, boxes, "b.json", (LS_FIXTURES / "image-boxes.json").read_bytes())
    assert (job["created_count"], job["failed_count"]) == (4, 0), error_report(lead_api, job["id"])
    item = Item.objects.get(project=boxes, external_id="13")
    assert (item.width, item.height) == (320, 240)
    car = Annotation.objects.get(item=item).result["objects"][0]
    assert car == pytest.approx(
        {"x": 40.0, "y": 140.0, "width": 120.0, "height": 60.0, "label": "car"}
    )

    job = import_file(lead_api, pairwise, "p.json", (LS_FIXTURES / "pairwise.json").read_bytes())
    assert (job["created_count"], job["failed_count"]) == (3, 0)
    answer = Annotation.objects.get(item__project=pairwise, item__external_id="17").result
    assert answer == {"pw": "b"}


def test_label_studio_result_the_schema_cannot_hold_is_reported(import_mode, lead_api, project):
    # the default project has only a `sentiment` choice control: the entities spans do not fit
    body = (LS_FIXTURES / "text-sentiment-ner.snapshot.json").read_bytes()
    job = import_file(lead_api, project, "ls.json", body, format="label_studio")
    assert job["created_count"] == 12
    rows = error_report(lead_api, job["id"])
    assert any("control 'entities' is not in this project's schema" in r[1] for r in rows[1:])


def test_label_studio_json_min_groups_records_into_tasks(import_mode, lead_api, ner_project):
    body = (LS_FIXTURES / "text-sentiment-ner.min.json").read_bytes()
    job = import_file(lead_api, ner_project, "project-1-min.json", body)
    assert (job["format"], job["status"]) == ("label_studio", "done")
    assert (job["rows_read"], job["created_count"], job["failed_count"]) == (10, 10, 0), job
    assert Annotation.objects.filter(project=ner_project).count() == 18
    task3 = Item.objects.get(project=ner_project, external_id="3")
    assert set(task3.data) == {"text", "item_id", "meta"}
    answers = sorted(a.result["sentiment"] for a in Annotation.objects.filter(item=task3))
    exported = sorted(r["sentiment"] for r in json.loads(body) if r["id"] == 3)
    assert answers == exported and len(set(answers)) == 2  # the annotators disagree on task 3
    assert set(
        Annotation.objects.filter(item=task3).values_list("annotator__username", flat=True)
    ) == {"labelstudio-1", "labelstudio-2"}
