"""Every format read back by its real consumer, with the label counts of the database."""

from __future__ import annotations

import csv
import json
import zipfile
from collections import Counter
from xml.etree import ElementTree

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from pycocotools.coco import COCO

from exports.writers.conll import conll_block, conll_tokens
from exports.writers.jsonl import jsonl_string
from tests.exports.conftest import SENTENCES, database_label_counts
from tests.exports.helpers import export_run

pytestmark = pytest.mark.django_db


def read_conll(text: str) -> list[list[tuple[str, str]]]:
    """A CoNLL-2003 reader: `token POS chunk TAG` lines, sentences split by blank lines."""
    sentences, current = [], []
    for line in text.splitlines():
        if line.startswith("-DOCSTART-"):
            continue
        if not line.strip():
            if current:
                sentences.append(current)
            current = []
            continue
        columns = line.split()
        assert len(columns) == 4, line
        current.append((columns[0], columns[3]))
    if current:
        sentences.append(current)
    return sentences


def entities_from_bio(tags: list[str]) -> list[str]:
    """The entity labels a BIO sequence encodes (I- without B- is an error)."""
    labels, inside = [], None
    for tag in tags:
        if tag.startswith("B-"):
            labels.append(tag[2:])
            inside = tag[2:]
        elif tag.startswith("I-"):
            assert inside == tag[2:], f"I- tag without its B-: {tags}"
        else:
            inside = None
    return labels


def test_jsonl_lines_carry_data_result_method_agreement(text_project, lead, tmp_path):
    job, path = export_run(text_project.project, lead, "jsonl", tmp_path)
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    resolved = [i for i in text_project.items if i.status == "resolved"]
    assert [r["external_id"] for r in rows] == [i.external_id for i in resolved]
    assert rows[0]["data"] == resolved[0].data
    assert rows[0]["method"] == "unanimous" and rows[0]["agreement"] == 1.0
    assert job.manifest["label_distribution"] == {
        name: dict(sorted(c.items()))
        for name, c in sorted(database_label_counts(text_project.project).items())
    }
    counts = Counter(r["result"]["sentiment"] for r in rows)
    assert counts == database_label_counts(text_project.project)["sentiment"]
    assert all(
        set(r) == {"id", "external_id", "data", "status", "result", "method", "agreement"}
        for r in rows
    )


def test_jsonl_options_add_annotations_gold_predictions_and_all_items(text_project, lead, tmp_path):
    _, path = export_run(
        text_project.project,
        lead,
        "jsonl",
        tmp_path,
        only_resolved=False,
        include_annotations=True,
        include_gold=True,
        include_predictions=True,
    )
    rows = {r["external_id"]: r for r in map(json.loads, path.read_text().splitlines())}
    assert len(rows) == 12
    first = rows["t-00"]
    assert [a["annotator"] for a in first["annotations"]] == ["ann1", "ann2"]
    assert first["annotations"][0]["lead_time"] == 12.5 and first["annotations"][0]["created_at"]
    assert first["gold"] == first["result"]
    assert first["predictions"] == [
        {"model_version": "v1", "result": {"sentiment": "positive"}, "score": 0.75}
    ]
    assert rows["t-10"]["result"] is None and len(rows["t-10"]["annotations"]) == 1
    assert rows["t-11"]["status"] == "open" and rows["t-11"]["annotations"] == []


