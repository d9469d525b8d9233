"""Run an aiohttp app on 127.0.0.1 in a thread of its own, so sync and async code can both call it."""

from __future__ import annotations

import asyncio
import sys
import threading
import traceback

from aiohttp import web


class ThreadedServer:
    """A real HTTP server on a free loopback port, with its own event loop in a daemon thread."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self.port = 0
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL, without a trailing slash."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ThreadedServer:
        """Start serving; returns when the port is bound."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(timeout=10)
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app, handle_signals=False, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def stop(self) -> None:
        """Stop serving and end the thread; if the app takes over 30 s to stop, print where it hangs."""
        if self._runner is not None:
            future = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self.loop)
            try:
                future.result(timeout=30)
            except TimeoutError:
                frame = sys._current_frames().get(self._thread.ident)
                print("server thread:\n" + "".join(traceback.format_stack(frame)), file=sys.stderr)
                for task in asyncio.all_tasks(self.loop):
                    print("pending task", task, file=sys.stderr)
                    task.print_stack(file=sys.stderr)
                raise
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
