"""SA013 no-ha-restart: vSphere HA does not restart an HA pair's appliance by itself.

The vendor says what to do when a host fails: the secondary takes over the traffic, and
"before bringing up the appliance that was running on the failed ESX server, contact
ScaleArc support". vSphere HA would bring that appliance up by itself, on another host,
next to its pair's new primary. So an appliance of an HA pair (primary or secondary) must
not be restarted by vSphere HA: its effective restart priority (``Inventory.ha_restart``:
the VM's ``dasVmConfig`` override, else the cluster's ``dasConfig.defaultVmSettings``,
unset = medium) must be ``disabled`` wherever HA is on. This reading is ours, inferred from
the vendor's text, which does not name vSphere HA. Standalone appliances are out of scope:
with no partner to take over, HA's restart is their only recovery.

The restart events (EventEx ``com.vmware.vc.ha.VmRestartedByHAEvent``) are judged with the
roles of the snapshot they were exported with (``Inventory.as_recorded``); the setting with
the state being judged (a ``whatif`` plan's, after a move to another cluster).

PASS: HA is off in its cluster, or its effective restart priority is ``disabled``, or it is
on a standalone host; and the events show no HA restart of it.
FAIL (error): an event shows vSphere HA restarted it while it was in an HA pair.
FAIL (warning): vSphere HA would restart it (effective priority not ``disabled``).
UNKNOWN: the cluster's HA configuration, or its default restart priority, is not in the
snapshot (an export before schema 3) and the VM has no override; or events were not exported
or lack HA restarts (an older export), so a restart cannot be ruled out.
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
from scalearc_lint.snapshot.model import EVENT_TYPES, Event

HA_RESTART_EVENT_TYPES = tuple(t for t, kind in EVENT_TYPES.items() if kind == "ha-restart")


def _in_pair(appliance: Appliance | None) -> bool:
    return appliance is not None and appliance.role is not Role.STANDALONE


def _restarts(moid: str, inventory: Inventory) -> tuple[list[Event], str | None]:
    """The VM's HA restarts in the window, and why they cannot be ruled out (or ``None``)."""
    log = inventory.snapshot.events
    if not inventory.events_read:
        return [], "events were not exported"
    found = [
        log.items[i]
        for i in inventory.events_by_vm.get(moid, ())
        if log.items[i].kind == "ha-restart"
    ]
    missing = inventory.events_not_selected(HA_RESTART_EVENT_TYPES)
    if not found and missing:
        return [], f"the export did not read {', '.join(missing)} events (an older scalearc-lint)"
    return found, None


def _listed(events: list[Event]) -> str:
    return "; ".join(
        f"at {e.created.isoformat()}" + (f" on {e.dest_host_name}" if e.dest_host_name else "")
        for e in events[:5]
    )


def check(appliance: Appliance, inventory: Inventory, options: NoOptions) -> Verdict | None:
    """Fail on an HA restart of a pair's appliance (error), or when HA would restart it."""
    recorded = inventory.as_recorded
    was_in_pair = _in_pair(recorded.appliances.get(appliance.vm.moid))
    in_pair = _in_pair(appliance)
    if not was_in_pair and not in_pair:
        return None  # a standalone appliance: HA's restart is its only recovery
    restarts, events_gap = _restarts(appliance.vm.moid, recorded) if was_in_pair else ([], None)
    if restarts:
        return failed(
            f"vSphere HA restarted it {len(restarts)} time(s) while it was in an HA pair, "
            f"without ScaleArc support: {_listed(restarts)}"
        )
    if not in_pair:
        if events_gap:
            return unknown(
                f"{events_gap}, so an HA restart while it was paired cannot be ruled out"
            )
        return passed("not restarted by vSphere HA while it was in an HA pair")
    ha = inventory.ha_restart(appliance.vm)
    if ha.restarts:
        also = f"; {events_gap}, so past restarts cannot be ruled out" if events_gap else ""
        return failed(
            f"vSphere HA would restart it by itself after a host failure: restart priority "
            f"{ha.priority} ({ha.reason}){also}",
            Severity.WARNING,
        )
    if ha.restarts is None:
        return unknown(f"cannot tell whether vSphere HA would restart it: {ha.reason}")
    setting = f"restart priority {ha.priority} ({ha.reason})" if ha.priority else ha.reason
    if events_gap:
        return unknown(f"{events_gap}, so past HA restarts cannot be ruled out; now: {setting}")
    return passed(f"vSphere HA would not restart it: {setting}")


