"""What the gateway, the CLI and the worker put on the lanes: sends, notices, downloads, fallbacks.

Each returns what `WorkLanes.enqueue` returns: an awaitable over an asyncio client, the count of new
items over a blocking one. Queueing an item already queued changes nothing (see `gateway.outbound.lanes`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from core.records import OutboundDraft
from gateway.outbound.lanes import WorkLanes, download_work, fallback_work, notice_work, send_work


def queue_sends(lanes: WorkLanes, ids: Sequence[int], drafts: Sequence[OutboundDraft]) -> Any:
    """The sends of recorded outbound messages (`drafts` in the order of `ids`)."""
    return lanes.enqueue([send_work(i, d.channel, d.sender, d.recipient, d.priority)
                          for i, d in zip(ids, drafts, strict=True)])


def queue_notice(lanes: WorkLanes, reference: str, event_id: int) -> Any:
    """Telling the citizen of a status change (bulk: it waits behind direct replies)."""
    return lanes.enqueue([notice_work(reference, event_id)])


def queue_downloads(lanes: WorkLanes, attachment_ids: Sequence[int]) -> Any:
    """Downloading recorded attachments."""
    return lanes.enqueue([download_work(i) for i in attachment_ids])


def queue_fallback(lanes: WorkLanes, provider_message_id: str) -> Any:
    """Looking at a failed delivery: a status update on a channel with a fallback goes again by SMS."""
    return lanes.enqueue([fallback_work(provider_message_id)])
