"""Text forms shared by every layer: terminal-safe strings and durations."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import msgspec

# At most 15 digits a number: longer ones are refused before int() (which caps digits).
_DURATION = re.compile(
    r"^\s*(?:(\d{1,15})\s*d)?\s*(?:(\d{1,15})\s*h)?\s*(?:(\d{1,15})\s*m)?\s*(?:(\d{1,15})\s*s)?\s*$"
)


#: ``scheme://user:password@`` in any text; the password runs to the last ``@`` of the
#: word, since a password may itself hold ``@``, ``/``, ``#``, ``?`` or ``:``.
_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^\s/:@]*):\S*@")


def redact_urls(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` replaced by ***."""
    return _URL_PASSWORD.sub(lambda m: f"{m.group('head')}:***@", text)


def clipped(text: str, limit: int = 80) -> str:
    """``text``, cut to ``limit`` characters with an ellipsis when longer (for messages)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def describe_exception(exc: BaseException) -> str:
    """``TypeName: message`` of any exception, even one whose ``str`` fails, as safe text."""
    try:
        text = str(exc)
    except BaseException:  # a plugin's exception with a broken __str__
        text = "(its message cannot be shown)"
    text = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return clipped(f"{type(exc).__name__}: {text}" if text else type(exc).__name__, 500)


def printable(text: str) -> str:
    """Neutralise control characters from inventory names so they cannot drive the terminal."""
    return "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text)


#: The longest duration accepted anywhere (a "never" written as 99999d would overflow
#: the date arithmetic of the rules that use it).
MAX_DURATION = timedelta(days=36500)


def parse_duration(value: object) -> timedelta:
    """``24h``, ``90m``, ``1d12h``, ``3600s``, plain seconds, or ISO 8601 ``PT24H``."""
    try:
        duration: timedelta | None = _duration(value)
    except OverflowError:
        duration = None
    if duration is None or duration > MAX_DURATION:
        raise ValueError(
            f"{clipped(repr(value))} is longer than the longest duration accepted, 36500d"
        )
    return duration


def _duration(value: object) -> timedelta:
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 24h, got {value!r}")
    if isinstance(value, int | float):
        if value != value:  # NaN
            raise ValueError(f"expected a duration such as 24h, got {value!r}")
        if value < 0:
            raise ValueError(f"expected a duration such as 24h (not negative), got {value!r}")
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
    raise ValueError(f"expected a duration such as 24h, 90m or 2d, got {clipped(repr(value))}")


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
