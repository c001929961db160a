"""``rate`` and ``cron`` as a caller writes them, checked and turned into EventBridge Scheduler expressions.

EventBridge refuses a bad expression only when the schedule is created, as a
generic ``ValidationException``; checking here first makes the caller's 400
name the field and say what is wrong. ``cron`` is EventBridge's six-field form
(minutes hours day-of-month month day-of-week year) without the ``cron(...)``
wrapper, where one of day-of-month and day-of-week must be ``?``.
"""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from chalicelib.core.errors import FieldError, ValidationFailed

RATE = re.compile(r"^\s*(\d{1,4})\s+(minute|minutes|hour|hours|day|days)\s*$")
UNIT_MINUTES = {"minute": 1, "hour": 60, "day": 1440}
CRON_FIELD = re.compile(r"^[0-9A-Za-z*?,/\-#L W]+$")
MAX_FLEXIBLE_WINDOW_MINUTES = 15


def _refuse(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {message}", [FieldError(field, message)])


def rate_minutes(rate: str) -> int:
    match = RATE.match(rate)
    if match is None or int(match[1]) < 1:
        raise _refuse("rate", 'expected "<n> minutes", "<n> hours" or "<n> days" with n >= 1')
    count, unit = int(match[1]), match[2].rstrip("s")
    if (count == 1) != (match[2] == unit):
        raise _refuse("rate", f'write "1 {unit}" and "{count} {unit}s" (EventBridge insists on the plural)')
    return count * UNIT_MINUTES[unit]


def check_cron(cron: str) -> str:
    fields = cron.split()
    if len(fields) != 6 or not all(CRON_FIELD.match(f) for f in fields):
        raise _refuse("cron", "expected six fields: minutes hours day-of-month month day-of-week year")
    if (fields[2] == "?") == (fields[4] == "?"):
        raise _refuse("cron", "exactly one of day-of-month and day-of-week must be ?")
    return " ".join(fields)


def check_timezone(timezone: str) -> str:
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _refuse("timezone", "not an IANA time zone (such as UTC or Europe/Paris)") from exc
    return timezone


def expression(rate: str | None, cron: str | None) -> str:
    """The ``ScheduleExpression``: ``rate(5 minutes)`` or ``cron(0 9 ? * MON-FRI *)``."""
    if rate is not None:
        rate_minutes(rate)
        return f"rate({' '.join(rate.split())})"
    return f"cron({check_cron(cron or '')})"


def flexible_window(rate: str | None) -> dict[str, object]:
    """Up to 15 minutes, never more than half the period, so firings spread without overlapping."""
    window = (
        min(MAX_FLEXIBLE_WINDOW_MINUTES, rate_minutes(rate) // 2) if rate is not None else MAX_FLEXIBLE_WINDOW_MINUTES
    )
    if window < 1:
        return {"Mode": "OFF"}
    return {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": window}
