"""Outbound webhooks: subscriptions, signed fan-out through SQS, retries, dead letters, replay."""
