"""Records into batches of rows and line-numbered problems (no database)."""

from projects.imports.jobs import record_batches
from projects.imports.readers.rows import DEFAULT_MAPPING, Record
from projects.items.create import ItemRowParser
from projects.label_schema import LabelSchema
from tests.factories import TEXT_CLASSIFICATION_SCHEMA


def test_batches_carry_rows_problems_and_the_last_position():
    records = [
        Record(1, 10, 10, {"external_id": "a", "text": "one"}),
        Record(2, 20, 20, ValueError("invalid JSON")),
        Record(3, 30, 30, {"text": ""}),
        Record(4, 40, 40, {"text": "four", "priority": "2"}),
        Record(5, 50, 50, {"data": {"text": "five"}, "notes": ["annotation 9: no"]}),
    ]
    parse = ItemRowParser(LabelSchema(TEXT_CLASSIFICATION_SCHEMA)).parse
    batches = list(record_batches(records, parse=parse, mapping=DEFAULT_MAPPING, size=2))
    assert [b.read for b in batches] == [2, 2, 1]
    assert [b.last.position for b in batches] == [20, 40, 50]
    assert [r.external_id for r in batches[0].rows] == ["a"]
    assert batches[0].problems == [(2, "invalid JSON")]
    assert batches[1].problems == [(3, "missing the field the schema reads: text")]
    assert batches[1].rows[0].priority == 2 and batches[1].rows[0].line == 4
    assert batches[2].problems == [(5, "annotation 9: no")]
    assert batches[2].rows[0].data == {"text": "five"}