def test_csv_reads_back_with_the_csv_module(text_project, lead, tmp_path):
    _, path = export_run(text_project.project, lead, "csv", tmp_path, include_annotations=True)
    with path.open(newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert len(rows) == 10
    assert rows[0]["text"] == SENTENCES[0][0]
    assert (
        Counter(r["sentiment"] for r in rows)
        == database_label_counts(text_project.project)["sentiment"]
    )
    spans = Counter(s["label"] for r in rows for s in json.loads(r["entities"]))
    assert spans == database_label_counts(text_project.project)["entities"]
    assert len(json.loads(rows[0]["annotations"])) == 2


def test_parquet_has_one_typed_column_per_control(text_project, lead, tmp_path):
    _, path = export_run(text_project.project, lead, "parquet", tmp_path, include_annotations=True)
    table = pq.read_table(path)
    assert table.schema.field("sentiment").type == pa.string()
    assert table.schema.field("topics").type.value_type == pa.string()
    span = table.schema.field("entities").type.value_type
    assert [(f.name, str(f.type)) for f in span] == [
        ("start", "int64"),
        ("end", "int64"),
        ("label", "string"),
    ]
    assert table.schema.field("annotations").type.value_type.field("annotator").type == "string"
    assert (
        json.loads(table.schema.metadata[b"quorum.label_schema"])["controls"][0]["name"]
        == "sentiment"
    )
    rows = table.to_pylist()
    counts = database_label_counts(text_project.project)
    assert Counter(r["sentiment"] for r in rows) == counts["sentiment"]
    assert Counter(s["label"] for r in rows for s in r["entities"] or []) == counts["entities"]
    assert Counter(t for r in rows for t in r["topics"] or []) == counts["topics"]
    assert rows[0]["text"] == SENTENCES[0][0]
    assert json.loads(rows[0]["data"]) == text_project.items[0].data


def test_conll_reads_back_as_bio_tags_with_the_span_counts(text_project, lead, tmp_path):
    _, path = export_run(text_project.project, lead, "conll", tmp_path)
    text = path.read_text()
    assert text.startswith("-DOCSTART- -X- O\n") and text.endswith("\n\n")
    sentences = read_conll(text)
    assert len(sentences) == 10
    labels = Counter(label for s in sentences for label in entities_from_bio([t for _, t in s]))
    assert labels == database_label_counts(text_project.project)["entities"]
    zoe = next(s for s in sentences if s[0][0] == "Zoë")
    assert zoe[:4] == [("Zoë", "B-PER"), ("Haddad", "I-PER"), (",", "O"), ("director", "O")]
    at = zoe.index(("Castlereach", "B-LOC"))
    # CoNLL-2003 tokens by default: the clitic is one token, outside the span.
    assert zoe[at + 1] == ("'s", "O")


def test_conll_tokens_and_tags_match_label_studio(ls_fixtures):
    """Label Studio's own CONLL2003 export of the same tasks, rebuilt block by block."""
    tasks = json.loads((ls_fixtures / "text-sentiment-ner.json").read_text())
    blocks = []
    for task in tasks:
        annotations = sorted(task["annotations"], key=lambda a: a["created_at"], reverse=True)
        for annotation in annotations:
            spans = [
                {
                    "start": r["value"]["start"],
                    "end": r["value"]["end"],
                    "label": r["value"]["labels"][0],
                }
                for r in annotation["result"]
                if r["type"] == "labels"
            ]
            blocks.append(conll_block(task["data"]["text"], spans, tokens="label_studio"))
    expected = (ls_fixtures / "text-sentiment-ner.conll").read_text()
    assert "-DOCSTART- -X- O\n" + "".join(blocks) == expected


def test_conll_tokens_split_punctuation():
    assert [t for t, _, _ in conll_tokens("Zoë's  plan, (ok)!", tokens="label_studio")] == [
        "Zoë",
        "'",
        "s",
        "plan",
        ",",
        "(",
        "ok",
        ")",
        "!",
    ]


def test_coco_loads_in_pycocotools(image_project, lead, tmp_path):
    _, path = export_run(image_project.project, lead, "coco", tmp_path)
    coco = COCO(str(path))
    assert sorted(c["name"] for c in coco.loadCats(coco.getCatIds())) == ["car", "person", "road"]
    assert len(coco.getImgIds()) == 4
    counts = database_label_counts(image_project.project)
    by_name = Counter(
        coco.loadCats(a["category_id"])[0]["name"] for a in coco.loadAnns(coco.getAnnIds())
    )
    assert by_name == counts["objects"] + counts["regions"]
    first = image_project.items[0]
    image = coco.loadImgs(first.pk)[0]
    assert (image["width"], image["height"], image["file_name"]) == (320, 240, first.data["image"])
    boxes = [a for a in coco.loadAnns(coco.getAnnIds(imgIds=[first.pk])) if not a["segmentation"]]
    assert boxes[0]["bbox"] == [12.0, 40.5, 100.0, 80.0] and boxes[0]["area"] == 8000.0
    polygon = next(a for a in coco.loadAnns(coco.getAnnIds(imgIds=[first.pk])) if a["segmentation"])
    assert coco.annToMask(polygon).sum() > 0


def test_coco_bundles_images_and_splits_in_a_zip(image_project, lead, tmp_path):
    job, path = export_run(
        image_project.project, lead, "coco", tmp_path, bundle_images=True, split=[0.5, 0.25, 0.25]
    )
    assert job.manifest["content_type"] == "application/zip"
    assert job.manifest["writer_report"] == {"images_not_bundled": 1}  # the remote one
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "coco")
    assert sum(n.startswith("images/") for n in names) == 3  # the remote image cannot be bundled
    total = 0
    for split in ("train", "validation", "test"):
        coco = COCO(str(tmp_path / "coco" / f"annotations/instances_{split}.json"))
        total += len(coco.getImgIds())
        for image in coco.loadImgs(coco.getImgIds()):
            if image["file_name"].startswith("images/"):
                assert (tmp_path / "coco" / image["file_name"]).exists()
            else:  # the remote image stays referenced
                assert image["file_name"] == "https://images.example.com/street-3.png"
    assert total == 4


