"""A one-line progress display on a terminal: objects read per type, per vCenter."""

from __future__ import annotations

import threading
import time
from typing import TextIO


class TerminalProgress:
    """Redraws one status line on ``stream`` (a terminal), at most ten times a second."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._counts: dict[str, dict[str, int]] = {}
        self._last_draw = 0.0
        self._width = 0

    def collected(self, vcenter: str, kind: str, count: int) -> None:
        """Count ``count`` more objects of ``kind`` read from ``vcenter``."""
        with self._lock:
            kinds = self._counts.setdefault(vcenter, {})
            kinds[kind] = kinds.get(kind, 0) + count
            self._draw(force=False)

    def restarted(self, vcenter: str, kind: str) -> None:
        """Start counting ``kind`` of ``vcenter`` again: its read restarts after a new login."""
        with self._lock:
            self._counts.setdefault(vcenter, {}).pop(kind, None)
            self._draw(force=True)

    def finish(self) -> None:
        """Draw the final counts and end the line."""
        with self._lock:
            if self._counts:
                self._draw(force=True)
                self._stream.write("\n")
                self._stream.flush()

    def _draw(self, *, force: bool) -> None:
        now = time.monotonic()
        if not force and now - self._last_draw < 0.1:
            return
        self._last_draw = now
        line = "  ".join(
            f"{vcenter}: " + ", ".join(f"{n} {kind}" for kind, n in kinds.items())
            for vcenter, kinds in self._counts.items()
        )
        line = f"exporting {line}"
        pad = max(0, self._width - len(line))
        self._width = len(line)
        self._stream.write("\r" + line + " " * pad)
        self._stream.flush()
