"""Filing items under their project's queue ordering (Item.queue_ordering).

Each item sits in the fresh index of one ordering only, so a project that changes its ordering
has its items refiled, in the background, a range of ids at a time: each range is a short
transaction, so an annotator's lock on an item waits milliseconds at most. Until it is done the
queue serves the items already refiled first and the others after them, in their old ordering
(labeling.annotate.queue.fresh_candidates).
"""

from __future__ import annotations

from django.db import connection, transaction

from projects.items.bulk import project_lock_for_items
from projects.models import Item, Project

REFILE_BATCH = 5000  # items per transaction


def items_refile(*, project_id: int) -> int:
    """File every item of the project under the project's current ordering, read afresh for
    each range (a change meanwhile is followed). Return how many items moved."""
    moved, after = 0, 0
    while True:
        with transaction.atomic():
            try:
                # Shared lock: a new change of the ordering waits for this range.
                ordering = project_lock_for_items(project_id)
            except Project.DoesNotExist:
                return moved
            items = Item.objects.filter(project_id=project_id, pk__gt=after)
            last = items.order_by("pk").values_list("pk", flat=True)[REFILE_BATCH - 1 :][:1]
            upto = next(iter(last), None)
            in_range = items if upto is None else items.filter(pk__lte=upto)
            moved += in_range.exclude(queue_ordering=ordering).update(queue_ordering=ordering)
        if upto is None:
            break
        after = upto
    if moved and connection.vendor == "postgresql":
        # The planner's statistics still see the items under the old ordering: its estimates
        # for the fresh indexes would be wrong until autovacuum's next pass.
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Item._meta.db_table}")
    return moved
