"""Group commit: the store writes of concurrent requests share one transaction.

Every inbound message costs two write transactions (recorded before it is processed, then marked
processed with its replies), and a transaction's BEGIN and COMMIT cost more than the statements in
it. Writes submitted while the event loop is busy are gathered and run together, in submission order;
each request still awaits its own result, durable before it goes on, and an item whose data fails the
transaction fails alone (the others are written again one by one). Nothing is written later than it
would have been: a batch is started as soon as the loop is free (or after `linger` seconds, for a
worker whose writes are not awaited by a citizen and compete with the gateway's for SQLite's lock).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.exc import InterfaceError, OperationalError

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

Run = Callable[[Callable[[Sequence[T]], list[R]], Sequence[T]], Awaitable[list[R]]]

UNAVAILABLE: tuple[type[Exception], ...] = (OperationalError, InterfaceError, OSError, TimeoutError)
"""Failures of the database rather than of one item's data (connection lost, database locked):
retrying the items one by one would only wait for the same failure once per item."""


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
            await self._commit(batch)

    async def _commit(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        """Write `batch` in one transaction. When one item's data fails it, the others are written
        again one by one, so only that item's caller gets the failure; when the database itself
        failed (`UNAVAILABLE`), every caller gets it at once."""
        try:
            results = await self._run(self._write, [item for item, _ in batch])
        except asyncio.CancelledError:
            for _, future in batch:
                future.cancel()
            raise
        except Exception as exc:
            if len(batch) == 1 or isinstance(exc, UNAVAILABLE):
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                return
            log.warning("a batch of %s writes failed (%s: %s); writing them one by one", len(batch),
                        type(exc).__name__, exc)
            for index, entry in enumerate(batch):
                try:
                    await self._commit([entry])
                except asyncio.CancelledError:
                    for _, future in batch[index + 1:]:
                        future.cancel()
                    raise
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
