"""What an export may be asked for: the options, checked once before a job is queued."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from exports.labels import STRATIFY_KINDS
from labeling.datamanager.bulk import BulkRefused, selection_check
from projects.label_schema import LabelSchema

SPLIT_NAMES = ("train", "validation", "test")
CONLL_TOKENS = ("conll2003", "label_studio")
RATIO_TOLERANCE = 1e-6


class OptionsError(ValueError):
    """The options are malformed. `errors` maps each option name to its message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


@dataclass(frozen=True)
class ExportOptions:
    only_resolved: bool = True
    include_annotations: bool = False
    include_gold: bool = False
    include_predictions: bool = False
    # (train, validation, test) shares summing to 1; None for no split.
    split: tuple[float, float, float] | None = None
    split_seed: int = 0
    # The control whose label stratifies the split; None picks the first labeled control.
    stratify_by: str | None = None
    # Image formats: copy the image files into the archive instead of referencing them.
    bundle_images: bool = False
    # Only these items (the data manager's selection): {"ids": [...]} or {"query": "..."}.
    selection: dict[str, Any] | None = None
    # CoNLL: how text is cut into tokens (exports.writers.conll): conll2003 or label_studio.
    conll_tokens: str = "conll2003"
    # Only items routed from production prediction events (labeling.monitor): any of
    # {"rule": id, "model_version": str, "since": iso, "until": iso}; None for every item.
    monitor: dict[str, Any] | None = None
    # CSV: write cells that start like a formula (= + - @) as they are, not defused with '.
    csv_raw: bool = False

    def as_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["split"] = list(self.split) if self.split else None
        return out


BOOLEAN_OPTIONS = (
    "only_resolved",
    "include_annotations",
    "include_gold",
    "include_predictions",
    "bundle_images",
    "csv_raw",
)


def _boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "1", "yes", "on"}:
        return True
    if isinstance(value, str) and value.lower() in {"false", "0", "no", "off", ""}:
        return False
    return None


def _split(value: Any) -> tuple[float, float, float] | str:
    if isinstance(value, dict):
        value = [value.get(name, 0) for name in SPLIT_NAMES]
    if isinstance(value, str):
        value = value.replace("/", ",").split(",")
    if not isinstance(value, list | tuple) or len(value) != 3:
        return "give three shares: train, validation, test"
    try:
        shares = [float(v) for v in value]
    except (TypeError, ValueError):
        return "shares are numbers"
    if any(s < 0 for s in shares) or sum(shares) <= 0:
        return "shares are non-negative and not all zero"
    total = sum(shares)
    # Accept percentages (80/10/10) as well as fractions (0.8/0.1/0.1).
    if abs(total - 1.0) > RATIO_TOLERANCE and abs(total - 100.0) > RATIO_TOLERANCE:
        return "shares must sum to 1 (or 100)"
    return tuple(s / total for s in shares)  # type: ignore[return-value]


MONITOR_KEYS = ("rule", "model_version", "since", "until")


def _monitor_filter(value: Any) -> dict[str, Any] | str:
    if not isinstance(value, dict):
        return "an object with any of rule, model_version, since, until"
    unknown = sorted(set(value) - set(MONITOR_KEYS))
    if unknown:
        return f"unknown key(s) {', '.join(unknown)}; use {', '.join(MONITOR_KEYS)}"
    out: dict[str, Any] = {}
    if value.get("rule") not in (None, ""):
        rule = value["rule"]
        if isinstance(rule, bool) or not str(rule).isdigit():
            return "rule is a rule id (a whole number)"
        out["rule"] = int(rule)
    if value.get("model_version") not in (None, ""):
        if not isinstance(value["model_version"], str):
            return "model_version is a string"
        out["model_version"] = value["model_version"]
    for name in ("since", "until"):
        if value.get(name) not in (None, ""):
            try:
                moment = datetime.fromisoformat(str(value[name]))
            except ValueError:
                return f"{name} is an ISO 8601 date-time"
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            out[name] = moment.isoformat()
    return out


def export_options_parse(raw: dict[str, Any] | None, *, schema: LabelSchema) -> ExportOptions:
    """Options from a request body or a stored job, with a message per bad option."""
    raw = dict(raw or {})
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in BOOLEAN_OPTIONS:
        if name in raw and raw[name] is not None:
            parsed = _boolean(raw[name])
            if parsed is None:
                errors[name] = "must be true or false"
            else:
                values[name] = parsed
    if raw.get("split") not in (None, "", [], {}):
        split = _split(raw["split"])
        if isinstance(split, str):
            errors["split"] = split
        else:
            values["split"] = split
    if raw.get("split_seed") not in (None, ""):
        try:
            values["split_seed"] = int(raw["split_seed"])
        except (TypeError, ValueError):
            errors["split_seed"] = "must be a whole number"
    if raw.get("stratify_by") not in (None, ""):
        if raw["stratify_by"] not in schema.by_name:
            errors["stratify_by"] = f"unknown control '{raw['stratify_by']}'"
        elif schema.by_name[raw["stratify_by"]].kind not in STRATIFY_KINDS:
            errors["stratify_by"] = (
                f"control '{raw['stratify_by']}' has no labels to stratify by "
                "(a choice, multi, pairwise, spans, boxes or polygons control)"
            )
        else:
            values["stratify_by"] = raw["stratify_by"]
    if raw.get("selection") not in (None, "", {}):
        try:
            values["selection"] = selection_check(raw["selection"])
        except BulkRefused as exc:
            errors["selection"] = "; ".join(f"{k}: {v}" for k, v in exc.errors.items())
    if raw.get("conll_tokens") not in (None, ""):
        if raw["conll_tokens"] not in CONLL_TOKENS:
            errors["conll_tokens"] = f"one of {', '.join(CONLL_TOKENS)}"
        else:
            values["conll_tokens"] = raw["conll_tokens"]
    if raw.get("monitor") not in (None, "", {}):
        monitor = _monitor_filter(raw["monitor"])
        if isinstance(monitor, str):
            errors["monitor"] = monitor
        else:
            values["monitor"] = monitor
    unknown = (
        set(raw)
        - set(BOOLEAN_OPTIONS)
        - {"split", "split_seed", "stratify_by", "conll_tokens", "format", "selection", "monitor"}
    )
    for name in sorted(unknown):
        errors[name] = "unknown option"
    if errors:
        raise OptionsError(errors)
    return ExportOptions(**values)
