"""Splitting line files into chunks at record boundaries, and reading chunks back."""

import io

import pytest

from projects.imports.readers import lines as lines_module
from projects.imports.readers.csv import csv_plan, csv_read
from projects.imports.readers.jsonl import jsonl_plan, jsonl_read
from projects.imports.readers.lines import BOM, LineReader, line_chunks_plan


def read_all(data: bytes, plan, read):
    records = []
    for chunk in plan.chunks:
        records += list(
            read(
                io.BytesIO(data),
                start=chunk.position,
                end=chunk.end,
                line=chunk.first_line,
                options=plan.options,
            )
        )
    return records


@pytest.mark.parametrize("chunk_bytes", [1, 7, 30, 64, 10_000])
def test_csv_chunks_never_split_a_quoted_newline(chunk_bytes):
    rows = [f'{n},"text {n}\nwith ""quotes"", and\nnewlines"\n' for n in range(30)]
    data = ("id,text\n" + "".join(rows)).encode()
    plan = csv_plan(io.BytesIO(data), delimiter=",", chunk_bytes=chunk_bytes, size=len(data))
    assert plan.options["header"] == ["id", "text"]
    starts = [c.start for c in plan.chunks]
    assert starts == sorted(starts) and all(
        a.end == b.start for a, b in zip(plan.chunks, plan.chunks[1:], strict=False)
    )
    records = read_all(data, plan, csv_read)
    assert [r.value["id"] for r in records] == [str(n) for n in range(30)]
    assert records[3].value["text"] == 'text 3\nwith "quotes", and\nnewlines'
    assert [r.line for r in records] == [2 + 3 * n for n in range(30)]  # each row is 3 lines


def test_jsonl_chunks_keep_line_numbers_and_positions():
    data = b"".join(b'{"n": %d}\n' % n for n in range(100))
    plan = jsonl_plan(io.BytesIO(data), chunk_bytes=100, size=len(data))
    assert len(plan.chunks) > 5
    records = read_all(data, plan, jsonl_read)
    assert [r.value["n"] for r in records] == list(range(100))
    assert [r.line for r in records] == list(range(1, 101))
    # resuming a chunk from a record's position continues right after it
    chunk = plan.chunks[1]
    first = list(
        jsonl_read(
            io.BytesIO(data), start=chunk.position, end=chunk.end, line=chunk.first_line, options={}
        )
    )
    rest = list(
        jsonl_read(
            io.BytesIO(data),
            start=first[1].position,
            end=chunk.end,
            line=first[1].line + 1,
            options={},
        )
    )
    assert [r.value for r in rest] == [r.value for r in first[2:]]
    assert [r.line for r in rest] == [r.line for r in first[2:]]


def test_a_file_without_a_final_newline_has_one_last_chunk():
    data = b"a\nb\nc"
    chunks = line_chunks_plan(
        io.BytesIO(data), start=0, first_line=1, chunk_bytes=1, quote_aware=False
    )
    assert [(c.start, c.end, c.first_line) for c in chunks] == [(0, 2, 1), (2, 4, 2), (4, None, 3)]


def test_bom_is_skipped():
    data = "\ufeffid,text\n1,é\n".encode()
    plan = csv_plan(io.BytesIO(data), delimiter=",", chunk_bytes=1000, size=len(data))
    assert plan.options["header"] == ["id", "text"]
    assert [r.value for r in read_all(data, plan, csv_read)] == [{"id": "1", "text": "é"}]


def lines_by_readline(data: bytes, *, start: int, end: int | None) -> list[tuple[bytes, int]]:
    """What a line reader must hand out: each line with the position after it."""
    stream = io.BytesIO(data)
    stream.seek(start)
    lines, position = [], start
    while end is None or position < end:
        raw = stream.readline()
        if not raw:
            break
        if position == 0 and raw.startswith(BOM):
            position += len(BOM)
            raw = raw[len(BOM) :]
        position += len(raw)
        lines.append((raw, position))
    return lines


@pytest.mark.parametrize("block", [1, 2, 5, 16, 1024])
def test_lines_read_in_blocks_match_readline(monkeypatch, block):
    monkeypatch.setattr(lines_module, "READ_BLOCK", block)
    long_line = b"x" * 40
    data = BOM + b"a\r\nbb\n\n" + long_line + b"\n\xc3\xa9\n\n\nlast"
    bounds = [(0, None), (0, 3), (3, 10), (7, 8), (10, None), (len(data) - 4, None)]
    for start, end in bounds:
        reader = LineReader(io.BytesIO(data), start=start, end=end, line=1)
        got = [(raw, reader.position) for raw in reader]
        assert got == lines_by_readline(data, start=start, end=end), (start, end)
        assert reader.next_line == 1 + len(got)
