"""A running run's partial result (a model's streamed text so far), written to the run item now and then.

Each write is one conditional ``UpdateItem`` of the run (still Running, owned by
this message, at this attempt), so a run the sweeper took back or another
message now drives is never written by a stale worker. Writes are spaced by
``STREAM_PARTIAL_EVERY_CHUNKS`` chunks or ``STREAM_PARTIAL_EVERY_SECONDS``,
whichever comes first: a 1,000-chunk completion costs about 50 writes, each
billed by item size (1 WCU per KB, the partial text is capped at
``RUN_RESULT_MAX_BYTES``). A failed write is logged (without the text) and
skipped: progress is a convenience, the final result is what counts.
"""

from __future__ import annotations

import time
from typing import Any

from chalicelib.core.config import get_settings
from chalicelib.core.logging import logger
from chalicelib.runs import store
from chalicelib.runs.models import Run, RunStatus


class PartialWriter:
    """The ``progress`` callback the worker hands an adapter for one claimed run."""

    def __init__(self, run: Run, message_id: str, *, clock: Any = time.monotonic) -> None:
        settings = get_settings()
        self._run = run
        self._message_id = message_id
        self._every_chunks = max(1, settings.stream_partial_every_chunks)
        self._every_seconds = settings.stream_partial_every_seconds
        self._clock = clock
        self._since_write = 0
        self._last_write = clock()
        self._stopped = False
        self.writes = 0

    def __call__(self, partial: Any) -> None:
        if self._stopped:
            return
        self._since_write += 1
        if self._since_write < self._every_chunks and self._clock() - self._last_write < self._every_seconds:
            return
        self._since_write = 0
        self._last_write = self._clock()
        self._write(partial)

    def _write(self, partial: Any) -> None:
        from botocore.exceptions import BotoCoreError, ClientError  # botocore is loaded by then; not at import

        from chalicelib.runs.execution import cap_result  # loaded by the run being executed; not with the worker

        capped, _ = cap_result(partial)
        try:
            still_ours = store.transition(
                self._run.tenant_id,
                self._run.run_id,
                {store.PARTIAL_RESULT: capped},
                from_status=RunStatus.RUNNING,
                owner_message_id=self._message_id,
                attempts=self._run.attempts,
            )
        except (BotoCoreError, ClientError) as exc:
            logger.warning("partial result not written", extra={"runId": self._run.run_id, "error": type(exc).__name__})
            return
        self.writes += 1
        if still_ours is None:
            self._stopped = True  # the run moved on (cancelled by the sweeper, or another message owns it)
