"""`hotline demo`: the SMS dialogue in a terminal, with the real store and Redis but no provider.

Lines typed are handled exactly as inbound SMS; replies are printed instead of sent. `/status REF
STATUS note...` plays the administration changing a case's status, and prints what the citizen is
told; `/quit` ends.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
from datetime import UTC, datetime

from channels.base import InboundMessage, numbered_text
from core import references
from core.lifecycle import InvalidTransition
from core.store.case_store import CaseNotFound
from gateway.dialogue.sessions import SessionStore
from gateway.inbound.processing import InboundProcessor
from gateway.outbound.lanes import WorkLanes
from gateway.outbound.sending import notice_drafts
from gateway.redis_clients import async_client_for, sync_client_for
from gateway.runtime import Runtime, build_runtime
from gateway.settings import Settings
from gateway.staff.case_actions import change_status

HELP = "Type as a citizen would. /status REF STATUS note  (staff changes a case)   /quit"


async def run_demo(settings: Settings, phone: str, to: str) -> int:
    """Chat until end of input or `/quit`."""
    runtime = await asyncio.to_thread(build_runtime, settings)
    client = async_client_for(settings)
    sessions = SessionStore(client, f"{settings.queue_prefix}-demo")
    lanes = WorkLanes(client, f"{settings.queue_prefix}-demo")
    processor = InboundProcessor(runtime, sessions, client, lanes)
    loop = asyncio.get_running_loop()
    print(HELP)
    try:
        while True:
            try:
                line = await loop.run_in_executor(None, input, "you> ")
            except EOFError:
                break
            if line.strip() == "/quit":
                break
            if line.startswith("/status"):
                await _staff_change(runtime, processor, settings, line)
                continue
            message = InboundMessage(
                channel="sms", sender=phone, recipient=to, provider_message_id="SMdemo" + secrets.token_hex(15),
                text=line, received_at=datetime.now(UTC),
            )
            result = await processor.process(message)
            for reply in result.replies:
                _print_bot(numbered_text(reply.text, reply.choices))
    finally:
        await client.aclose()
        runtime.close()
    return 0


async def _staff_change(runtime: Runtime, processor: InboundProcessor, settings: Settings, line: str) -> None:
    parts = line.split(maxsplit=3)
    if len(parts) < 3:
        print("usage: /status REF STATUS note", file=sys.stderr)
        return
    reference = references.parse(parts[1])
    if reference is None:
        print("not a valid reference", file=sys.stderr)
        return
    note = parts[3] if len(parts) > 3 else ""
    try:
        change = await runtime.db(
            change_status, runtime.store, sync_client_for(settings),
            f"{settings.queue_prefix}-demo", reference, parts[2], "demo-officer", note,
        )
    except (InvalidTransition, CaseNotFound) as exc:
        print(f"[staff] {exc}", file=sys.stderr)
        return
    print(f"[staff] {references.display(reference)}: {change.previous} -> {change.case.status}")
    drafts = await notice_drafts(runtime, processor.turns, reference, change.event_id) or []
    await runtime.db(runtime.store.mark_notified, change.event_id)
    for draft in drafts:
        _print_bot(draft.body)


def _print_bot(text: str) -> None:
    for number, line in enumerate(text.splitlines()):
        print(("bot> " if number == 0 else "     ") + line)
