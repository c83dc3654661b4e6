"""SA009 no-vmotion-active: no live migration of an active appliance in the event window.

Applies to active appliances (primary, standalone). A migration is one operation's events,
joined by ``chainId`` (``migrations_of``): live when any of them says so
(``VmBeingHotMigratedEvent``, EventEx ``com.vmware.vc.vm.VmHotMigratingWithEncryptionEvent``,
``DrsVmMigratedEvent``, the cross-vCenter EventEx ``com.vmware.vc.vm.DstVmMigratedEvent`` /
``SrcVmMigratedEvent``), cold when a ``VmBeingMigratedEvent`` / ``VmBeingRelocatedEvent``
says so, and undetermined when only ``VmMigratedEvent`` / ``VmRelocatedEvent`` were seen.

Events carry no role, so each is judged with the roles of the snapshot the events were
exported with (``Inventory.as_recorded``), never with roles a ``whatif`` plan gives later: a
planned switchover neither fixes a past vMotion of the then-primary nor turns a past vMotion
of the then-secondary into one of a primary. A primary's manual vMotion that its partner's
own later vMotion follows matches the vendor's procedure for moving a pair (move the
secondary, switch over, move the new secondary), in which today's primary was moved while
it was still secondary; that case is ``unknown`` (the switchover cannot be seen in vCenter
events), not ``fail``. A move DRS initiated never is the vendor's manual procedure: ``fail``.

PASS: the export read every event type that can show a vMotion, and none shows one.
FAIL: a live migration (vMotion) of it, by DRS or not fitting the pair-move procedure.
UNKNOWN: events were not exported or lack a type that can show a vMotion (an older
export), a migration's events do not say live or cold, or the moves fit the procedure.
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
from scalearc_lint.snapshot.identification import Role
from scalearc_lint.snapshot.inventory import Appliance, Inventory
from scalearc_lint.snapshot.migrations import LIVE_EVIDENCE_TYPES, Migration, listed


def _fits_pair_move_procedure(
    appliance: Appliance, inventory: Inventory, live: list[Migration]
) -> bool:
    """Whether every manual vMotion of this primary was followed by one of its partner."""
    if appliance.role is not Role.PRIMARY or appliance.pair is None:
        return False
    pair = inventory.pairs.get(appliance.pair)
    if pair is None:
        return False
    # A partner may sit in another vCenter of the estate, where moids repeat: look its
    # events up in its own vCenter, and tell the appliance itself by vCenter and moid.
    partner_moves = [
        m.started
        for member in pair.members
        if not (member.inventory is inventory and member.vm.moid == appliance.vm.moid)
        for m in member.inventory.migrations_of(member.vm.moid)
        if m.live and not m.drs
    ]
    return all(any(t > move.started for t in partner_moves) for move in live)


def check(appliance: Appliance, inventory: Inventory, options: NoOptions) -> Verdict | None:
    """Fail on a live migration of an active appliance."""
    # Judge the events with the roles of their time, not with a planned state's.
    inventory = inventory.as_recorded
    recorded = inventory.appliances.get(appliance.vm.moid)
    if recorded is None or not recorded.active:
        return None
    appliance = recorded
    if not inventory.events_read:
        return unknown("events were not exported, so migrations cannot be ruled out")
    migrations = inventory.migrations_of(appliance.vm.moid)
    live = [m for m in migrations if m.live]
    by_drs = [m for m in live if m.drs]
    role = f"an active {appliance.role} appliance"
    if by_drs:
        return failed(
            f"DRS vMotioned {role} {len(by_drs)} time(s) (DRS never follows the vendor's "
            f"pair-move procedure): {listed(by_drs)}"
        )
    if live and _fits_pair_move_procedure(appliance, inventory, live):
        return unknown(
            f"{listed(live)}; each followed by a vMotion of its HA partner: this fits "
            "moving the pair by the procedure (secondary, switchover, new secondary); confirm "
            "the switchover came between them"
        )
    if live:
        return failed(f"{len(live)} live migration(s) of {role}: {listed(live)}")
    undetermined = [m for m in migrations if m.live is None]
    if undetermined:
        return unknown(f"migration(s) whose events do not say live or cold: {listed(undetermined)}")
    missing = inventory.events_not_selected(LIVE_EVIDENCE_TYPES)
    if missing:
        return unknown(
            f"the export did not read {', '.join(missing)} events (an older scalearc-lint), "
            "so a vMotion cannot be ruled out"
        )
    window = inventory.events_since
    cold = [m for m in migrations if m.live is False]
    if cold:
        return passed(f"no live migration{window}; cold: {listed(cold)}")
    return passed(f"no live migration{window}")


RULE = Rule(
    id="SA009",
    name="no-vmotion-active",
    title="Active appliances are never vMotioned",
    severity=Severity.ERROR,
    scope="appliance",
    rationale=(
        "vMotion of an active appliance loses database updates, causes application errors and "
        "can corrupt records; in an HA pair it risks split brain. A past vMotion is evidence "
        "that the procedure is not being followed."
    ),
    reference=(
        '"ScaleArc does not recommend or support voluntary or automatic vMotion of an active '
        '(that is, HA Primary or standalone ScaleArc) appliance from one ESX server to another."'
    ),
    remediation=(
        "Check the appliance and its database traffic now; find who or what moved it (DRS: see "
        "SA006). To move an HA primary, switch over first and move it as secondary; move a "
        "standalone cold (shut down first)."
    ),
    check=check,
    examples=(
        Example("no events", {"appliances": {"sa-1": {}}}, {"sa-1": Status.PASS}),
        Example(
            "DRS moved the primary",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "events": [{"vm": "sa-p", "kind": "drs-migrate"}],
            },
            {"sa-p": Status.FAIL},
        ),
        Example(
            "the secondary may be vMotioned",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "events": [{"vm": "sa-s", "kind": "hot-migrate", "live": True}],
            },
            {"sa-p": Status.PASS},
        ),
        Example(
            "events not exported",
            {"appliances": {"sa-1": {}}, "events_collected": False},
            {"sa-1": Status.UNKNOWN},
        ),
        Example(
            "encrypted vMotion: the EventEx and a VmRelocatedEvent of one chain",
            {
                "appliances": {"sa-1": {}},
                "events": [
                    {
                        "vm": "sa-1",
                        "type": "com.vmware.vc.vm.VmHotMigratingWithEncryptionEvent",
                        "chain": 7,
                        "from": "esx-2",
                    },
                    {"vm": "sa-1", "type": "VmRelocatedEvent", "chain": 7, "from": "esx-2"},
                ],
            },
            {"sa-1": Status.FAIL},
        ),
        Example(
            "vMotion from another vCenter into this one",
            {
                "appliances": {"sa-1": {}},
                "events": [{"vm": "sa-1", "type": "com.vmware.vc.vm.DstVmMigratedEvent"}],
            },
            {"sa-1": Status.FAIL},
        ),
        Example(
            "cold relocation: VmBeingRelocatedEvent and VmRelocatedEvent of one chain",
            {
                "appliances": {"sa-1": {}},
                "events": [
                    {"vm": "sa-1", "type": "VmBeingRelocatedEvent", "chain": 9, "from": "esx-2"},
                    {"vm": "sa-1", "type": "VmRelocatedEvent", "chain": 9, "from": "esx-2"},
                ],
            },
            {"sa-1": Status.PASS},
        ),
        Example(
            "a VmRelocatedEvent alone does not say live or cold",
            {
                "appliances": {"sa-1": {}},
                "events": [{"vm": "sa-1", "type": "VmRelocatedEvent"}],
            },
            {"sa-1": Status.UNKNOWN},
        ),
        Example(
            "a VmBeingHotMigratedEvent and a VmMigratedEvent of one chain: one vMotion",
            {
                "appliances": {"sa-1": {}},
                "events": [
                    {"vm": "sa-1", "type": "VmBeingHotMigratedEvent", "chain": 3},
                    {"vm": "sa-1", "type": "VmMigratedEvent", "chain": 3},
                ],
            },
            {"sa-1": Status.FAIL},
        ),
        Example(
            "today's primary was moved as secondary, then its partner: the pair-move procedure",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "events": [
                    {"vm": "sa-p", "kind": "hot-migrate", "live": True, "age": "5h"},
                    {"vm": "sa-s", "kind": "hot-migrate", "live": True, "age": "4h"},
                ],
            },
            {"sa-p": Status.UNKNOWN},
        ),
        Example(
            "the procedure across two vCenters (the partner's moid repeats the primary's)",
            {
                "appliances": {"sa-p": {"role": "primary", "pair": "p1"}},
                "events": [{"vm": "sa-p", "kind": "hot-migrate", "live": True, "age": "5h"}],
                "vcenters": {
                    "vc-b.example": {
                        "appliances": {"sa-s": {"role": "secondary", "pair": "p1"}},
                        "events": [
                            {"vm": "sa-s", "kind": "hot-migrate", "live": True, "age": "4h"}
                        ],
                    }
                },
            },
            {"sa-p": Status.UNKNOWN},
        ),
        Example(
            "a vMotion in the partner's vCenter of another VM with the partner's moid",
            {
                "appliances": {"sa-p": {"role": "primary", "pair": "p1"}},
                "vms": {"web-1": {}},
                "events": [
                    {"vm": "sa-p", "kind": "hot-migrate", "live": True, "age": "5h"},
                    {"vm": "web-1", "kind": "hot-migrate", "live": True, "age": "4h"},
                ],
                "vcenters": {
                    "vc-b.example": {
                        "appliances": {
                            "sa-x": {"role": "standalone"},
                            "sa-s": {"role": "secondary", "pair": "p1"},  # vm-2 there
                        },
                    }
                },
            },
            {"sa-p": Status.FAIL},
        ),
        Example(
            "DRS moved the primary, weeks later the secondary: DRS never follows the procedure",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "events": [
                    {"vm": "sa-p", "kind": "drs-migrate", "age": "20d"},
                    {"vm": "sa-s", "kind": "drs-migrate", "age": "2h"},
                ],
            },
            {"sa-p": Status.FAIL},
        ),
        Example(
            "the primary moved after its partner: no procedure explains it",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "events": [
                    {"vm": "sa-s", "kind": "hot-migrate", "live": True, "age": "5h"},
                    {"vm": "sa-p", "kind": "hot-migrate", "live": True, "age": "4h"},
                ],
            },
            {"sa-p": Status.FAIL},
        ),
        Example(
            "the partner is in another vCenter; this vCenter's VM of the partner's moid moved",
            {
                "appliances": {"sa-p": {"role": "primary", "pair": "p1"}},
                "vms": {"web-1": {}},
                "events": [
                    {"vm": "sa-p", "kind": "hot-migrate", "live": True, "age": "5h"},
                    {"vm": "web-1", "kind": "hot-migrate", "live": True, "age": "4h"},
                ],
                "vcenters": {
                    "vc-b.example": {
                        "appliances": {
                            "sa-x": {},
                            "sa-s": {"role": "secondary", "pair": "p1"},
                        }
                    }
                },
            },
            {"sa-p": Status.FAIL},
        ),
        Example(
            "an older export that did not read cross-vCenter or encrypted vMotion events",
            {"appliances": {"sa-1": {}}, "event_types": "schema-1"},
            {"sa-1": Status.UNKNOWN},
        ),
    ),
)
