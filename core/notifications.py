"""What the citizen is told, and when: the rules, not the sending."""

from __future__ import annotations

CITIZEN_ACTOR = "citizen"
SYSTEM_ACTOR = "system"


def tell_citizen(new_status: str, actor: str) -> bool:
    """Every status change staff make is pushed to the citizen on their channel.

    Not the ones the citizen made themselves (rating, closing, reopening: the dialogue already
    answered them) nor the automatic routing at filing (the reference message names the administration).
    """
    return actor not in (CITIZEN_ACTOR, SYSTEM_ACTOR)
