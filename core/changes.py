"""What a store write changed, named for whoever follows it: the console's live views.

The store names the topics of each write transaction and hands them, once it committed, to the
callable it was given (`StoreBase.announce`); the gateway publishes them on Redis (`gateway.live`), so
a view open on any process hears of a change made by any other, without asking the database.
"""

from __future__ import annotations

QUEUE = "queue"
"""The agents' queue: a conversation opened, taken, handed back, closed or touched."""


def conversation_topic(conversation_id: int) -> str:
    """One conversation's own row (its status, its agent, what it collected)."""
    return f"conversation:{conversation_id}"


def messages_topic(channel: str, contact_id: int) -> str:
    """A citizen's messages on one channel: one received, a reply recorded, a delivery status."""
    return f"messages:{channel}:{contact_id}"


def conversation_changed(conversation_id: int) -> tuple[str, str]:
    """The topics of a change to a conversation's row: the queue shows it, and its own page."""
    return QUEUE, conversation_topic(conversation_id)
