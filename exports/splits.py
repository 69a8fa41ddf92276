"""Train / validation / test splits: by ratio, reproducible from a seed, stratified by label.

A first pass reads every exported item's id and stratum (its label, see exports.labels) into
compact arrays; each stratum is shuffled with the seeded generator and cut by the ratios, so every
label is spread over the splits in the asked proportions. Memory: a few bytes per item.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from exports.labels import NO_LABEL, stratify_control, stratum_key
from exports.options import SPLIT_NAMES, ExportOptions
from exports.records import ExportBatch, ExportRecord
from projects import label_schema as ls
from projects.label_schema import LabelSchema

FEW_STRATA = 64


@dataclass(frozen=True)
class SplitPlan:
    item_ids: np.ndarray  # sorted int64
    codes: np.ndarray  # int8 index into SPLIT_NAMES, aligned with item_ids
    ratios: tuple[float, float, float] = (1.0, 0.0, 0.0)

    def splits_assign(self, batch: list[ExportRecord]) -> None:
        if not batch:
            return
        ids = np.fromiter((r.item_id for r in batch), dtype=np.int64, count=len(batch))
        positions = np.minimum(np.searchsorted(self.item_ids, ids), max(len(self.item_ids) - 1, 0))
        planned = len(self.item_ids) > 0
        for record, position in zip(batch, positions.tolist(), strict=True):
            if planned and self.item_ids[position] == record.item_id:
                record.split = SPLIT_NAMES[self.codes[position]]
            else:
                # Resolved between the planning pass and the writing pass: still a fixed split.
                record.split = SPLIT_NAMES[split_of_unplanned(record.item_id, self.ratios)]


def split_of_unplanned(item_id: int, ratios: tuple[float, float, float]) -> int:
    """A split for an item the plan did not see, fixed by its id (Knuth's multiplicative hash)."""
    share = ((item_id * 2654435761) % 2**32) / 2**32
    return 0 if share < ratios[0] else (1 if share < ratios[0] + ratios[1] else 2)


def split_cuts(size: int, ratios: tuple[float, float, float]) -> tuple[int, int]:
    """Where train ends and validation ends in a shuffled stratum of `size` items."""
    first = round(size * ratios[0])
    second = round(size * (ratios[0] + ratios[1]))
    return first, max(first, second)


def split_plan_build(
    *, batches: Iterable[ExportBatch], schema: LabelSchema, options: ExportOptions
) -> SplitPlan:
    assert options.split is not None
    control = stratify_control(schema, options.stratify_by)
    ids = array("q")
    strata = array("i")
    keys: dict[str, int] = {}
    for batch in batches:
        ids.extend(record.item_id for record in batch)
        if control is not None and control.kind in (ls.CHOICE, ls.PAIRWISE):
            # One label per item: read it from the batch's Arrow results, no JSON per item.
            labels = batch.results(schema).column(control.name).to_pylist()
            batch_keys = [label or NO_LABEL for label in labels]
        else:
            batch_keys = [stratum_key(control, record.result) for record in batch]
        strata.extend(keys.setdefault(key, len(keys)) for key in batch_keys)
    item_ids = np.frombuffer(ids, dtype=np.int64) if ids else np.empty(0, np.int64)
    if len(item_ids) and item_ids[-1] < 2**31:
        item_ids = item_ids.astype(np.int32)  # half the memory; ids are sorted, the last is max
    del ids
    stratum_of = np.frombuffer(strata, dtype=np.int32) if strata else np.empty(0, np.int32)
    codes = np.zeros(len(item_ids), dtype=np.int8)
    rng = np.random.default_rng(options.split_seed)
    # Strata in key order, items in id order: the same data and seed give the same split.
    if len(keys) > FEW_STRATA:
        by_stratum = np.argsort(stratum_of, kind="stable")
        bounds = np.searchsorted(stratum_of[by_stratum], np.arange(len(keys) + 1))
    for key in sorted(keys):
        code = keys[key]
        if len(keys) > FEW_STRATA:
            members = by_stratum[bounds[code] : bounds[code + 1]]
        else:
            # A scan per stratum: no index array as long as the items (memory stays small).
            members = np.flatnonzero(stratum_of == code)
        members = members[rng.permutation(len(members))]
        first, second = split_cuts(len(members), options.split)
        codes[members[first:second]] = 1
        codes[members[second:]] = 2
    # Batches come in id order (keyset pagination): item_ids is sorted, as lookups need.
    return SplitPlan(item_ids=item_ids, codes=codes, ratios=options.split)
