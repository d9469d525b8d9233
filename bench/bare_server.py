"""The baseline: a bare aiohttp handler that reads the form and answers fixed TwiML, nothing else."""

from __future__ import annotations

import sys

from aiohttp import web

TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>ok</Message></Response>'


async def handle(request: web.Request) -> web.Response:
    """Parse the form as the gateway does, answer at once."""
    await request.post()
    return web.Response(text=TWIML, content_type="application/xml")


def main() -> None:
    """Serve on 127.0.0.1:<port>."""
    app = web.Application()
    app.router.add_post("/webhooks/twilio/sms", handle)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