RULE = Rule(
    id="SA013",
    name="no-ha-restart",
    title="vSphere HA does not restart an HA pair's appliances",
    severity=Severity.ERROR,
    scope="appliance",
    rationale=(
        "When a host fails, the pair's secondary takes over the traffic; the appliance that "
        "ran on the failed host is to be brought back only with ScaleArc support. vSphere HA "
        "would instead restart it by itself on another host, next to the pair's new primary, "
        "with its HA state unknown. Our reading of the vendor's text (which does not name "
        "vSphere HA): a pair member's HA restart priority must be Disabled; an HA restart that "
        "happened is an error, a setting that allows one a warning. Standalone appliances are "
        "out of scope: with no partner, HA's restart is their only recovery."
    ),
    reference=(
        'Best practices for VM migration: "In case of a failure, rather than attempt to move '
        "the HA Primary off of a failing ESX server, perform an HA switchover from the GUI of "
        "the HA Secondary, then attempt to shut down the newly demoted HA Secondary on the "
        "failing ESX server. Before bringing up the appliance that was running on the failed "
        'ESX server, contact ScaleArc support for assistance to avoid problems."'
    ),
    remediation=(
        "Cluster > Configure > VM Overrides > Add: select both members of the pair, vSphere "
        "HA > VM restart priority: Disabled. After an HA restart, check the pair's HA state "
        "with ScaleArc support."
    ),
    check=check,
    examples=(
        Example(
            "both members' restart priority is disabled",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                }
            },
            {"sa-p": Status.PASS, "sa-s": Status.PASS},
        ),
        Example(
            "no override and the cluster's default unset: HA restarts at medium (warning)",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1", "ha_restart": "none"},
                }
            },
            {"sa-p": Status.PASS, "sa-s": Status.FAIL},
        ),
        Example(
            "the cluster's default is disabled, and the VM defers to it",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1", "ha_restart": "none"},
                    "sa-s": {
                        "role": "secondary",
                        "pair": "p1",
                        "ha_restart": "clusterRestartPriority",
                    },
                },
                "clusters": {"cl-1": {"ha_default": "disabled"}},
            },
            {"sa-p": Status.PASS, "sa-s": Status.PASS},
        ),
        Example(
            "a VM override of high in a cluster whose default is disabled",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1", "ha_restart": "high"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "clusters": {"cl-1": {"ha_default": "disabled"}},
            },
            {"sa-p": Status.FAIL},
        ),
        Example(
            "vSphere HA off in the cluster",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1", "ha_restart": "none"},
                    "sa-s": {"role": "secondary", "pair": "p1", "ha_restart": "none"},
                },
                "clusters": {"cl-1": {"ha_enabled": False}},
            },
            {"sa-p": Status.PASS, "sa-s": Status.PASS},
        ),
        Example(
            "vSphere HA restarted the secondary (error)",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "events": [{"vm": "sa-s", "kind": "ha-restart"}],
            },
            {"sa-p": Status.PASS, "sa-s": Status.FAIL},
        ),
        Example(
            "a standalone's HA restart is its recovery: only the pair is judged",
            {
                "appliances": {
                    "sa-solo": {"ha_restart": "none"},
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "events": [{"vm": "sa-solo", "kind": "ha-restart"}],
            },
            {"sa-p": Status.PASS},
        ),
        Example(
            "an older snapshot without the cluster's default, and no override",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1", "ha_restart": "none"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "unreadable": [
                    {"kind": "cluster", "cluster": "cl-1", "property": "default_restart_priority"}
                ],
            },
            {"sa-p": Status.UNKNOWN, "sa-s": Status.PASS},
        ),
        Example(
            "events not exported: a past restart cannot be ruled out",
            {
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "events_collected": False,
            },
            {"sa-p": Status.UNKNOWN},
        ),
    ),
)
