"""What an export may be asked for: the options, checked once before a job is queued."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from projects.label_schema import LabelSchema

SPLIT_NAMES = ("train", "validation", "test")
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
        else:
            values["stratify_by"] = raw["stratify_by"]
    unknown = set(raw) - set(BOOLEAN_OPTIONS) - {"split", "split_seed", "stratify_by", "format"}
    for name in sorted(unknown):
        errors[name] = "unknown option"
    if errors:
        raise OptionsError(errors)
    return ExportOptions(**values)
