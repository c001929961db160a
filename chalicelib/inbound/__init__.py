"""Inbound webhooks: verify each vendor's signature, dedupe, store, normalize, hand on."""
