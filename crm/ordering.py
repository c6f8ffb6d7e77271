"""Fractional-index keys: the order of the cards inside a kanban column.

A card's ``position`` is a base-62 string; cards sort by it byte by byte (the column is
``COLLATE "C"`` on PostgreSQL), ties broken by id. Moving a card between two neighbours gives
it a key strictly between theirs, so a move writes one row however long the column is.

Keys only grow: inserting again and again into the same gap adds about one character per
few inserts. A column whose longest key passes ``REBALANCE_LENGTH`` is given short, evenly
spread keys again (``crm.deals.stage_rebalance``), in the same order.
"""

from __future__ import annotations

from fractional_indexing import generate_key_between, generate_n_keys_between

# Keys longer than this make their column due for a rebalance. The column holds up to
# crm.models.POSITION_MAX_LENGTH (255), so there is ample room for the moves made meanwhile.
REBALANCE_LENGTH = 50


def key_between(before: str | None, after: str | None) -> str:
    """A key sorting after ``before`` and before ``after`` (None: an open end).

    ``before`` must sort strictly before ``after``; equal keys have no room between them
    (the caller rebalances the column first).
    """
    return str(generate_key_between(before, after))


def keys_between(before: str | None, after: str | None, n: int) -> list[str]:
    """``n`` increasing keys between ``before`` and ``after``, spread evenly."""
    if n <= 0:
        return []
    return [str(key) for key in generate_n_keys_between(before, after, n)]


def is_long(key: str) -> bool:
    """Whether a column holding ``key`` is due for a rebalance."""
    return len(key) > REBALANCE_LENGTH
