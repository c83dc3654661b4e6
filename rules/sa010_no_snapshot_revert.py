"""SA010 no-snapshot-revert: no appliance was reverted to a snapshot in the event window.

PASS: events were exported and show no revert of the appliance.
FAIL: an event shows the appliance reverted to a snapshot.
UNKNOWN: events were not exported, or the export did not select revert events.
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
from scalearc_lint.snapshot.model import EVENT_TYPES

REVERT_EVENT_TYPES = tuple(t for t, kind in EVENT_TYPES.items() if kind == "revert")


def check(appliance: Appliance, inventory: Inventory, options: NoOptions) -> Verdict:
    """Fail on a revert-to-snapshot event of the appliance."""
    log = inventory.snapshot.events
    if not inventory.events_read:
        return unknown("events were not exported, so reverts cannot be ruled out")
    reverts = [
        log.items[i]
        for i in inventory.events_by_vm.get(appliance.vm.moid, [])
        if log.items[i].kind == "revert"
    ]
    if reverts:
        listed = ", ".join(
            f"at {e.created.isoformat()}" + (f" by {e.user}" if e.user else "") for e in reverts[:5]
        )
        return failed(f"reverted to a snapshot {len(reverts)} time(s): {listed}")
    missing = inventory.events_not_selected(REVERT_EVENT_TYPES)
    if missing:
        return unknown(f"the export did not read {', '.join(missing)} events")
    return passed("no revert to snapshot")


RULE = Rule(
    id="SA010",
    name="no-snapshot-revert",
    title="Appliances are not reverted to snapshots",
    severity=Severity.ERROR,
    scope="appliance",
    rationale=(
        "Reverting rewinds the appliance's disk under its live configuration and HA state; the "
        "interplay of configuration in memory and on disk can leave it inconsistent."
    ),
    reference=(
        '"We do not recommend reverting a ScaleArc appliance to a snapshot because of the '
        'complex interplay between live system configuration and configuration files on disk."'
    ),
    remediation=(
        "Verify the appliance's configuration and HA state with ScaleArc support; restore from "
        "a configuration backup instead of snapshots in future."
    ),
    check=check,
    examples=(
        Example("no events", {"appliances": {"sa-1": {}}}, {"sa-1": Status.PASS}),
        Example(
            "reverted",
            {"appliances": {"sa-1": {}}, "events": [{"vm": "sa-1", "kind": "revert"}]},
            {"sa-1": Status.FAIL},
        ),
        Example(
            "events not exported",
            {"appliances": {"sa-1": {}}, "events_collected": False},
            {"sa-1": Status.UNKNOWN},
        ),
    ),
)
