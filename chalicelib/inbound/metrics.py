"""The inbound counters (EMF on stdout, see ``chalicelib.core.metrics``)."""

from __future__ import annotations

from chalicelib.core.metrics import count


def count_rejection(provider_key: str, scheme: str) -> None:
    count("InboundSignatureRejected", provider=provider_key, scheme=scheme)


def count_failed_delivery() -> None:
    """A signed delivery whose body could not be read, stored ``Failed`` for a redrive."""
    count("InboundDeliveryFailed")
