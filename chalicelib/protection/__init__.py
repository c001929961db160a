"""Protecting vendors from us: a per-connection token bucket and circuit breaker shared by every Lambda."""
