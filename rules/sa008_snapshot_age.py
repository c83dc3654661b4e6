"""SA008 snapshot-age: appliances keep VM snapshots only briefly.

Age is measured at the snapshot's ``exported_at`` unless ``--as-of`` is given.
A too-old snapshot is an error on an active appliance (primary, standalone),
where consolidation stuns live traffic, and a warning on a secondary.

PASS: no snapshot older than ``max_age`` (default 24h).
FAIL: at least one older snapshot.
UNKNOWN: the snapshot tree could not be read, or a snapshot's ``createTime`` lies after the
as-of time: a host or vCenter clock runs ahead, so its age cannot be told (it is not young).
"""

from __future__ import annotations

from datetime import timedelta

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
from scalearc_lint.snapshot.inventory import Appliance, Inventory, walk_snapshots


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """SA008 options."""

    #: Oldest acceptable snapshot (config accepts 24h, 90m, 2d, PT24H, or seconds).
    max_age: timedelta = timedelta(hours=24)


def _human(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} h"


def check(appliance: Appliance, inventory: Inventory, options: Options) -> Verdict:
    """Fail when any snapshot in the tree is older than max_age at as-of time."""
    vm = appliance.vm
    if inventory.unreadable("vm", vm.moid, "snapshots"):
        return unknown("the exporter could not read this VM's snapshots")
    nodes = list(walk_snapshots(vm.snapshots))
    if not nodes:
        return passed("no snapshots")
    old = sorted(
        (
            (inventory.as_of - node.created, node.name)
            for node in nodes
            if inventory.as_of - node.created > options.max_age
        ),
        reverse=True,
    )
    if old:
        listed = ", ".join(f"{name!r} ({_human(age)} old)" for age, name in old[:5])
        severity = None if appliance.active else Severity.WARNING
        return failed(
            f"{len(old)} snapshot(s) older than {_human(options.max_age)}: {listed}", severity
        )
    ahead = [node for node in nodes if node.created > inventory.as_of]
    if ahead:
        listed = ", ".join(f"{n.name!r} at {n.created.isoformat()}" for n in ahead[:5])
        return unknown(
            f"{len(ahead)} snapshot(s) created after the as-of time "
            f"{inventory.as_of.isoformat()} ({listed}): a clock runs ahead, so their age "
            "cannot be told"
        )
    oldest = max(inventory.as_of - node.created for node in nodes)
    return passed(f"{len(nodes)} snapshot(s), the oldest {_human(oldest)} old")


RULE = Rule(
    id="SA008",
    name="snapshot-age",
    title="Appliance VM snapshots are short-lived",
    severity=Severity.ERROR,
    scope="appliance",
    rationale=(
        "Snapshots slow the appliance's disks and their consolidation pauses the VM, causing "
        "application errors; the longer a snapshot lives, the longer the pause."
    ),
    reference=(
        'Using VMware snapshots with ScaleArc appliances: "ScaleArc recommends that you keep '
        'snapshots only briefly, such as during backup of the virtual disks."'
    ),
    remediation=(
        "Delete (consolidate) the snapshot at a time of low activity; if a backup tool left it, "
        "fix the backup job. Do not use snapshots as backups."
    ),
    check=check,
    examples=(
        Example(
            "a 2-hour-old backup snapshot",
            {"appliances": {"sa-1": {"snapshots": ["2h"]}}},
            {"sa-1": Status.PASS},
        ),
        Example(
            "a 3-day-old snapshot on a standalone",
            {"appliances": {"sa-1": {"snapshots": ["3d"]}}},
            {"sa-1": Status.FAIL},
        ),
        Example(
            "a snapshot created after the export: a clock runs ahead",
            {"appliances": {"sa-1": {"snapshots": ["2h", "-3h"]}}},
            {"sa-1": Status.UNKNOWN},
        ),
        Example(
            "a clock ahead does not hide an old snapshot",
            {"appliances": {"sa-1": {"snapshots": ["3d", "-3h"]}}},
            {"sa-1": Status.FAIL},
        ),
        Example(
            "max_age 7d allows 3 days",
            {"appliances": {"sa-1": {"snapshots": ["3d"]}}},
            {"sa-1": Status.PASS},
            options={"max_age": "7d"},
        ),
    ),
    options=Options,
)
