"""ACME001 memory-floor: appliances are configured with at least ``min_mb`` of memory."""

from __future__ import annotations

import msgspec

from scalearc_lint.engine.rule import Rule, Severity, Verdict, failed, passed
from scalearc_lint.snapshot.inventory import Appliance, Inventory


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """ACME001 options."""

    min_mb: int = 12288


def check(appliance: Appliance, inventory: Inventory, options: Options) -> Verdict:
    """Fail below the memory floor."""
    if appliance.vm.memory_mb < options.min_mb:
        return failed(f"{appliance.vm.memory_mb} MB < {options.min_mb} MB")
    return passed(f"{appliance.vm.memory_mb} MB")


RULE = Rule(
    id="ACME001",
    name="memory-floor",
    title="Appliances have enough memory",
    severity=Severity.WARNING,
    scope="appliance",
    rationale="Our sizing guide.",
    reference="ACME sizing guide, section 2.",
    remediation="Add memory.",
    check=check,
    options=Options,
)
