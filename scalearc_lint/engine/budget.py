"""Time budgets for code the user supplies: plugin rules, and the config's name_pattern.

Rules run in-process (they take the inventory by reference, so a process per rule would
cost a copy of it each), so a rule that never returns would hang the run and leave the
nightly gate undecided. A :class:`TimeBudget` bounds it: the code is run with an interval
timer (``SIGALRM``), and when its time is up :class:`OutOfTime` is raised inside it, at
the next Python instruction (also inside ``time.sleep``, a blocking read or a regular
expression match, which CPython interrupts for signals). The engine then reports the rule
``crashed`` for that object and for the objects it had no time left for, and goes on.

Why that leaves the process sane: a rule gets immutable snapshot objects and indexes that
are only ever built whole (a ``cached_property`` whose computation is interrupted stores
nothing), so stopping a rule mid-way can leave behind only the rule's own half-built
state. ``OutOfTime`` is a ``BaseException``, so a rule's ``except Exception`` does not
swallow it; a rule that catches even that is interrupted again every 0.1 s, and one that
swallows every interruption for :data:`GRACE` seconds more cannot be stopped from inside
the process: the run ends at once with exit code 3 (a rule crashed) and writes nothing.

Limits: the timer needs the main thread of a POSIX process (elsewhere code runs without a
budget), and a single long call into C code that does not check for signals is only
interrupted when it returns to Python.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Any, TypeVar

T = TypeVar("T")

#: Seconds each rule may run on one snapshot (``--rule-timeout``). The built-in rules
#: take well under a second on 150,000 VMs.
DEFAULT_RULE_TIMEOUT = 60.0
#: Once out of time, the code is interrupted again this often until it stops...
REPEAT = 0.1
#: ...for at most this many seconds; then the run is ended (exit 3).
GRACE = 5.0
EXIT_RULE_CRASHED = 3


class OutOfTime(BaseException):
    """Raised inside code whose time budget ran out."""


class _Alarm:
    """The one SIGALRM handler: raises OutOfTime in budgeted code, ignores other ticks."""

    def __init__(self) -> None:
        self.installed = False
        self.armed = False
        self.guard: FrameType | None = None
        self.first_fired: float | None = None
        self.what = ""
        self.limit = 0.0

    def install(self) -> None:
        if not self.installed:
            signal.signal(signal.SIGALRM, self.fire)
            self.installed = True

    def fire(self, signum: int, frame: FrameType | None) -> None:
        # The frame of TimeBudget.run itself is the engine's, on its way out: never there.
        if not self.armed or frame is self.guard:
            return
        now = time.monotonic()
        if self.first_fired is None:
            self.first_fired = now
        elif now - self.first_fired > GRACE:
            os.write(
                2,
                (
                    f"scalearc-lint: error: {self.what} ran past its time budget "
                    f"({self.limit:g} s) and kept running for {GRACE:g} s while being stopped; "
                    "ending the run (no output was written)\n"
                ).encode("utf-8", "backslashreplace"),
            )
            os._exit(EXIT_RULE_CRASHED)
        raise OutOfTime


_ALARM = _Alarm()


def budgets_enforced() -> bool:
    """Whether budgets can be enforced here (a POSIX interval timer, in the main thread)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


class TimeBudget:
    """``seconds`` of run time shared by every call made through :meth:`run`."""

    def __init__(self, seconds: float | None, *, what: str) -> None:
        self.limit = seconds if seconds else None
        self.what = what
        self.used = 0.0

    @property
    def exhausted(self) -> bool:
        """Whether the budget is used up."""
        return self.limit is not None and self.used >= self.limit

    def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)``, raising OutOfTime in it if the budget runs out."""
        if self.limit is None or not budgets_enforced():
            return function(*args)
        if self.exhausted:
            raise OutOfTime
        _ALARM.install()
        _ALARM.guard = sys._getframe()
        _ALARM.what, _ALARM.limit = self.what, self.limit
        _ALARM.first_fired = None
        _ALARM.armed = True
        start = time.monotonic()
        signal.setitimer(signal.ITIMER_REAL, max(self.limit - self.used, 0.001), REPEAT)
        try:
            return function(*args)
        finally:
            _ALARM.armed = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            self.used += time.monotonic() - start
