"""Facebook Messenger through Meta's Graph API (webhooks in, the Send API out)."""
