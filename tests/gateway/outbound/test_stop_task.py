"""Stopping a background task is bounded, even for a task that loses its cancellation (a library's
own timeout can turn one into an error it catches and goes on)."""

from __future__ import annotations

import asyncio
import time

from gateway.outbound.sweeper import stop_task


async def test_a_task_that_ends_when_cancelled_is_stopped_at_once() -> None:
    task = asyncio.create_task(asyncio.sleep(3600))
    await asyncio.sleep(0)
    started = time.monotonic()
    await stop_task(task, timeout=5)
    assert task.cancelled() and time.monotonic() - started < 1


async def test_a_task_that_swallows_its_cancellation_is_left_behind_after_the_timeout() -> None:
    stop = asyncio.Event()

    async def stubborn() -> None:
        while not stop.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                asyncio.current_task().uncancel()

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    started = time.monotonic()
    await stop_task(task, timeout=0.3)
    assert not task.done() and time.monotonic() - started < 5
    stop.set()
    task.cancel()
    await asyncio.wait({task}, timeout=5)
    assert task.done()
