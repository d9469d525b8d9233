"""Group commit: the store writes of concurrent requests share one transaction.

Every inbound message costs two write transactions (recorded before it is processed, then marked
processed with its replies), and a transaction's BEGIN and COMMIT cost more than the statements in
it. Writes submitted while the event loop is busy are gathered and run together, in submission order;
each request still awaits its own result, durable before it goes on. Nothing is written later than it
would have been: a batch is started as soon as the loop is free (or after `linger` seconds, for a
worker whose writes are not awaited by a citizen and compete with the gateway's for SQLite's lock).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

Run = Callable[[Callable[[Sequence[T]], list[R]], Sequence[T]], Awaitable[list[R]]]


class GroupCommit(Generic[T, R]):
    """Batches calls of `write(items) -> results` (one transaction) across concurrent callers."""

    def __init__(self, write: Callable[[Sequence[T]], list[R]], run: Run, max_batch: int = 256,
                 linger: float = 0.0) -> None:
        self._write = write
        self._run = run
        self._max_batch = max_batch
        self._linger = linger
        self._pending: list[tuple[T, asyncio.Future[R]]] = []
        self._flusher: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Write `item` with whatever else is waiting; its result once the transaction committed."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._pending.append((item, future))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        return await future

    async def _flush(self) -> None:
        await asyncio.sleep(self._linger)
        while self._pending:
            batch, self._pending = self._pending[: self._max_batch], self._pending[self._max_batch:]
            try:
                results = await self._run(self._write, [item for item, _ in batch])
            except asyncio.CancelledError:
                for _, future in batch:
                    future.cancel()
                raise
            except Exception as exc:  # every caller of the batch gets the failure
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for (_, future), result in zip(batch, results, strict=True):
                if not future.done():
                    future.set_result(result)
