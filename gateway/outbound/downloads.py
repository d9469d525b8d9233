"""The media job, shared by every channel: download a citizen's file with the channel's own fetcher,
check it, store it, and record what it is.

`download_media` (a work item `d:{attachment_id}`) asks the attachment's channel adapter to fetch the file
(`ChannelAdapter.fetch_media`: Twilio's media with basic auth, Telegram's file API with its token),
then `core.media_files` checks the bytes against the deployment's type allowlist, refuses damaged
images, reads a photo's GPS and keeps an EXIF-free copy under `HOTLINE_MEDIA_DIR` by content hash.
A download that fails is tried again (`media.download_attempts`, `media.retry_seconds`) and then
marked failed, its case saying so; a file refused (too big, wrong type) is marked refused, and the
citizen is told on their channel either way while their dialogue goes on.
"""

from __future__ import annotations

import asyncio
import logging

from channels.base import MediaError, MediaRef
from conversations.catalog import text as catalog_text
from core import media_files
from core.store.attachments import MediaOrigin
from core.store.case_store import OutboundDraft
from gateway.outbound.worker import Done, Later, Verdict, WorkItem

log = logging.getLogger(__name__)

TELL = {"too_large": "media_too_large", "wrong_type": "media_wrong_type", "damaged": "media_wrong_type",
        "foreign_host": "media_failed", "not_found": "media_failed", "unavailable": "media_failed",
        "unsupported": "media_failed"}
"""The catalog text a citizen gets for each reason a file was not kept."""


async def download_media(item: WorkItem) -> Verdict:
    """Fetch, check and store one attachment (stored, refused, failed, or tried again later)."""
    runtime = item.runtime
    store = runtime.store
    attachment_id = int(item.ident)
    attachment = await runtime.db(store.attachment, attachment_id)
    origin = await runtime.db(store.media_origin, attachment_id)
    if attachment is None or origin is None or attachment.status != "pending" or not attachment.source_url:
        return Done()
    policy = runtime.deployment.media
    adapter = runtime.adapter(origin.channel)
    attempt = item.retries + 1
    count = item.counters
    try:
        fetched = await adapter.fetch_media(MediaRef(attachment.source_url, attachment.content_type),
                                            policy.max_bytes)
        kept = await asyncio.to_thread(media_files.inspect, fetched.content,
                                       fetched.content_type or attachment.content_type, policy.allowed_types)
    except MediaError as error:
        if error.retryable and attempt < policy.attempts:
            delay = policy.backoff_seconds[min(attempt - 1, len(policy.backoff_seconds) - 1)]
            log.info("attachment %s: %s; retrying in %s s", attachment_id, error, delay)
            await count.incr("downloads", channel=origin.channel, outcome="retrying")
            return Later(delay)
        status = "failed" if error.retryable or error.reason in ("not_found", "unsupported") else "refused"
        await _not_kept(item, attachment_id, origin, status, error.reason, str(error))
        return Done()
    except media_files.MediaRejected as error:
        await _not_kept(item, attachment_id, origin, "refused", error.reason, str(error))
        return Done()
    stored = await asyncio.to_thread(media_files.store, runtime.settings.media_dir, kept)
    await runtime.db(store.media_stored, attachment_id, path=stored.path, size=stored.size, sha256=stored.sha256,
                     content_type=kept.content_type, lat=kept.lat, lon=kept.lon)
    await count.incr("downloads", channel=origin.channel, outcome="stored")
    return Done()


async def quarantine_download(item: WorkItem, error: str) -> None:
    """A download that keeps failing unexpectedly: failed, with its error, on its case."""
    await item.runtime.db(item.runtime.store.media_not_stored, int(item.ident), "failed", f"quarantined: {error}")


async def _not_kept(item: WorkItem, attachment_id: int, origin: MediaOrigin, status: str, reason: str,
                    detail: str) -> None:
    """Mark the attachment refused or failed, and tell the citizen on their channel."""
    runtime = item.runtime
    store = runtime.store
    if not await runtime.db(store.media_not_stored, attachment_id, status, f"{reason}: {detail}"):
        return
    await item.counters.incr("downloads", channel=origin.channel, outcome=status)
    log.info("attachment %s %s: %s (%s)", attachment_id, status, reason, detail)
    context = runtime.dialogue_for(origin.our_number)
    language = origin.language or context.default_language
    body = catalog_text(language, TELL.get(reason, "media_failed"), context)
    await item.turns.record([OutboundDraft(origin.channel, origin.contact_id, origin.our_number, origin.citizen,
                                           body, priority="replies", case_id=origin.case_id)])
