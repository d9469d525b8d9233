"""The tests' Twilio emulator as a process of its own, for the benchmarks: `python bench/twilio_emulator.py PORT`.

Besides Twilio's routes it answers `GET /bench/messages` with every message it accepted (recipient,
body and arrival time on this machine's monotonic clock, which every process shares on Linux), and
`GET /bench/count` with how many (cheap enough to poll).
"""

from __future__ import annotations

import sys
from pathlib import Path

from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.emulators.twilio import TwilioEmulator

ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "bench-auth-token"


def main() -> None:
    """Serve until killed."""
    port = int(sys.argv[1])
    emulator = TwilioEmulator(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, url=f"http://127.0.0.1:{port}")
    app = emulator.app()

    async def messages(request: web.Request) -> web.Response:
        with emulator.lock:
            found = [{"to": m.to, "body": m.body, "at": m.at} for m in emulator.messages]
        return web.json_response(found)

    async def count(request: web.Request) -> web.Response:
        with emulator.lock:
            return web.json_response({"count": len(emulator.messages),
                                      "recipients": len({m.to for m in emulator.messages})})

    app.router.add_get("/bench/messages", messages)
    app.router.add_get("/bench/count", count)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


if __name__ == "__main__":
    main()
