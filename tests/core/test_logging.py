"""The service logger is created on first use, once, and its lines are Powertools' own (caller's location)."""

from __future__ import annotations

import io
import json
import logging
import threading

from chalicelib.core import logging as service_logging


def test_a_line_names_its_caller_not_the_proxy() -> None:
    def the_caller() -> None:
        service_logging.logger.info("from the caller", extra={"probe": 1})

    # The handler keeps the stdout it saw when the logger was first used (maybe another test's), so read its stream.
    handler = service_logging.logger.registered_handler
    assert isinstance(handler, logging.StreamHandler)
    written = io.StringIO()
    previous = handler.setStream(written)
    try:
        the_caller()
    finally:
        handler.setStream(previous)
    line = json.loads(written.getvalue().strip().splitlines()[-1])
    assert line["location"].startswith("the_caller:")
    assert (line["message"], line["service"], line["probe"]) == ("from the caller", "integration-platform", 1)


def test_first_use_from_many_threads_creates_one_logger() -> None:
    proxy = service_logging._FirstUse()
    seen: list[object] = []
    start = threading.Barrier(8)

    def first_use() -> None:
        start.wait()
        seen.append(proxy.info.__self__)

    threads = [threading.Thread(target=first_use) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(logger) for logger in seen}) == 1
    assert proxy.name == "integration-platform"
