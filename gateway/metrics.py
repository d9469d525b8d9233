"""Prometheus metrics of the gateway and its workers (served at `/metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

INBOUND = Counter("hotline_inbound_messages_total", "Inbound messages by channel and outcome",
                  ["channel", "outcome"])
WEBHOOKS = Histogram("hotline_webhook_seconds", "Webhook handling time", ["route"],
                     buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
REJECTED = Counter("hotline_webhooks_rejected_total", "Webhooks refused (bad signature or secret)", ["route"])
OUTBOUND = Counter("hotline_outbound_messages_total", "Outbound send attempts by channel and result",
                   ["channel", "result"])
DELIVERY = Counter("hotline_delivery_reports_total", "Provider delivery reports by status", ["status"])
MEDIA = Counter("hotline_media_total", "Media downloads by channel and result (stored, refused, failed)",
                ["channel", "result"])
FALLBACKS = Counter("hotline_fallbacks_total", "Status updates sent again by SMS after failing", ["channel"])
