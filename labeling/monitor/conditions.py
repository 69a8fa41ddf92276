"""Routing conditions: a tree of all / any / not over leaves on an event's fields.

A leaf is `{"field": "score" | "label" | "model_version" | "metadata.<key>", "op": "<" | ">" |
"=" | "in", "value": ...}`. `condition_check` refuses an unknown field or operator or a value of
the wrong kind, naming where; `condition_compile` turns a checked tree into one Python closure, so
routing an event costs a few attribute reads and comparisons (no parsing per event).
An empty condition `{}` matches every event.
"""

from __future__ import annotations

from collections.abc import Callable
from hashlib import blake2b
from typing import Any

FIELDS = ("score", "label", "model_version")
OPS = ("<", ">", "=", "in")
NUMERIC_OPS = ("<", ">")
MAX_DEPTH = 20
INVERSE_2_64 = 2.0**-64

# What a compiled condition reads: (score, label, model_version, metadata).
Predicate = Callable[[float | None, str, str, dict], bool]


class ConditionError(ValueError):
    """The condition is not valid; the message names the path and the rule broken."""


def _field_ok(name: Any) -> bool:
    if not isinstance(name, str):
        return False
    if name in FIELDS:
        return True
    return name.startswith("metadata.") and len(name) > len("metadata.")


def condition_check(node: Any, path: str = "condition", depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise ConditionError(f"{path}: nested deeper than {MAX_DEPTH} levels")
    if not isinstance(node, dict):
        raise ConditionError(f"{path}: a condition is an object")
    if not node:
        return
    if "all" in node or "any" in node:
        key = "all" if "all" in node else "any"
        if len(node) != 1 or not isinstance(node[key], list) or not node[key]:
            raise ConditionError(f"{path}.{key}: a non-empty list of conditions, alone")
        for i, child in enumerate(node[key]):
            if child == {}:
                raise ConditionError(f"{path}.{key}[{i}]: an empty condition inside {key}")
            condition_check(child, f"{path}.{key}[{i}]", depth + 1)
        return
    if "not" in node:
        if len(node) != 1 or not node["not"]:
            raise ConditionError(f"{path}.not: one condition, alone")
        condition_check(node["not"], f"{path}.not", depth + 1)
        return
    if set(node) != {"field", "op", "value"}:
        raise ConditionError(
            f"{path}: use all / any / not, or a leaf with exactly field, op and value"
        )
    field, op, value = node["field"], node["op"], node["value"]
    if not _field_ok(field):
        raise ConditionError(
            f"{path}.field: unknown field {field!r}; use score, label, model_version or "
            "metadata.<key>"
        )
    if op not in OPS:
        raise ConditionError(f"{path}.op: unknown operator {op!r}; use <, >, = or in")
    if op == "in":
        if not isinstance(value, list) or not value:
            raise ConditionError(f"{path}.value: 'in' takes a non-empty list")
        if any(isinstance(v, dict | list) for v in value):
            raise ConditionError(f"{path}.value: 'in' takes a list of plain values")
    elif op in NUMERIC_OPS:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConditionError(f"{path}.value: '{op}' compares with a number")
        if field in ("label", "model_version"):
            raise ConditionError(f"{path}.op: {field} is compared with = or in")
    elif isinstance(value, dict | list):
        raise ConditionError(f"{path}.value: '=' compares with a plain value")
    if field == "score" and op in ("=", "in"):
        raise ConditionError(f"{path}.op: score is compared with < or >")


def _leaf(field: str, op: str, value: Any) -> Predicate:
    if field == "score":
        limit = float(value)
        if op == "<":
            return lambda s, lb, v, m: s is not None and s < limit
        return lambda s, lb, v, m: s is not None and s > limit
    if field in ("label", "model_version"):
        index = field == "label"
        if op == "in":
            allowed = frozenset(str(x) for x in value)
            if index:
                return lambda s, lb, v, m: lb in allowed
            return lambda s, lb, v, m: v in allowed
        wanted = str(value)
        if index:
            return lambda s, lb, v, m: lb == wanted
        return lambda s, lb, v, m: v == wanted
    key = field[len("metadata.") :]
    if op == "in":
        allowed_values = list(value)
        return lambda s, lb, v, m: key in m and m[key] in allowed_values
    if op == "=":
        return lambda s, lb, v, m: key in m and m[key] == value
    limit = float(value)

    def compare(s, lb, v, m) -> bool:
        x = m.get(key)
        if isinstance(x, bool) or not isinstance(x, int | float):
            return False
        return x < limit if op == "<" else x > limit

    return compare


def condition_compile(node: dict) -> Predicate:
    """A checked condition as one predicate (score, label, model_version, metadata) -> bool."""
    if not node:
        return lambda s, lb, v, m: True
    if "all" in node:
        parts = tuple(condition_compile(c) for c in node["all"])
        return lambda s, lb, v, m: all(p(s, lb, v, m) for p in parts)
    if "any" in node:
        parts = tuple(condition_compile(c) for c in node["any"])
        return lambda s, lb, v, m: any(p(s, lb, v, m) for p in parts)
    if "not" in node:
        inner = condition_compile(node["not"])
        return lambda s, lb, v, m: not inner(s, lb, v, m)
    return _leaf(node["field"], node["op"], node["value"])


def sample_draw(event_id: str, salt: str) -> float:
    """A uniform number in [0, 1) fixed by the event id (and the rule's salt): a replay of the
    same events samples the same ones, and each rule samples independently of the others."""
    digest = blake2b(f"{salt}:{event_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") * INVERSE_2_64
