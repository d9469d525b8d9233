"""Staff actions on cases that both the CLI and the JSON API offer."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

import redis
from redis.exceptions import RedisError

from core.notifications import tell_citizen
from core.store.case_store import CaseStore, StatusChange
from gateway.outbound.lanes import WorkLanes
from gateway.outbound.queues import queue_notice


def change_status(
    store: CaseStore, connection: redis.Redis, prefix: str, reference: str, status: str, actor: str, note: str
) -> StatusChange:
    """Change a case's status and queue the citizen's notice.

    The change is committed first; if Redis is away the notice is not lost: the event stays
    un-notified in the store and the gateway's sweeper queues it when Redis is back.
    """
    change = store.change_status(reference, status, actor, note, datetime.now(UTC))
    if tell_citizen(status, actor):
        with contextlib.suppress(RedisError, OSError):
            queue_notice(WorkLanes(connection, prefix), reference, change.event_id)
    return change
