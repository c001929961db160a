"""The service logger: structured JSON with the trace id appended per request.

Powertools' ``Logger`` is created on the first use of ``logger`` (any attribute:
``logger.info``, ``logger.append_keys``, ``logger.name``), not at import: its
import cost a queue function about a tenth of the cold-start floor, and most
queue functions log only when a record fails (docs/performance.md "Cold start
and package"). The proxy hands back the real logger's own bound methods, so the
log lines, their ``location`` and the appended keys are exactly Powertools'.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

SERVICE = "integration-platform"


class _FirstUse:
    """Stands for the service logger until something reads an attribute of it, then creates it once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._real: Any = None

    def __getattr__(self, name: str) -> Any:
        real = self._real
        if real is None:
            with self._lock:  # the first log line may come from several batch threads at once
                if self._real is None:
                    from aws_lambda_powertools.logging import Logger

                    self._real = Logger(service=SERVICE)
                real = self._real
        return getattr(real, name)


if TYPE_CHECKING:
    from aws_lambda_powertools.logging import Logger

    logger: Logger
else:
    logger = _FirstUse()
