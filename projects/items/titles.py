"""What a person reads for an item: its number in the project, and its external id only when the
data gave one (an id made from the data's fingerprint, `sha1:...`, means nothing to anyone).

The number is the item's rank by id within its project (1 for the first item loaded). It is
counted when shown, for the few items a page shows at once, rather than stored: every import path
(COPY, INSERT ... SELECT, the ORM) would otherwise have to number its rows under the project lock.
Counting takes time that grows with the item's position (about 0.1 s for the millionth item on
PostgreSQL), so numbers are cached, and the queue's answer leaves the title out (the workspace asks
GET /api/items/{id}/title/ after showing the item).
"""

from __future__ import annotations

from django.core.cache import cache

from projects.models import Item

GENERATED_ID_PREFIX = "sha1:"
# A number changes only when an earlier item of the project is deleted.
NUMBER_CACHE_SECONDS = 3600


def item_external_id_given(external_id: str) -> bool:
    return bool(external_id) and not external_id.startswith(GENERATED_ID_PREFIX)


def item_number(*, project_id: int, item_id: int) -> int:
    key = f"quorum:item-number:{item_id}"
    number = cache.get(key)
    if number is None:
        number = Item.objects.filter(project_id=project_id, id__lte=item_id).count()
        cache.set(key, number, NUMBER_CACHE_SECONDS)
    return number


def item_title(*, number: int, external_id: str) -> str:
    """`Item 12`, or `Item 12 (review-0042)` when the data named the item."""
    if item_external_id_given(external_id):
        return f"Item {number} ({external_id})"
    return f"Item {number}"


def item_title_of(item: Item) -> str:
    return item_title(
        number=item_number(project_id=item.project_id, item_id=item.pk),
        external_id=item.external_id,
    )
