"""Text forms shared by every layer: terminal-safe strings and durations."""

from __future__ import annotations

import re
from datetime import timedelta

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
