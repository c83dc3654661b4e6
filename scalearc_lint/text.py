"""Text forms shared by every layer: terminal-safe strings and durations."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import msgspec

_DURATION = re.compile(r"^\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?\s*$")


def printable(text: str) -> str:
    """Neutralise control characters from inventory names so they cannot drive the terminal."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


def parse_duration(value: object) -> timedelta:
    """``24h``, ``90m``, ``1d12h``, ``3600s``, plain seconds, or ISO 8601 ``PT24H``."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 24h, got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"a duration cannot be negative, got {value!r}")
        return timedelta(seconds=value)
    if isinstance(value, str):
        if value.upper().startswith("P"):
            try:
                parsed = msgspec.convert(value, timedelta)
            except msgspec.ValidationError:
                pass
            else:
                if parsed >= timedelta(0):
                    return parsed
        match = _DURATION.match(value)
        if match and any(match.groups()):
            d, h, m, s = (int(g) if g else 0 for g in match.groups())
            return timedelta(days=d, hours=h, minutes=m, seconds=s)
    raise ValueError(f"expected a duration such as 24h, 90m or 2d, got {value!r}")


def format_duration(value: timedelta) -> str:
    """The compact form :func:`parse_duration` reads back: ``1d12h``, ``90m``, ``24h``."""
    seconds = int(value.total_seconds())
    parts = []
    if seconds % 3600 == 0 and 0 < seconds < 72 * 3600:
        # "24h" and "36h" read better than "1d" and "1d12h".
        return f"{seconds // 3600}h"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


#: (unit, seconds, used below this many seconds): "95 minutes", "36 hours", "45 days"...
_AGE_UNITS = (
    ("minute", 60, 2 * 3600),
    ("hour", 3600, 48 * 3600),
    ("day", 86400, 60 * 86400),
    ("month", 30 * 86400, 730 * 86400),
    ("year", 365 * 86400, None),
)


def relative_age(moment: datetime, as_of: datetime) -> str:
    """``moment`` as people say it, seen from ``as_of``: ``5 days ago``, ``in 3 hours``, ``now``.

    Reports compute it at their as-of time, never at the reader's clock, so the same run
    gives the same words however late it is read. Counts are rounded down.
    """
    seconds = (as_of - moment).total_seconds()
    distance = abs(seconds)
    if distance < 60:
        return "now"
    for unit, size, below in _AGE_UNITS:
        if below is None or distance < below:
            count = int(distance // size)
            words = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"{words} ago" if seconds > 0 else f"in {words}"
    raise AssertionError("unreachable: the last unit has no bound")


# An ISO 8601 time with a zone (what every rule and the loader write): a date alone, or a
# time without zone, is not a moment and gets no age.
_TIMESTAMP = re.compile(
    r"(?<![\w:.+-])\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?"
    r"(?:Z|[+-]\d{2}:\d{2})(?![\w:.])"
)


def with_ages(text: str, as_of: datetime) -> str:
    """``text`` with the relative age put after every ISO 8601 timestamp in it.

    ``at 2026-11-21T02:00:00+00:00`` becomes ``at 2026-11-21T02:00:00+00:00 (3 days ago)``.
    """

    def annotate(match: re.Match[str]) -> str:
        try:
            moment = datetime.fromisoformat(match.group().replace("Z", "+00:00"))
        except ValueError:
            return match.group()
        return f"{match.group()} ({relative_age(moment, as_of)})"

    return _TIMESTAMP.sub(annotate, text)
