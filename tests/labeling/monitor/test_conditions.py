"""Routing conditions: checked on save, compiled for speed, sampled deterministically."""

import pytest

from labeling.monitor.conditions import (
    ConditionError,
    condition_check,
    condition_compile,
    sample_draw,
)
from labeling.monitor.routing import CapCounter, RuleSet

TREE = {
    "all": [
        {"field": "score", "op": "<", "value": 0.6},
        {
            "any": [
                {"field": "label", "op": "in", "value": ["cat", "dog"]},
                {"field": "metadata.tier", "op": "=", "value": "gold"},
            ]
        },
        {"not": {"field": "model_version", "op": "=", "value": "v0"}},
        {"not": {"field": "metadata.amount", "op": ">", "value": 1000}},
    ]
}


def test_condition_tree_matches():
    condition_check(TREE)
    match = condition_compile(TREE)
    assert match(0.5, "cat", "v1", {})
    assert match(0.5, "bird", "v1", {"tier": "gold", "amount": 10})
    assert not match(0.7, "cat", "v1", {})
    assert not match(0.5, "cat", "v0", {})
    assert not match(0.5, "cat", "v1", {"amount": 5000})
    assert not match(None, "cat", "v1", {})
    assert condition_compile({})(None, "", "", {})


@pytest.mark.parametrize(
    ("condition", "words"),
    [
        ({"field": "confidence", "op": "<", "value": 1}, "unknown field 'confidence'"),
        ({"field": "score", "op": "<=", "value": 1}, "unknown operator"),
        ({"field": "score", "op": "<", "value": "low"}, "compares with a number"),
        ({"field": "label", "op": "in", "value": []}, "non-empty list"),
        ({"all": []}, "non-empty list"),
        ({"all": [{"field": "metadata.", "op": "=", "value": 1}]}, "condition.all[0].field"),
        ({"not": {"field": "x", "op": "=", "value": 1}}, "condition.not.field"),
        ({"field": "score", "op": "<"}, "exactly field, op and value"),
    ],
)
def test_bad_conditions_refused_naming_where(condition, words):
    with pytest.raises(ConditionError, match=words.replace("[", r"\[").replace("]", r"\]")):
        condition_check(condition)


def test_sampling_is_deterministic_and_uniform():
    draws = [sample_draw(f"e{n}", "rule1") for n in range(20000)]
    assert draws == [sample_draw(f"e{n}", "rule1") for n in range(20000)]
    assert abs(sum(d < 0.25 for d in draws) / len(draws) - 0.25) < 0.02
    other = [sample_draw(f"e{n}", "rule2") for n in range(20000)]
    both = sum(a < 0.5 and b < 0.5 for a, b in zip(draws, other, strict=True)) / len(draws)
    assert abs(both - 0.25) < 0.02  # independent across rules


class Rule:
    def __init__(
        self, id, condition, sample_rate=1.0, priority=0, cap_per_day=None, cap_per_hour=None
    ):
        self.id, self.condition, self.sample_rate, self.priority = (
            id,
            condition,
            sample_rate,
            priority,
        )
        self.cap_per_day, self.cap_per_hour = cap_per_day, cap_per_hour


def test_priority_and_inclusion_probability():
    low = {"field": "score", "op": "<", "value": 0.5}
    rules = RuleSet(
        [Rule(1, low, sample_rate=0.5, priority=1), Rule(2, {}, sample_rate=0.2, priority=5)],
        baseline_rate=0.1,
    )
    assert [r.id for r in rules.rules] == [2, 1]
    decision = rules.route(event_id="x", score=0.3, label="a", model_version="v", metadata={})
    assert decision.inclusion_probability == pytest.approx(1 - 0.9 * 0.8 * 0.5)
    high = rules.route(event_id="x", score=0.9, label="a", model_version="v", metadata={})
    assert high.inclusion_probability == pytest.approx(1 - 0.9 * 0.8)
    routed = [
        rules.route(event_id=f"e{n}", score=0.3, label="a", model_version="v", metadata={})
        for n in range(5000)
    ]
    share = sum(d.routed for d in routed) / len(routed)
    assert share == pytest.approx(1 - 0.9 * 0.8 * 0.5, abs=0.03)


def test_hour_cap():
    from datetime import UTC, datetime

    hour = datetime(2026, 1, 1, 3, tzinfo=UTC)
    rules = RuleSet([Rule(1, {}, cap_per_hour=2)], baseline_rate=0.0)
    caps = CapCounter()
    decisions = [
        rules.route(
            event_id=f"e{n}",
            score=0.3,
            label="a",
            model_version="v",
            metadata={},
            hour=hour,
            caps=caps,
        )
        for n in range(4)
    ]
    assert [d.rule_id for d in decisions] == [1, 1, None, None]
