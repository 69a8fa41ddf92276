"""Format detection by name and content, and the column mapping's checks."""

import pytest

from projects.imports.formats import FormatUnknown, import_format_detect
from projects.imports.readers.rows import ColumnMapping, record_to_row


@pytest.mark.parametrize(
    ("name", "head", "expected"),
    [
        ("a.csv", b"text,id\n", "csv"),
        ("a.tsv", b"text\tid\n", "tsv"),
        ("data", b"text\tid\nx\t1\n", "tsv"),
        ("data", b"text,id\nx,1\n", "csv"),
        ("a.jsonl", b'{"text": 1}\n', "jsonl"),
        ("a.json", b'{"text": 1}\n{"text": 2}\n', "jsonl"),
        ("a.json", b'[{"text": 1}]', "json"),
        ("upload", b'  [\n {"text": 1}]', "json"),
        ("export.json", b'[{"id":1,"annotations":[],"data":{"text":"x"}}]', "label_studio"),
        ("a.bin", b"PAR1\x15\x04", "parquet"),
        ("a.xlsx", b"PK\x03\x04....[Content_Types].xml....xl/workbook.xml", "xlsx"),
        ("photos.zip", b"PK\x03\x04....img/a.png", "image_zip"),
        ("urls.txt", b"# list\nhttps://a.example/1.png\nhttps://a.example/2.png\n", "image_urls"),
    ],
)
def test_detect(name, head, expected):
    assert import_format_detect(filename=name, head=head) == expected


def test_undetectable():
    with pytest.raises(FormatUnknown):
        import_format_detect(filename="x.bin", head=b"\x00\x01\x02")


def test_mapping_renames_drops_and_assigns_roles():
    mapping = ColumnMapping.from_options(
        {"columns": {"body": "text", "junk": ""}, "external_id": "key", "gold": "answer"}
    )
    row = record_to_row({"key": "k", "body": "hello", "junk": "x", "answer": "positive"}, mapping)
    assert row == {"external_id": "k", "gold": "positive", "data": {"text": "hello"}}


@pytest.mark.parametrize(
    "raw", [[1], {"columns": ["a"]}, {"external_id": ""}, {"nonsense": "x"}, {"columns": {"a": 1}}]
)
def test_bad_mappings_are_refused(raw):
    with pytest.raises(ValueError):
        ColumnMapping.from_options(raw)


def test_prediction_columns_become_a_prediction():
    row = record_to_row({"text": "t", "prediction": "positive", "prediction_score": "0.5"})
    assert row == {
        "data": {"text": "t"},
        "predictions": [{"result": "positive", "score": "0.5", "model_version": ""}],
    }
