"""Hostile JSON (issue 18): nesting depth is limited while streaming, with bounded memory."""

import io
import json
import random
import tracemalloc

import pytest

from projects.imports.readers.json_array import json_objects
from projects.imports.readers.json_depth import DepthGuard, TooDeep
from projects.imports.readers.rows import FileError


def nesting(value) -> int:
    if isinstance(value, dict):
        return 1 + max([nesting(v) for v in value.values()] or [0])
    if isinstance(value, list):
        return 1 + max([nesting(v) for v in value] or [0])
    return 0


def guard_accepts(document: bytes, limit: int, block: int) -> bool:
    guard = DepthGuard(limit)
    try:
        for start in range(0, len(document), block):
            guard.feed(document[start : start + block])
    except TooDeep:
        return False
    return True


def random_value(rng: random.Random, depth: int = 1):
    # strings full of brackets, quotes and backslashes: none of them may count
    text = "".join(rng.choice('[]{}"\\a') for _ in range(rng.randint(0, 8)))
    roll = rng.random()
    if depth > 6 or roll < 0.3:
        return text
    if roll < 0.65:
        return [random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {text + str(n): random_value(rng, depth + 1) for n in range(rng.randint(0, 3))}


def test_the_guard_measures_the_depth_exactly_whatever_the_strings_and_blocks():
    rng = random.Random(18)
    for _ in range(400):
        value = [random_value(rng)]
        document = json.dumps(value).encode()
        depth = nesting(value)
        for block in (1, 2, 3, 7, 64):
            assert guard_accepts(document, depth, block), (document, block)
            assert not guard_accepts(document, depth - 1, block), (document, block)


def test_a_value_nested_200000_levels_deep_stops_the_file_with_little_memory(settings):
    settings.JSON_MAX_DEPTH = 100
    document = (
        b'[{"text": "fine"},\n{"text": "deep", "x": '
        + b"[" * 200_000
        + b"]" * 200_000
        + b'}, {"text": "after"}]'
    )
    tracemalloc.start()
    try:
        with pytest.raises(FileError, match="nests deeper than 100 levels"):
            list(json_objects(io.BytesIO(document), start=0))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024  # ijson alone needed gigabytes for this file


def test_nesting_within_the_limit_is_read_as_before(settings):
    settings.JSON_MAX_DEPTH = 5
    document = json.dumps([{"text": "[[[[[[[[", "x": [[{"y": 1}]]}, {"text": "b"}]).encode()
    values = [value for _, _, value in json_objects(io.BytesIO(document), start=0)]
    assert values[0]["x"] == [[{"y": 1}]] and values[1] == {"text": "b"}


def test_the_api_refuses_a_body_nested_too_deep(lead_api, project, settings):
    settings.JSON_MAX_DEPTH = 20
    body = "[" * 50_000 + "]" * 50_000  # deeper than Python's recursion limit too
    response = lead_api.post(
        f"/api/projects/{project.pk}/items/", body, content_type="application/json"
    )
    assert response.status_code == 400
    assert "nested deeper than 20 levels" in response.json()["detail"]
    shallow = {"data": {"text": "x", "deep": [[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]}}
    response = lead_api.post(f"/api/projects/{project.pk}/items/", [shallow], format="json")
    assert response.status_code == 400
