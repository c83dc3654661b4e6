"""What the vendor asks of an appliance's network before it may move: static MACs on every vNIC,
and virtual switches that notify the physical ones (propagate ARP updates).

The one statement of those checks: SA001, SA003 and SA016 call them (and through SA001 and
SA003, the plan lint's PLAN002). A standard portgroup is judged on every host of the
appliance's cluster (a migration may land on any of them) through its computed (effective)
policy; a distributed portgroup through its effective default port policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from scalearc_lint.snapshot.model import NetworkPolicy, Nic, VirtualMachine

if TYPE_CHECKING:
    from scalearc_lint.snapshot.inventory import Inventory

NICS_UNREAD = "the exporter could not read this VM's network adapters"


@dataclass(frozen=True, slots=True)
class Findings:
    """What is wrong (``failures``) and what the snapshot cannot tell (``gaps``)."""

    failures: tuple[str, ...] = ()
    gaps: tuple[str, ...] = ()


def nic_name(nic: Nic) -> str:
    """``Network adapter 1``, or the device key when it has no label."""
    return nic.label or str(nic.key)


def dynamic_macs(vm: VirtualMachine) -> list[Nic]:
    """The vNICs whose MAC is not static: ``addressType`` ``generated`` or ``assigned`` (vCenter
    may change them when the VM moves or is registered again); only ``manual`` is static."""
    return [nic for nic in vm.nics if nic.address_type != "manual"]


def _policy_problems(policy: NetworkPolicy, strict: bool) -> tuple[list[str], list[str]]:
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


def switch_notification(
    vm: VirtualMachine, inventory: Inventory, *, strict: bool = False
) -> Findings:
    """Whether every portgroup behind the VM's vNICs notifies switches (``strict``: and
    accepts MAC address changes and forged transmits)."""
    if inventory.unreadable("vm", vm.moid, "nics"):
        return Findings(gaps=(NICS_UNREAD,))
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
            bad, missing = _policy_problems(pg.policy, strict)
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
                bad, missing = _policy_problems(pg_on_host.computed, strict)
                failures += [f"portgroup {backing.network!r} on {host.name} {b}" for b in bad]
                gaps += [
                    f"portgroup {backing.network!r} on {host.name}: {m} not set" for m in missing
                ]
            if not found and not gaps:
                gaps.append(f"portgroup {backing.network!r} not found on any host of the cluster")
        else:
            gaps.append(f"{nic_name(nic)} is on a {backing.kind} network; policy unknown")
    return Findings(tuple(sorted(set(failures))), tuple(sorted(set(gaps))))


def migration_prerequisites(vm: VirtualMachine, inventory: Inventory) -> Findings:
    """The vendor's provisos for moving an appliance: "provided you have configured Static
    MAC, and that the virtual switches accept and propagate routing/forwarding ARP updates"."""
    if inventory.unreadable("vm", vm.moid, "nics"):
        return Findings(gaps=(NICS_UNREAD,))
    dynamic = [f"{nic_name(nic)} ({nic.address_type} {nic.mac})" for nic in dynamic_macs(vm)]
    failures = ["vNIC without a static MAC: " + ", ".join(dynamic)] if dynamic else []
    switches = switch_notification(vm, inventory)
    return Findings((*failures, *switches.failures), switches.gaps)
