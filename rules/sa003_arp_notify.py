"""SA003 arp-notify: portgroups backing appliance vNICs notify physical switches.

A standard portgroup is checked on every host of the appliance's cluster (a
vMotion may land on any of them) through its computed (effective) policy; a
distributed portgroup through its effective default port policy. With
``strict: true`` the portgroup must also accept MAC address changes and forged
transmits (the vendor asks that switches both *accept* and propagate ARP updates).

PASS: every backing portgroup notifies switches (and, strict, accepts MAC changes).
FAIL: a backing portgroup with ``notify_switches: false`` on some host.
UNKNOWN: the policy is not in the snapshot (unreadable, unset, or an opaque network).
"""

from __future__ import annotations

import msgspec

from scalearc_lint.engine.rule import (
    Example,
    Rule,
    Severity,
    Status,
    Verdict,
    failed,
    passed,
    unknown,
)
from scalearc_lint.snapshot.inventory import Appliance, Inventory
from scalearc_lint.snapshot.model import NetworkPolicy


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """SA003 options."""

    #: Also require MAC address changes and forged transmits to be accepted.
    strict: bool = False


def _problems(policy: NetworkPolicy, strict: bool) -> tuple[list[str], list[str]]:
    bad, missing = [], []
    wanted = {"notify_switches": "notify switches"}
    if strict:
        wanted |= {
            "mac_changes": "accept MAC changes",
            "forged_transmits": "accept forged transmits",
        }
    for field, text in wanted.items():
        value = getattr(policy, field)
        if value is None:
            missing.append(text)
        elif value is False:
            bad.append(f"does not {text}")
    return bad, missing


def check(appliance: Appliance, inventory: Inventory, options: Options) -> Verdict:
    """Check the effective policy of every portgroup behind the appliance's vNICs."""
    vm = appliance.vm
    if inventory.unreadable("vm", vm.moid, "nics"):
        return unknown("the exporter could not read this VM's network adapters")
    failures: list[str] = []
    gaps: list[str] = []
    hosts = inventory.cluster_hosts(vm)
    for nic in vm.nics:
        backing = nic.backing
        if backing.kind == "distributed":
            pg = inventory.dv_portgroup(backing.portgroup)
            if pg is None or inventory.unreadable(
                "dv_portgroup", backing.portgroup or "", "policy"
            ):
                gaps.append(f"distributed portgroup {backing.network!r} policy not readable")
                continue
            bad, missing = _problems(pg.policy, options.strict)
            failures += [f"distributed portgroup {pg.name!r} {b}" for b in bad]
            gaps += [f"distributed portgroup {pg.name!r}: {m} not set" for m in missing]
        elif backing.kind == "standard":
            found = False
            for host in hosts:
                if inventory.unreadable("host", host.moid, "portgroups"):
                    gaps.append(f"portgroups of host {host.name} not readable")
                    continue
                pg_on_host = next((p for p in host.portgroups if p.name == backing.network), None)
                if pg_on_host is None:
                    continue
                found = True
                bad, missing = _problems(pg_on_host.computed, options.strict)
                failures += [f"portgroup {backing.network!r} on {host.name} {b}" for b in bad]
                gaps += [
                    f"portgroup {backing.network!r} on {host.name}: {m} not set" for m in missing
                ]
            if not found and not gaps:
                gaps.append(f"portgroup {backing.network!r} not found on any host of the cluster")
        else:
            gaps.append(f"{nic.label or nic.key} is on a {backing.kind} network; policy unknown")
    if failures:
        return failed("; ".join(sorted(set(failures))))
    if gaps:
        return unknown("; ".join(sorted(set(gaps))))
    what = "notify switches and accept MAC changes" if options.strict else "notify switches"
    return passed(f"all backing portgroups {what}")


RULE = Rule(
    id="SA003",
    name="arp-notify",
    title="Appliance portgroups notify switches (propagate ARP updates)",
    severity=Severity.ERROR,
    scope="appliance",
    rationale=(
        "After a migration the physical switches must learn the appliance's new port at once; "
        "with Notify Switches off the appliance can be unreachable until ARP tables age out."
    ),
    reference=(
        'Best practices for VM migration: "Virtual switches must be configured to both accept '
        "and propagate ARP updates, or the appliance may not be accessible from the network, "
        'following migration."'
    ),
    remediation=(
        "Set Teaming and failover > Notify switches = Yes on the portgroup (standard: on every "
        "host of the cluster, or on the vSwitch without a portgroup override; distributed: on "
        "the portgroup). In strict mode also set MAC address changes and Forged transmits to "
        "Accept."
    ),
    check=check,
    examples=(
        Example("notifying portgroups", {"appliances": {"sa-1": {}}}, {"sa-1": Status.PASS}),
        Example(
            "one host's portgroup does not notify",
            {"appliances": {"sa-1": {}}, "network_by_host": {"esx-2": {"notify_switches": False}}},
            {"sa-1": Status.FAIL},
        ),
        Example(
            "distributed portgroup does not notify",
            {
                "appliances": {"sa-1": {"nics": [{"network": "dv"}]}},
                "dv_network": {"notify_switches": False},
            },
            {"sa-1": Status.FAIL},
        ),
        Example(
            "strict mode: MAC changes rejected",
            {"appliances": {"sa-1": {}}, "network": {"mac_changes": False}},
            {"sa-1": Status.FAIL},
            options={"strict": True},
        ),
        Example(
            "default mode ignores MAC changes",
            {"appliances": {"sa-1": {}}, "network": {"mac_changes": False}},
            {"sa-1": Status.PASS},
        ),
    ),
    options=Options,
)
