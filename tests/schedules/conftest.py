"""The schedules tests drive firings through the runs worker with the runs tests' fake vendor."""

from tests.runs.conftest import handler, vendor

__all__ = ["handler", "vendor"]
