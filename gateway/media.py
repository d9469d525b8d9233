"""The media job, shared by every channel: download a citizen's file with the channel's own fetcher,
check it, store it, and record what it is.

`download_media(attachment_id)` asks the attachment's channel adapter to fetch the file
(`ChannelAdapter.fetch_media`: Twilio's media with basic auth, Telegram's file API with its token),
then `core.media_files` checks the bytes against the deployment's type allowlist, refuses damaged
images, reads a photo's GPS and keeps an EXIF-free copy under `HOTLINE_MEDIA_DIR` by content hash.
A download that fails is tried again (`media.download_attempts`, `media.retry_seconds`) and then
marked failed, its case saying so; a file refused (too big, wrong type) is marked refused, and the
citizen is told on their channel either way while their dialogue goes on.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from rq import Queue, get_current_job

from channels.base import MediaError, MediaRef
from conversations.catalog import text as catalog_text
from core import media_files
from core.attachment_store import MediaOrigin
from core.store import OutboundDraft
from gateway import metrics
from gateway.jobs import worker_runtime
from gateway.queues import MEDIA, REPLIES, enqueue_sends, queue_name
from gateway.redis_clients import sync_client
from gateway.runtime import Runtime

log = logging.getLogger(__name__)

TELL = {"too_large": "media_too_large", "wrong_type": "media_wrong_type", "damaged": "media_wrong_type",
        "foreign_host": "media_failed", "not_found": "media_failed", "unavailable": "media_failed",
        "unsupported": "media_failed"}
"""The catalog text a citizen gets for each reason a file was not kept."""


async def download_media(attachment_id: int, attempt: int = 1) -> str:
    """Fetch, check and store one attachment; `stored`, `refused`, `failed`, `retrying` or `skipped`."""
    runtime = worker_runtime()
    store = runtime.store
    item = store.attachment(attachment_id)
    origin = store.media_origin(attachment_id)
    if item is None or origin is None or item.status != "pending" or not item.source_url:
        return "skipped"
    policy = runtime.deployment.media
    adapter = runtime.adapter(origin.channel)
    try:
        fetched = await adapter.fetch_media(MediaRef(item.source_url, item.content_type), policy.max_bytes)
        kept = media_files.inspect(fetched.content, fetched.content_type or item.content_type, policy.allowed_types)
    except MediaError as error:
        if error.retryable and attempt < policy.attempts:
            return _retry(runtime, attachment_id, attempt, error)
        status = "failed" if error.retryable or error.reason in ("not_found", "unsupported") else "refused"
        return _not_kept(runtime, attachment_id, origin, status, error.reason, str(error))
    except media_files.MediaRejected as error:
        return _not_kept(runtime, attachment_id, origin, "refused", error.reason, str(error))
    stored = media_files.store(runtime.settings.media_dir, kept)
    store.media_stored(attachment_id, path=stored.path, size=stored.size, sha256=stored.sha256,
                       content_type=kept.content_type, lat=kept.lat, lon=kept.lon)
    metrics.MEDIA.labels(origin.channel, "stored").inc()
    return "stored"


def _retry(runtime: Runtime, attachment_id: int, attempt: int, error: MediaError) -> str:
    """Try the download again later (the media may not be ready yet, the host may be down)."""
    backoff = runtime.deployment.media.backoff_seconds
    delay = backoff[min(attempt - 1, len(backoff) - 1)]
    job = get_current_job()
    connection = job.connection if job is not None else sync_client(runtime.settings.redis_url)
    Queue(queue_name(runtime.settings.queue_prefix, MEDIA), connection=connection).enqueue_in(
        timedelta(seconds=delay), download_media, attachment_id, attempt + 1,
        job_id=f"media-{attachment_id}-retry{attempt}",
    )
    log.info("attachment %s: %s; retrying in %s s", attachment_id, error, delay)
    return "retrying"


def _not_kept(runtime: Runtime, attachment_id: int, origin: MediaOrigin, status: str, reason: str,
              detail: str) -> str:
    """Mark the attachment refused or failed, and tell the citizen on their channel."""
    store = runtime.store
    if not store.media_not_stored(attachment_id, status, f"{reason}: {detail}"):
        return "skipped"
    metrics.MEDIA.labels(origin.channel, status).inc()
    log.info("attachment %s %s: %s (%s)", attachment_id, status, reason, detail)
    context = runtime.dialogue_for(origin.our_number)
    language = origin.language or context.default_language
    body = catalog_text(language, TELL.get(reason, "media_failed"), context)
    ids = store.record_outbound([OutboundDraft(origin.channel, origin.contact_id, origin.our_number, origin.citizen,
                                               body, priority=REPLIES, case_id=origin.case_id)])
    job = get_current_job()
    connection = job.connection if job is not None else sync_client(runtime.settings.redis_url)
    enqueue_sends(connection, runtime.settings.queue_prefix, ids, REPLIES)
    return status
