"""How a vendor call can fail, classified once so the worker only decides retry-or-final.

Messages are already stripped of secrets when these are raised (``redact``), so a
worker may store them on the run record as they are.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

# Values that look like credentials even when we do not know them (another token in a vendor echo).
_SECRET_PATTERNS = (
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{6,}"),
    re.compile(r"(?i)(authorization|api[-_]?key|token|secret|password)(\"?\s*[:=]\s*\"?)[^\s\",&]+"),
    re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{10,}|xox[abpr]-[A-Za-z0-9-]{10,}|sk_(live|test)_[A-Za-z0-9]{10,})\b"),
)
MAX_MESSAGE_CHARS = 500


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove the known secret values and anything shaped like a credential."""
    for secret in sorted((s for s in secrets if s and len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, "***")
    text = _SECRET_PATTERNS[0].sub(lambda m: f"{m.group(1)} ***", text)
    text = _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}{m.group(2)}***", text)
    text = _SECRET_PATTERNS[2].sub("***", text)
    return text[:MAX_MESSAGE_CHARS]


class VendorError(Exception):
    """A vendor call that did not produce a result."""

    retryable = False
    code = "EXTERNAL_SERVICE_ERROR"
    status = 502

    def __init__(self, message: str, vendor_status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.vendor_status = vendor_status
        self.retry_after = retry_after


class VendorRejected(VendorError):
    """A 4xx (or an in-band error such as Slack's ``ok: false``): retrying cannot help."""


class VendorUnauthorized(VendorRejected):
    """401: the credential is stale; the worker re-reads it once before giving up."""


class VendorUnavailable(VendorError):
    """429, 5xx or a refused connection: worth another attempt later."""

    retryable = True


class VendorTimeout(VendorError):
    retryable = True
    code = "EXTERNAL_SERVICE_TIMEOUT"
    status = 504


class VendorBadResponse(VendorError):
    """A 2xx we cannot read. Not retried: the vendor may already have acted on the request."""


class ConfigurationError(VendorError):
    """The connection cannot be called as configured (no base URL, unsafe URL, missing credential field)."""

    code = "CONNECTION_MISCONFIGURED"
    status = 422