def test_yolo_zip_has_images_labels_and_data_yaml(image_project, lead, tmp_path):
    job, path = export_run(image_project.project, lead, "yolo", tmp_path)
    assert job.manifest["writer_report"] == {"images_not_bundled": 1}
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        data = yaml.safe_load(archive.read("data.yaml"))
        labels = {n: archive.read(n).decode() for n in names if n.startswith("labels/")}
    assert data["names"] == {0: "car", 1: "person", 2: "road"} and data["nc"] == 3
    assert data["train"] == "images"
    first = image_project.items[0]
    assert f"images/{first.pk}-street-0.png" in names
    lines = labels[f"labels/{first.pk}-street-0.txt"].splitlines()
    assert (
        lines[0]
        == f"0 {(12 + 50) / 320:.6f} {(40.5 + 40) / 240:.6f} {100 / 320:.6f} {80 / 240:.6f}"
    )
    classes = Counter(
        data["names"][int(line.split()[0])]
        for text in labels.values()
        for line in text.splitlines()
    )
    counts = database_label_counts(image_project.project)
    assert classes == counts["objects"] + counts["regions"]
    assert all(
        0 <= float(v) <= 1
        for text in labels.values()
        for line in text.splitlines()
        for v in line.split()[1:]
    )


def test_yolo_split_uses_split_folders(image_project, lead, tmp_path):
    _, path = export_run(
        image_project.project, lead, "yolo", tmp_path, split="50/25/25", split_seed=3
    )
    with zipfile.ZipFile(path) as archive:
        data = yaml.safe_load(archive.read("data.yaml"))
        label_files = [n for n in archive.namelist() if n.startswith("labels/")]
    assert (data["train"], data["val"], data["test"]) == (
        "images/train",
        "images/validation",
        "images/test",
    )
    assert len(label_files) == 4 and all(
        n.split("/")[1] in {"train", "validation", "test"} for n in label_files
    )


def test_voc_xml_per_image(image_project, lead, tmp_path):
    _, path = export_run(image_project.project, lead, "voc", tmp_path, bundle_images=True)
    with zipfile.ZipFile(path) as archive:
        xmls = {
            n: ElementTree.fromstring(archive.read(n))
            for n in archive.namelist()
            if n.startswith("Annotations/")
        }
        names = archive.namelist()
        image_set = archive.read("ImageSets/Main/default.txt").decode().split()
    assert len(xmls) == 4 and len(image_set) == 4
    assert sum(n.startswith("JPEGImages/") for n in names) == 3
    objects = Counter(o.findtext("name") for root in xmls.values() for o in root.iter("object"))
    counts = database_label_counts(image_project.project)
    assert objects == counts["objects"] + counts["regions"]
    first = xmls[f"Annotations/{image_project.items[0].pk}-street-0.xml"]
    assert first.findtext("size/width") == "320"
    box = first.find("object/bndbox")
    assert [box.findtext(k) for k in ("xmin", "ymin", "xmax", "ymax")] == [
        "12",
        "40.5",
        "112",
        "120.5",
    ]


