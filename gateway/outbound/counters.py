"""Metrics the workers count and any gateway serves: counters kept in Redis, gauges read at scrape time.

A worker is a process of its own, often on another machine, so what it counts in memory is seen by
nobody. Its counters go to Redis hashes instead (one `HINCRBY` each), and every gateway's `/metrics`
reads them with the lanes' depth and age, next to the gateway's own in-process metrics.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import redis.asyncio as aioredis
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from gateway.outbound.lanes import PRIORITIES, now_ms

COUNTERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "outbound": ("hotline_outbound_messages", ("channel", "outcome")),
    "retries": ("hotline_send_retries", ("channel",)),
    "downloads": ("hotline_media_downloads", ("channel", "outcome")),
    "fallbacks": ("hotline_fallbacks", ("channel",)),
    "quarantined": ("hotline_quarantined_items", ("kind",)),
}
"""Counter name -> (Prometheus name without `_total`, label names)."""
HELP = {
    "outbound": "Outbound messages by channel and outcome (sent, retrying, failed, opted_out, fell_back)",
    "retries": "Sends tried again after a provider error (429, 5xx, network)",
    "downloads": "Media downloads by channel and outcome (stored, refused, failed, retrying)",
    "fallbacks": "Status updates sent again by SMS after failing on their channel",
    "quarantined": "Work items set aside after failing repeatedly (visible to supervisors)",
}


class SharedCounters:
    """Counters in Redis, shared by every process of the deployment."""

    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def key(self, name: str) -> str:
        """The hash of one counter."""
        return f"{self.prefix}:metrics:{name}"

    async def incr(self, name: str, **labels: str) -> None:
        """Add one to a counter (a lost increment while Redis is away is not worth a failed send)."""
        if name not in COUNTERS:
            raise KeyError(name)
        field = json.dumps([str(labels.get(label, "")) for label in COUNTERS[name][1]])
        try:
            await self.client.hincrby(self.key(name), field, 1)
        except Exception:
            return

    async def snapshot(self) -> dict[str, Any]:
        """Every counter and the lanes' gauges, read in one round trip."""
        lanes = f"{self.prefix}:out"
        async with self.client.pipeline(transaction=False) as pipe:
            for name in COUNTERS:
                pipe.hgetall(self.key(name))
            for priority in PRIORITIES:
                pipe.zcard(f"{lanes}:ready:{priority}")
            pipe.hlen(f"{lanes}:items")
            pipe.zrange(f"{lanes}:age", 0, 0, withscores=True)
            pipe.zcard(f"{lanes}:busy")
            pipe.hlen(f"{lanes}:quarantine")
            results = await pipe.execute()
        counters = dict(zip(COUNTERS, results[: len(COUNTERS)], strict=True))
        rest = results[len(COUNTERS):]
        ready = dict(zip(PRIORITIES, rest[: len(PRIORITIES)], strict=True))
        items, oldest, busy, quarantined = rest[len(PRIORITIES):]
        oldest_age = (now_ms() - oldest[0][1]) / 1000 if oldest else 0.0
        return {"counters": counters, "ready": ready, "items": items, "oldest_age": max(0.0, oldest_age),
                "busy": busy, "quarantined": quarantined}


class SnapshotCollector(Collector):
    """Exposes one `SharedCounters.snapshot()` to prometheus-client's text format."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.snapshot = snapshot

    def collect(self) -> Iterator[Metric]:
        """The shared counters, then the lanes' gauges."""
        for name, (metric, labels) in COUNTERS.items():
            family = CounterMetricFamily(metric, HELP[name], labels=list(labels))
            for field, value in (self.snapshot["counters"].get(name) or {}).items():
                text = field.decode() if isinstance(field, bytes) else field
                family.add_metric([str(v) for v in json.loads(text)], float(value))
            yield family
        ready = GaugeMetricFamily("hotline_lanes_ready", "Lanes with work due or waiting, by priority",
                                  labels=["priority"])
        for priority, count in self.snapshot["ready"].items():
            ready.add_metric([priority], float(count))
        yield ready
        yield GaugeMetricFamily("hotline_queue_depth", "Work items queued or being worked on",
                                value=float(self.snapshot["items"]))
        yield GaugeMetricFamily("hotline_queue_oldest_seconds", "Age of the oldest queued work item",
                                value=float(self.snapshot["oldest_age"]))
        yield GaugeMetricFamily("hotline_lanes_busy", "Lanes being worked on (leased by a worker)",
                                value=float(self.snapshot["busy"]))
        yield GaugeMetricFamily("hotline_quarantined", "Work items in quarantine now",
                                value=float(self.snapshot["quarantined"]))
