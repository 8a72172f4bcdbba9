"""Extension points of customer profiles: what other apps move when two profiles merge.

Apps register in their AppConfig.ready(). Merge participants run inside the merge's
transaction (a merge that moves contacts but not cases would split a customer's history)
and return the ids of the records they moved, for the merge event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

MergeParticipant = Callable[..., list[int]]
_merge_participants: dict[str, MergeParticipant] = {}


def on_customers_merged(name: str, participant: MergeParticipant) -> None:
    """`participant(source=, target=, actor=)` moves its records of `source` to `target`;
    `name` keys the moved ids in the merge event ("cases")."""
    _merge_participants[name] = participant


def customers_merged(*, source: Any, target: Any, actor: Any) -> dict[str, list[int]]:
    return {
        name: participant(source=source, target=target, actor=actor)
        for name, participant in _merge_participants.items()
    }
