"""X-Ray subsegments around the calls that leave the platform: vendor calls and webhook sends.

Lambda records each invocation's segment itself (``Tracing: Active``); what it cannot see is where inside
the invocation the time goes. One subsegment per vendor call (a run, a health check, a connection test) and
per webhook attempt, in the ``remote`` namespace, puts each vendor and the subscribers on the trace map, with
low-cardinality annotations to filter on. Never a secret, never a URL (vendors put keys in query strings,
subscribers put tokens in paths), never the tenant as an annotation: ids go to metadata.

powertools' ``Tracer`` decides whether tracing is on: inside Lambda only, never under ``chalice local`` or
SAM, and ``POWERTOOLS_TRACE_DISABLED=true`` turns it off. It is built on the first traced call, not at
import, so a function that never calls out never loads the X-Ray SDK. Nothing is patched: AWS calls are not
traced by the SDK (patching botocore costs cold start and would change what the benches count). Tracing is
best effort: whatever the SDK raises is logged and dropped, never a failed run or delivery.
"""

from __future__ import annotations

import threading
import traceback
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from chalicelib.core.logging import logger

Annotation = str | int | bool

_recorders: list[Any] = []  # one entry once built: the X-Ray recorder, or None when tracing is off
_lock = threading.Lock()


def _recorder() -> Any:
    if not _recorders:
        with _lock:
            if not _recorders:
                _recorders.append(_build())
    return _recorders[0]


def _build() -> Any:
    try:
        from aws_lambda_powertools import Tracer

        tracer = Tracer(auto_patch=False)
    except Exception:
        logger.warning("X-Ray tracing is off: the tracer did not start", exc_info=True)
        return None
    return None if tracer.disabled else tracer.provider


def _dropped(what: str) -> None:
    logger.warning(f"X-Ray: could not {what}; the call goes on untraced", exc_info=True)


class Span:
    """One open subsegment, or nothing when tracing is off or not sampled; every method is best effort."""

    def __init__(self, subsegment: Any) -> None:
        self._subsegment = subsegment
        self.finished = False

    def finish(self, outcome: str, status_code: int | None = None, *, no_answer: bool = False) -> None:
        """What came of the call: a status flags the subsegment as an error (4xx), a throttle (429) or a fault
        (5xx), as X-Ray does for HTTP; no answer at all (a timeout, a refused connection) is a fault."""
        self.finished = True
        if self._subsegment is None:
            return
        try:
            self._subsegment.put_annotation("outcome", outcome)
            if status_code is not None:
                self._subsegment.put_annotation("status_code", status_code)
                self._subsegment.put_http_meta("status", status_code)
                self._subsegment.apply_status_code(status_code)
            elif no_answer:
                self._subsegment.add_fault_flag()
        except Exception:
            _dropped("annotate a subsegment")


@contextmanager
def subsegment(
    name: str, annotations: Mapping[str, Annotation], metadata: Mapping[str, str | None] | None = None
) -> Iterator[Span]:
    """A ``remote`` subsegment named ``name`` (a provider key, ``webhook``) around the body; an exception
    leaving the body unfinished is recorded on it (a fault) and goes on."""
    recorder = _recorder()
    opened = _begin(recorder, name) if recorder is not None else None
    if opened is not None:
        _describe(opened, annotations, metadata or {})
    span = Span(opened)
    try:
        yield span
    except Exception as exc:
        if opened is not None and not span.finished:
            _raised(opened, exc)
        raise
    finally:
        if opened is not None:
            _end(recorder)


def _begin(recorder: Any, name: str) -> Any:
    try:
        return recorder.begin_subsegment(name, namespace="remote")  # None when there is no segment to join
    except Exception:
        _dropped("open a subsegment")
        return None


def _describe(opened: Any, annotations: Mapping[str, Annotation], metadata: Mapping[str, str | None]) -> None:
    try:
        for key, value in annotations.items():
            opened.put_annotation(key, value)
        for key, text in metadata.items():
            if text is not None:
                opened.put_metadata(key, text)
    except Exception:
        _dropped("annotate a subsegment")


def _raised(opened: Any, exc: Exception) -> None:
    try:
        opened.add_exception(exc, traceback.extract_tb(exc.__traceback__))
    except Exception:
        _dropped("record an exception")


def _end(recorder: Any) -> None:
    try:
        recorder.end_subsegment()  # streamed to the daemon as it closes (powertools sets the threshold to 0)
    except Exception:
        _dropped("close a subsegment")
