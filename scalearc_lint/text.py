"""Text forms shared by every layer: terminal-safe strings and durations."""

from __future__ import annotations

import re
from datetime import timedelta

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
