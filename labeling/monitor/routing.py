"""The routing decision: which events go to people, and how likely each was to be picked.

`RuleSet` compiles a project's active rules once; `route` then decides one event in a few
microseconds. Rules are tried by priority (highest first); the first whose condition matches,
whose deterministic sample (a hash of the event id salted by the rule) passes and whose cap is
not spent routes the event. Independently, the baseline samples every event at the project's
`monitor_baseline_rate` (a uniform sample: without it accuracy would be estimated from failures
only). The inclusion probability recorded with each event is the chance that the baseline or
any matching rule with room picks it: 1 - (1 - b) * prod(1 - rate), the inverse of the weight
the weighted accuracy gives it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from labeling.monitor.conditions import Predicate, condition_compile, sample_draw

BASELINE_SALT = "baseline"


@dataclass(slots=True)
class CompiledRule:
    id: int
    predicate: Predicate
    sample_rate: float
    cap_per_day: int | None
    cap_per_hour: int | None
    priority: int
    salt: str
    capped: bool


@dataclass(slots=True)
class Decision:
    rule_id: int | None
    baseline: bool
    inclusion_probability: float
    priority: int = 0

    @property
    def routed(self) -> bool:
        return self.rule_id is not None or self.baseline


# (day) -> the (rule id, hour, count) rows of RuleUsage for that day
UsageLoader = Callable[[date], Iterable[tuple[int, datetime, int]]]


@dataclass
class CapCounter:
    """Events each capped rule has routed per hour and per day (as read from RuleUsage, plus
    this batch's); `hour` is the event's hour, truncated, in UTC. With a `loader`, a day's usage
    is read the first time an event of that day meets a capped rule with a matching condition
    (so most calls read none)."""

    per_hour: dict[tuple[int, datetime], int] = field(default_factory=dict)
    per_day: dict[tuple[int, date], int] = field(default_factory=dict)
    loader: UsageLoader | None = None
    days_loaded: set[date] = field(default_factory=set)

    def load(self, rule_id: int, hour: datetime, count: int) -> None:
        self.per_hour[rule_id, hour] = count
        day = (rule_id, hour.date())
        self.per_day[day] = self.per_day.get(day, 0) + count

    def _day_loaded(self, day: date) -> None:
        if self.loader is not None and day not in self.days_loaded:
            self.days_loaded.add(day)
            for rule_id, hour, count in self.loader(day):
                self.load(rule_id, hour, count)

    def has_room(self, rule: CompiledRule, hour: datetime) -> bool:
        self._day_loaded(hour.date())
        hour_full = (
            rule.cap_per_hour is not None
            and self.per_hour.get((rule.id, hour), 0) >= rule.cap_per_hour
        )
        day_full = (
            rule.cap_per_day is not None
            and self.per_day.get((rule.id, hour.date()), 0) >= rule.cap_per_day
        )
        return not (hour_full or day_full)

    def add(self, rule_id: int, hour: datetime) -> None:
        self.per_hour[rule_id, hour] = self.per_hour.get((rule_id, hour), 0) + 1
        day = (rule_id, hour.date())
        self.per_day[day] = self.per_day.get(day, 0) + 1


class RuleSet:
    def __init__(self, rules: Iterable, *, baseline_rate: float):
        compiled = [
            CompiledRule(
                id=rule.id,
                predicate=condition_compile(rule.condition),
                sample_rate=rule.sample_rate,
                cap_per_day=rule.cap_per_day,
                cap_per_hour=rule.cap_per_hour,
                priority=rule.priority,
                salt=f"rule{rule.id}",
                capped=rule.cap_per_day is not None or rule.cap_per_hour is not None,
            )
            for rule in rules
        ]
        compiled.sort(key=lambda r: (-r.priority, r.id))
        self.rules = tuple(compiled)
        self.baseline_rate = baseline_rate
        self.capped = any(r.capped for r in compiled)

    def route(
        self,
        *,
        event_id: str,
        score: float | None,
        label: str,
        model_version: str,
        metadata: dict,
        hour: datetime | None = None,
        caps: CapCounter | None = None,
    ) -> Decision:
        rule_id, baseline, probability, priority = self.decide(
            event_id, score, label, model_version, metadata, hour, caps
        )
        return Decision(
            rule_id=rule_id,
            baseline=baseline,
            inclusion_probability=probability,
            priority=priority,
        )

    def decide(
        self,
        event_id: str,
        score: float | None,
        label: str,
        model_version: str,
        metadata: dict,
        hour: datetime | None,
        caps: CapCounter | None,
    ) -> tuple[int | None, bool, float, int]:
        """`route` as a plain tuple (rule id, baseline, inclusion probability, priority), for
        the loops that route thousands of events."""
        baseline_rate = self.baseline_rate
        baseline = baseline_rate > 0 and sample_draw(event_id, BASELINE_SALT) < baseline_rate
        missed = 1.0 - baseline_rate
        chosen = None
        for rule in self.rules:
            if not rule.predicate(score, label, model_version, metadata):
                continue
            if rule.capped and caps is not None and not caps.has_room(rule, hour):
                continue
            rate = rule.sample_rate
            missed *= 1.0 - rate
            if chosen is None and (rate >= 1.0 or sample_draw(event_id, rule.salt) < rate):
                chosen = rule
        if chosen is None:
            return None, baseline, 1.0 - missed, 0
        if chosen.capped and caps is not None:
            caps.add(chosen.id, hour)
        return chosen.id, baseline, 1.0 - missed, chosen.priority
