"""Index expressions for the queue's orderings of items (used by Item.Meta.indexes and the queue).

The random ordering must be stable per annotator and still be read from an index at a million
items. A per-(annotator, item) hash cannot be indexed, so items carry one fixed pseudo-random
position, a bijective multiplicative hash of their id (Knuth's constant, modulo 2**31), computed
by the database from the id: no stored column, so every insert path (COPY included) gets it.
Each annotator starts reading that permutation at their own offset and wraps around.
"""

from django.db.models import BigIntegerField, Func

SHUFFLE_MODULUS = 2**31
SHUFFLE_MULTIPLIER = 2654435761  # odd, so the map id -> id * k mod 2**31 is a permutation


class ItemShuffle(Func):
    """The item's fixed pseudo-random position in [0, 2**31): (MOD(id * k, 2**31)).

    The SQL is a fixed text (no parameters) so that PostgreSQL matches it to the index expression.
    """

    template = f"MOD((%(expressions)s * {SHUFFLE_MULTIPLIER}), {SHUFFLE_MODULUS})"
    output_field = BigIntegerField()
    arity = 1


class ItemSequence(Func):
    """The item's position in the sequential order: its id, as an expression (id + 0).

    With the bare column, PostgreSQL may answer "the first fresh item by id" from the primary
    key, filtering as it goes; in a half-labeled project that walks over every finished item at
    the head of the table. An expression only the fresh partial index holds forces that index.
    """

    template = "(%(expressions)s + 0)"
    output_field = BigIntegerField()
    arity = 1


def annotator_shuffle_offset(annotator_id: int) -> int:
    """Where the annotator starts in the shuffled order: stable, and spread over annotators."""
    return (annotator_id * 0x9E3779B1 + 0x7F4A7C15) % SHUFFLE_MODULUS
