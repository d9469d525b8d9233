"""Prometheus metrics of one gateway process (served at `/metrics`; the workers' are in `shared_metrics`)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

INBOUND = Counter("hotline_inbound_messages_total", "Inbound messages by channel and outcome",
                  ["channel", "outcome"])
WEBHOOKS = Histogram("hotline_webhook_seconds", "Webhook handling time", ["route"],
                     buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
REJECTED = Counter("hotline_webhooks_rejected_total", "Webhooks refused (bad signature or secret)", ["route"])
DELIVERY = Counter("hotline_delivery_reports_total", "Provider delivery reports by status", ["status"])
PASSWORD_CHECKS = Counter("hotline_console_password_checks_total",
                          "Console sign-in password checks (argon2) by outcome: a flood shows here", ["outcome"])
LIVE_CHECKS = Counter("hotline_console_live_checks_total",
                      "Database checks of open live console views (queue, transcript): one per change heard, "
                      "none while nothing changes", ["view"])
