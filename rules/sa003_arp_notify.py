"""SA003 arp-notify: portgroups backing appliance vNICs notify physical switches.

A standard portgroup is checked on every host of the appliance's cluster (a
vMotion may land on any of them) through its computed (effective) policy; a
distributed portgroup through its effective default port policy
(``snapshot.network.switch_notification``). With
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
from scalearc_lint.snapshot.network import switch_notification


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """SA003 options."""

    #: Also require MAC address changes and forged transmits to be accepted.
    strict: bool = False


def check(appliance: Appliance, inventory: Inventory, options: Options) -> Verdict:
    """Check the effective policy of every portgroup behind the appliance's vNICs."""
    found = switch_notification(appliance.vm, inventory, strict=options.strict)
    if found.failures:
        return failed("; ".join(found.failures))
    if found.gaps:
        return unknown("; ".join(found.gaps))
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
