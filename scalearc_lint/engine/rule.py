"""The rule API: an immutable description plus a pure function per rule.

A rule module (built-in in ``rules/``, in a ``--rules-dir``, or from a plugin
distribution) defines one module-level ``RULE = Rule(...)``. The engine calls
``RULE.check(subject, inventory, options)`` once for every object of the rule's
``scope`` and turns the returned :class:`Verdict` into a result, attaching the
rule id and severity. A check returns ``None`` when the object is outside the
rule's concern (e.g. SA009 on a secondary). It must not do I/O or mutate
anything it is given.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

import msgspec

if TYPE_CHECKING:
    from scalearc_lint.snapshot.inventory import Inventory

RULE_ID_PATTERN = re.compile(r"^[A-Z]{2,8}[0-9]{3,4}$")
#: Id prefixes (the letters of an id) of findings the tool itself makes: change-plan lint,
#: expired waivers, appliance identification.
RESERVED_ID_PREFIXES = ("PLAN", "WAIVER", "ID")
RULE_NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


class Severity(StrEnum):
    """How bad a failure is; ``--fail-on`` compares against this order."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is more severe."""
        return {"error": 3, "warning": 2, "info": 1}[self.value]


class Status(StrEnum):
    """The outcome of one rule on one object."""

    PASS = "pass"
    FAIL = "fail"
    WAIVED = "waived"
    UNKNOWN = "unknown"
    #: The rule raised on this object (called ``error`` in results version 1).
    CRASHED = "crashed"


Scope = Literal["appliance", "pair", "vm", "host", "cluster"]


class NoOptions(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Options of a rule that takes none."""


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a check says about one object; ``severity`` overrides the rule's default."""

    status: Status
    message: str
    severity: Severity | None = None


def passed(message: str) -> Verdict:
    """The object complies."""
    return Verdict(Status.PASS, message)


def failed(message: str, severity: Severity | None = None) -> Verdict:
    """The object violates the rule (at the rule's severity unless given)."""
    return Verdict(Status.FAIL, message, severity)


def unknown(message: str) -> Verdict:
    """The snapshot lacks the data to decide."""
    return Verdict(Status.UNKNOWN, message)


@dataclass(frozen=True, slots=True)
class Example:
    """A documented case that is also a test: an inventory sketch and the expected statuses.

    ``sketch`` is the compact inventory notation of :func:`scalearc_lint.snapshot.sketch.build`;
    ``expect`` maps object names (VM names, pair ids) to the status the rule must give;
    ``options`` are the rule's options, ``appliances`` the config's ``appliances:`` section.
    """

    title: str
    sketch: Mapping[str, Any]
    expect: Mapping[str, Status]
    options: Mapping[str, Any] = field(default_factory=dict)
    appliances: Mapping[str, Any] = field(default_factory=dict)


Check = Callable[[Any, "Inventory", Any], Verdict | None]


def reserved_prefix(rule_id: str) -> str | None:
    """The reserved prefix ``rule_id`` uses (its letters are one), else ``None``."""
    letters = rule_id.rstrip("0123456789")
    return letters if letters in RESERVED_ID_PREFIXES else None


@dataclass(frozen=True, slots=True)
class Rule:
    """The immutable description of a rule and its check function."""

    id: str
    name: str
    title: str
    severity: Severity
    scope: Scope
    rationale: str
    reference: str
    remediation: str
    check: Check
    examples: tuple[Example, ...] = ()
    options: type[msgspec.Struct] = NoOptions
