"""Re-resolve a Dawid-Skene project's items with the model fitted on the whole project.

item_resolve decides each item when its last annotation arrives, with the model as it was then;
early items were decided by a model that had seen little. Refreshing fits the model on every
annotation, finds in one vectorised pass the automatically resolved items whose label the model
now reads differently, and re-resolves only those (history kept). Reviewers' decisions stay.
"""

from __future__ import annotations

import numpy as np
from django.db import transaction
from django.db.models.fields.json import KeyTextTransform

from labeling.consensus.answer_codes import label_codes
from labeling.consensus.project_aggregation import project_choice_aggregate
from labeling.consensus.resolve import dawid_skene_models_forget, item_resolve
from labeling.models import Resolution
from projects.direct_sql import rows_fetch
from projects.label_schema import CHOICE, LabelSchema
from projects.models import Item, Project

AUTOMATIC = (Resolution.Method.MAJORITY, Resolution.Method.DAWID_SKENE)


def project_resolutions_refresh(*, project: Project) -> int:
    """Return how many items got a new resolution."""
    if project.aggregation != Project.Aggregation.DAWID_SKENE:
        return 0
    schema = LabelSchema(project.label_schema)
    choices = [c for c in schema.controls if c.kind == CHOICE]
    if not choices:
        return 0
    dawid_skene_models_forget(project=project)
    aggregates = project_choice_aggregate(project=project)
    automatic = Resolution.objects.filter(
        item__project=project, is_current=True, method__in=AUTOMATIC
    )
    changed: set[int] = set()
    for control in choices:
        aggregate = aggregates[control.name]
        rows = rows_fetch(
            automatic.values_list("item_id", KeyTextTransform(control.name, "result"))
        )
        if not rows:
            continue
        item_ids, answers = (np.asarray(column) for column in zip(*rows, strict=True))
        stored = label_codes(list(answers), aggregate.label_values)
        where = np.clip(
            np.searchsorted(aggregate.item_ids, item_ids), 0, len(aggregate.item_ids) - 1
        )
        known = aggregate.item_ids[where] == item_ids
        model = np.where(known & aggregate.decided[where], aggregate.labels[where], -2)
        differs = known & (model != -2) & (model != stored)
        changed.update(int(i) for i in item_ids[differs])
    refreshed = 0
    for item_id in sorted(changed):
        with transaction.atomic():
            item = Item.objects.select_for_update().select_related("project").get(pk=item_id)
            if item_resolve(item=item, only_if_changed=True) is not None:
                refreshed += 1
    return refreshed
