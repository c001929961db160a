"""Fixed-window request limits per tenant, per API key and per inbound connection."""
