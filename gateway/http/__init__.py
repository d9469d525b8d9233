"""The HTTP edge: the aiohttp application (every channel's webhooks, health, metrics) and its metrics."""
