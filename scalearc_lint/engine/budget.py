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
    """The one SIGALRM handler and the one interval timer, serving one budget at a time.

    The timer is started once for a budget (:meth:`TimeBudget.run`'s first call) and runs
    until the budget is closed: starting and stopping it around every call, 20,000 calls
    for one rule at 150,000 VMs, cost two system calls each. So it measures wall time,
    the engine's own included; when it goes off outside budgeted code, or before the
    budgeted code has used up the budget, it is set again for what is left.
    """

    def __init__(self) -> None:
        self.installed = False
        self.budget: TimeBudget | None = None
        #: Inside budgeted code, since ``call_start`` (monotonic).
        self.armed = False
        self.call_start = 0.0
        self.guard: FrameType | None = None
        self.first_fired: float | None = None

    def install(self) -> None:
        if not self.installed:
            signal.signal(signal.SIGALRM, self.fire)
            self.installed = True

    def start(self, budget: TimeBudget, seconds: float) -> None:
        self.budget = budget
        self.first_fired = None
        signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))

    def stop(self) -> None:
        self.budget = None
        signal.setitimer(signal.ITIMER_REAL, 0)

    def fire(self, signum: int, frame: FrameType | None) -> None:
        budget = self.budget
        if budget is None or budget.limit is None:
            return
        now = time.monotonic()
        inside = self.armed and frame is not self.guard
        left = budget.limit - budget.used - (now - self.call_start if self.armed else 0.0)
        if not inside or left > 0:
            # The engine's own time, or time left: wake again when the budget could be up
            # (out of budget between calls: the next call is refused, no need to wake).
            if left > 0 or self.armed:
                signal.setitimer(signal.ITIMER_REAL, max(left, REPEAT if self.armed else 0.001))
            return
        if self.first_fired is None:
            self.first_fired = now
        elif now - self.first_fired > GRACE:
            os.write(
                2,
                (
                    f"scalearc-lint: error: {budget.what} ran past its time budget "
                    f"({budget.limit:g} s) and kept running for {GRACE:g} s while being "
                    "stopped; ending the run (no output was written)\n"
                ).encode("utf-8", "backslashreplace"),
            )
            os._exit(EXIT_RULE_CRASHED)
        # Interrupted again every REPEAT seconds for as long as it keeps running.
        signal.setitimer(signal.ITIMER_REAL, REPEAT)
        raise OutOfTime


_ALARM = _Alarm()


def budgets_enforced() -> bool:
    """Whether budgets can be enforced here (a POSIX interval timer, in the main thread)."""
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


class TimeBudget:
    """``seconds`` of run time shared by every call made through :meth:`run`.

    Use it as a context manager: the timer it starts runs until the ``with`` ends.
    """

    def __init__(self, seconds: float | None, *, what: str) -> None:
        self.limit = seconds if seconds else None
        self.what = what
        self.used = 0.0

    def __enter__(self) -> TimeBudget:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the timer, if it runs for this budget."""
        if _ALARM.budget is self:
            _ALARM.stop()

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
        if _ALARM.budget is not self:
            _ALARM.install()
            _ALARM.start(self, self.limit - self.used)
        _ALARM.guard = sys._getframe()
        _ALARM.call_start = time.monotonic()
        _ALARM.armed = True
        try:
            return function(*args)
        finally:
            _ALARM.armed = False
            self.used += time.monotonic() - _ALARM.call_start
