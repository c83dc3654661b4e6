"""SA016 vmotion-preconditions: an appliance was vMotioned only with static MACs and notifying
switches.

The vendor allows a secondary's vMotion "provided you have configured Static MAC, and that
the virtual switches accept and propagate routing/forwarding ARP updates"; without them the
moved appliance can keep a MAC that changes, or stay unreachable until ARP tables age out.
Any role: a vMotion of an active appliance is also SA009's failure, but its network after the
move matters just as much. The provisos are judged as ``snapshot.network.migration_prerequisites``
does (SA001's static MACs, SA003's notifying portgroups on every host of the cluster) with the
configuration of the snapshot the events were exported with (``Inventory.as_recorded``), the
nearest the snapshot has to the moment of the move; migrations are read as SA009 reads them
(``Inventory.migrations_of``).

PASS: the export read every event type that can show a vMotion and none shows one; or every
vNIC has a static MAC and every portgroup behind them notifies switches (so any vMotion met
the provisos, as far as the exported state shows).
FAIL: a live migration (vMotion) of the appliance in the window, while a vNIC's MAC is not
static or a portgroup behind it does not notify switches.
UNKNOWN: the provisos do not hold, or cannot be established, and events were not exported, a
migration's events do not say live or cold, or an older export lacks a vMotion event type;
or the appliance was vMotioned and the provisos cannot be established.
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
from scalearc_lint.snapshot.migrations import LIVE_EVIDENCE_TYPES, listed
from scalearc_lint.snapshot.network import migration_prerequisites


def check(appliance: Appliance, inventory: Inventory, options: NoOptions) -> Verdict | None:
    """Fail on a vMotion of the appliance while its MACs or switches break the provisos."""
    # The moves and the network they met belong to the exported state, not a planned one.
    inventory = inventory.as_recorded
    recorded = inventory.appliances.get(appliance.vm.moid)
    if recorded is None:
        return None  # not an appliance when the events were recorded
    events_read = inventory.events_read
    migrations = inventory.migrations_of(recorded.vm.moid) if events_read else []
    live = [m for m in migrations if m.live]
    undetermined = [m for m in migrations if m.live is None]
    missing = inventory.events_not_selected(LIVE_EVIDENCE_TYPES) if events_read else []
    window = inventory.events_since
    if events_read and not live and not undetermined and not missing:
        return passed(f"no live migration{window}")
    provisos = migration_prerequisites(recorded.vm, inventory)
    if not provisos.failures and not provisos.gaps:
        return passed("static MACs and notifying portgroups: a vMotion would meet the provisos")
    wrong = "; ".join(provisos.failures or provisos.gaps)
    if not events_read:
        return unknown(f"events were not exported, so a vMotion cannot be ruled out, and {wrong}")
    if live and provisos.failures:
        return failed(
            f"{len(live)} live migration(s) without the vendor's provisos ({wrong}): {listed(live)}"
        )
    if live:
        return unknown(
            f"vMotioned ({listed(live)}), and the provisos cannot be established: {wrong}"
        )
    if undetermined:
        return unknown(
            f"migration(s) whose events do not say live or cold ({listed(undetermined)}), "
            f"and {wrong}"
        )
    return unknown(
        f"the export did not read {', '.join(missing)} events (an older scalearc-lint), so "
        f"a vMotion cannot be ruled out, and {wrong}"
    )


RULE = Rule(
    id="SA016",
    name="vmotion-preconditions",
    title="Appliances are vMotioned only with static MACs and notifying switches",
    severity=Severity.ERROR,
    scope="appliance",
    rationale=(
        "The vendor allows a secondary's vMotion only provided its MACs are static and the "
        "virtual switches propagate ARP updates; a vMotion without them can leave the "
        "appliance with a changed MAC or unreachable from the network and its HA partner "
        "until ARP tables age out. A vMotion that happened without them is to be checked now."
    ),
    reference=(
        'Best practices for VM migration: "If you have configured ScaleArc for HA, the HA '
        "Secondary may be vMotioned, provided you have configured Static MAC, and that the "
        'virtual switches accept and propagate routing/forwarding ARP updates."'
    ),
    remediation=(
        "Check the appliance's network reachability and its HA pair now; before the next "
        "move, set static MACs (SA001) and Notify switches = Yes on its portgroups (SA003)."
    ),
    check=check,
    examples=(
        Example(
            "the secondary was vMotioned with static MACs and notifying switches",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "events": [{"vm": "sa-s", "kind": "hot-migrate", "live": True}],
            },
            {"sa-s": Status.PASS},
        ),
        Example(
            "the secondary was vMotioned with a generated MAC",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {
                        "role": "secondary",
                        "pair": "p1",
                        "nics": [{"type": "generated"}],
                    },
                },
                "events": [{"vm": "sa-s", "kind": "hot-migrate", "live": True}],
            },
            {"sa-s": Status.FAIL},
        ),
        Example(
            "DRS vMotioned a standalone onto a host whose portgroup does not notify",
            {
                "appliances": {"sa-1": {"host": "esx-1"}},
                "network_by_host": {"esx-2": {"notify_switches": False}},
                "events": [{"vm": "sa-1", "kind": "drs-migrate", "from": "esx-2"}],
            },
            {"sa-1": Status.FAIL},
        ),
        Example(
            "a generated MAC, but only a cold migration",
            {
                "appliances": {"sa-1": {"nics": [{"type": "generated"}]}},
                "events": [
                    {"vm": "sa-1", "type": "VmBeingRelocatedEvent", "chain": 2},
                    {"vm": "sa-1", "type": "VmRelocatedEvent", "chain": 2},
                ],
            },
            {"sa-1": Status.PASS},
        ),
        Example(
            "a generated MAC, and a VmRelocatedEvent that does not say live or cold",
            {
                "appliances": {"sa-1": {"nics": [{"type": "generated"}]}},
                "events": [{"vm": "sa-1", "type": "VmRelocatedEvent"}],
            },
            {"sa-1": Status.UNKNOWN},
        ),
        Example(
            "a generated MAC, and events not exported",
            {"appliances": {"sa-1": {"nics": [{"type": "generated"}]}}, "events_collected": False},
            {"sa-1": Status.UNKNOWN},
        ),
    ),
)