def test_label_studio_json_has_label_studio_shapes(image_project, lead, tmp_path):
    _, path = export_run(image_project.project, lead, "label_studio", tmp_path)
    tasks = json.loads(path.read_text())
    first = tasks[0]
    assert first["data"] == image_project.items[0].data
    box = next(r for r in first["annotations"][0]["result"] if r["type"] == "rectanglelabels")
    assert box["from_name"] == "objects" and box["to_name"] == "image"
    assert box["original_width"] == 320 and box["value"]["rectanglelabels"] == ["car"]
    assert box["value"]["x"] == pytest.approx(12.0 * 100 / 320)
    assert box["value"]["y"] == pytest.approx(40.5 * 100 / 240)
    labels = Counter(
        (r["value"].get("rectanglelabels") or r["value"].get("polygonlabels"))[0]
        for t in tasks
        for a in t["annotations"]
        for r in a["result"]
    )
    counts = database_label_counts(image_project.project)
    assert labels == counts["objects"] + counts["regions"]


def test_label_studio_text_results_match_label_studio(text_project, lead, tmp_path, ls_fixtures):
    _, path = export_run(
        text_project.project, lead, "label_studio", tmp_path, include_annotations=True
    )
    tasks = json.loads(path.read_text())
    theirs = json.loads((ls_fixtures / "text-sentiment-ner.json").read_text())[0]["annotations"][0][
        "result"
    ]
    ours = tasks[0]["annotations"][0]["result"]
    strip = lambda results: [{k: v for k, v in r.items() if k != "id"} for r in results]  # noqa: E731
    assert strip(ours)[:4] == strip(theirs)
    annotator = text_project.annotators[0]
    assert tasks[0]["annotations"][0]["completed_by"] == {
        "id": annotator.pk,
        "email": annotator.email,
    }


@pytest.mark.parametrize("value", ["item-1", "Zoë", 'a"b', "a\\b", "tab\there", "\u2028", "😀", ""])
def test_jsonl_strings_are_what_a_json_encoder_writes(value):
    assert json.loads(jsonl_string(value)) == value
    assert jsonl_string(value) == orjson.dumps(value).decode()


def test_conll_2003_tokens_split_clitics_and_keep_words_whole():
    text = "Microsoft's U.S.-based O'Neil didn't pay $1,200.50 for state-owned shares... (ok)"
    assert [t for t, _, _ in conll_tokens(text)] == [
        "Microsoft",
        "'s",
        "U.S.",
        "-",
        "based",
        "O'Neil",
        "did",
        "n't",
        "pay",
        "$",
        "1,200.50",
        "for",
        "state-owned",
        "shares",
        "...",
        "(",
        "ok",
        ")",
    ]
    # Offsets still point into the text, so spans map onto tokens.
    assert all(text[start:end] == token for token, start, end in conll_tokens(text))


def test_conll_export_takes_label_studio_tokens_as_an_option(text_project, lead, tmp_path):
    _, path = export_run(text_project.project, lead, "conll", tmp_path, conll_tokens="label_studio")
    zoe = next(s for s in read_conll(path.read_text()) if s[0][0] == "Zoë")
    at = zoe.index(("Castlereach", "B-LOC"))
    assert zoe[at + 1 : at + 3] == [("'", "O"), ("s", "O")]


def test_stratify_by_and_conll_tokens_are_checked():
    from exports.options import OptionsError, export_options_parse
    from projects.label_schema import LabelSchema

    schema = LabelSchema(
        {
            "controls": [
                {"name": "sentiment", "kind": "choice", "labels": ["pos", "neg"]},
                {"name": "comment", "kind": "text", "source": "text"},
            ]
        }
    )
    with pytest.raises(OptionsError) as refused:
        export_options_parse({"stratify_by": "comment", "conll_tokens": "nltk"}, schema=schema)
    assert "no labels" in refused.value.errors["stratify_by"]
    assert refused.value.errors["conll_tokens"] == "one of conll2003, label_studio"
    options = export_options_parse({"stratify_by": "sentiment"}, schema=schema)
    assert (options.stratify_by, options.conll_tokens) == ("sentiment", "conll2003")
