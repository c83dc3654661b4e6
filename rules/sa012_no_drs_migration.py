"""SA012 no-drs-migration: DRS migrated no appliance, of any role, in the event window.

A migration is one operation's events joined by ``chainId`` (``Inventory.migrations_of``);
DRS initiated it when one of them is a ``DrsVmMigratedEvent``. Any role: the vendor does not
support automatic migration at all, so a DRS move of a secondary breaks this rule too (a DRS
move of an active appliance also breaks SA009). Events carry no role or identity, so they are
judged with the appliances of the snapshot the events were exported with
(``Inventory.as_recorded``), never with a ``whatif`` plan's.

PASS: the export read DRS migration events, and none is of this appliance.
FAIL: a DRS-initiated migration of the appliance.
UNKNOWN: events were not exported, or the export did not select ``DrsVmMigratedEvent``.
"""

from __future__ import annotations

from scalearc_lint.engine.rule import (
    Example,
    NoOptions,
    Rule,
    Severity,
    Status,
    Verdict,
    failed,
    passed,
    unknown,
)
from scalearc_lint.snapshot.inventory import Appliance, Inventory
from scalearc_lint.snapshot.migrations import listed
from scalearc_lint.snapshot.model import EVENT_TYPES

DRS_EVENT_TYPES = tuple(t for t, kind in EVENT_TYPES.items() if kind == "drs-migrate")


def check(appliance: Appliance, inventory: Inventory, options: NoOptions) -> Verdict | None:
    """Fail on a DRS-initiated migration of the appliance."""
    inventory = inventory.as_recorded
    if appliance.vm.moid not in inventory.appliances:
        return None  # not an appliance when the events were recorded
    if not inventory.events_read:
        return unknown("events were not exported, so DRS migrations cannot be ruled out")
    by_drs = [m for m in inventory.migrations_of(appliance.vm.moid) if m.drs]
    if by_drs:
        return failed(f"DRS migrated it {len(by_drs)} time(s): {listed(by_drs)}")
    missing = inventory.events_not_selected(DRS_EVENT_TYPES)
    if missing:
        return unknown(f"the export did not read {', '.join(missing)} events")
    window = inventory.events_since
    return passed(f"no DRS migration{window}")


RULE = Rule(
    id="SA012",
    name="no-drs-migration",
    title="DRS has not migrated an appliance",
    severity=Severity.ERROR,
    scope="appliance",
    rationale=(
        "The vendor supports no automatic migration of an appliance, of any role: DRS moves "
        "it without the vendor's manual steps (services stopped, connectivity and HA lag "
        "checked), and a DRS move of an active appliance loses database updates. A past DRS "
        "move shows that DRS is free to move appliances (see SA006)."
    ),
    reference=(
        '"ScaleArc does not recommend or support Automatic VM migration with a technology like '
        "VMware's DRS.\""
    ),
    remediation=(
        "Check the appliance and its HA pair now; then keep DRS from moving it again: a VM "
        "override with DRS automation Manual or Disabled, in a cluster that honours VM "
        "overrides (SA006)."
    ),
    check=check,
    examples=(
        Example("no events", {"appliances": {"sa-1": {}}}, {"sa-1": Status.PASS}),
        Example(
            "DRS moved the secondary",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "events": [{"vm": "sa-s", "kind": "drs-migrate", "from": "esx-1"}],
            },
            {"sa-s": Status.FAIL, "sa-p": Status.PASS},
        ),
        Example(
            "a manual vMotion of the secondary is not DRS",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "events": [
                    {"vm": "sa-s", "type": "VmBeingHotMigratedEvent", "chain": 4},
                    {"vm": "sa-s", "type": "VmMigratedEvent", "chain": 4},
                ],
            },
            {"sa-s": Status.PASS},
        ),
        Example(
            "the DrsVmMigratedEvent ends a chain that began with the vMotion",
            {
                "appliances": {"sa-1": {}},
                "events": [
                    {"vm": "sa-1", "type": "VmBeingHotMigratedEvent", "chain": 5},
                    {"vm": "sa-1", "type": "DrsVmMigratedEvent", "chain": 5},
                ],
            },
            {"sa-1": Status.FAIL},
        ),
        Example(
            "events not exported",
            {"appliances": {"sa-1": {}}, "events_collected": False},
            {"sa-1": Status.UNKNOWN},
        ),
    ),
)
