"""The RQ queues and how work is put on them.

Replies to a citizen (and agent messages) go on the `replies` queue, media downloads on `media`,
status updates and reminders on `bulk`; workers listen to `replies` first, so a citizen waiting for an
answer never waits behind a batch of downloads or status updates.
"""

from __future__ import annotations

from collections.abc import Iterable

import redis
from rq import Queue, Retry

REPLIES = "replies"
MEDIA = "media"
BULK = "bulk"
PRIORITIES = (REPLIES, MEDIA, BULK)
CRASH_RETRY = Retry(max=3, interval=[10, 60, 300])
"""For a job that crashed (a bug, the database away); provider errors are retried by the job itself."""


def queue_name(prefix: str, priority: str) -> str:
    """The RQ queue of a priority."""
    return f"{prefix}-{priority}"


def queues(connection: redis.Redis, prefix: str) -> list[Queue]:
    """The project's queues, highest priority first (the order a worker listens in)."""
    return [Queue(queue_name(prefix, p), connection=connection) for p in PRIORITIES]


def enqueue_sends(connection: redis.Redis, prefix: str, message_ids: Iterable[int], priority: str) -> None:
    """One send job per recorded outbound message; a message queued twice is still sent once."""
    from gateway.jobs import send_message

    queue = Queue(queue_name(prefix, priority), connection=connection)
    for message_id in message_ids:
        queue.enqueue(send_message, message_id, job_id=f"send-{message_id}", retry=CRASH_RETRY,
                      result_ttl=3600, failure_ttl=7 * 24 * 3600)


def enqueue_status_notice(connection: redis.Redis, prefix: str, reference: str, event_id: int) -> None:
    """Tell the citizen of a status change (a bulk job: it waits behind direct replies)."""
    from gateway.jobs import notify_status_change

    Queue(queue_name(prefix, BULK), connection=connection).enqueue(
        notify_status_change, reference, event_id, job_id=f"notice-{event_id}", retry=CRASH_RETRY,
        result_ttl=3600, failure_ttl=7 * 24 * 3600,
    )


def enqueue_downloads(connection: redis.Redis, prefix: str, attachment_ids: Iterable[int]) -> None:
    """One download job per recorded attachment; an attachment queued twice is fetched once."""
    from gateway.media import download_media

    queue = Queue(queue_name(prefix, MEDIA), connection=connection)
    for attachment_id in attachment_ids:
        queue.enqueue(download_media, attachment_id, job_id=f"media-{attachment_id}", retry=CRASH_RETRY,
                      result_ttl=3600, failure_ttl=7 * 24 * 3600)


def enqueue_fallback(connection: redis.Redis, prefix: str, provider_message_id: str) -> None:
    """Look at a failed delivery: a status update that failed on a channel with a fallback goes again by SMS."""
    from gateway.delivery import fall_back

    Queue(queue_name(prefix, BULK), connection=connection).enqueue(
        fall_back, provider_message_id, job_id=f"fallback-{provider_message_id}",
        retry=CRASH_RETRY, result_ttl=3600, failure_ttl=7 * 24 * 3600,
    )
