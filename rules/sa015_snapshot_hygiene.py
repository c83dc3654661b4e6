"""SA015 snapshot-hygiene: no disks awaiting consolidation, no piles or chains of snapshots.

Snapshots are no backup: each one adds a delta disk the appliance writes through, and every
removal consolidates the deltas into the base disk, pausing the VM. Where SA008 judges a
snapshot's age, this rule judges what is left behind: ``runtime.consolidationNeeded`` (a
removal failed and delta disks remain: the appliance runs on them, and the consolidation
still to come will pause it) is an error; more than ``max_snapshots`` snapshots (default 1),
or a chain of snapshots each taken on top of the one before (a tree deeper than one level,
``snapshot_depth``), is a warning, whatever their age.

PASS: no consolidation needed, at most ``max_snapshots`` snapshots, none on top of another.
FAIL (error): the VM needs consolidation.
FAIL (warning): too many snapshots, or a chain deeper than one.
UNKNOWN: the snapshot tree could not be read, or whether the VM needs consolidation is not
in the snapshot (unreadable, or an export before schema 3) and its snapshots are fine.
"""

from __future__ import annotations

from typing import Annotated

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
from scalearc_lint.snapshot.inventory import Appliance, Inventory, snapshot_depth, walk_snapshots


class Options(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """SA015 options."""

    #: Most snapshots an appliance may have at once (a backup's one, by default).
    max_snapshots: Annotated[int, msgspec.Meta(ge=0)] = 1


def _pile(appliance: Appliance, options: Options) -> str | None:
    """What is wrong with the snapshot tree, or ``None``."""
    count = sum(1 for _ in walk_snapshots(appliance.vm.snapshots))
    depth = snapshot_depth(appliance.vm.snapshots)
    problems = []
    if count > options.max_snapshots:
        problems.append(f"{count} snapshots (at most {options.max_snapshots})")
    if depth > 1:
        problems.append(f"a chain of {depth} snapshots, each on top of the one before")
    return ", ".join(problems) or None


def check(appliance: Appliance, inventory: Inventory, options: Options) -> Verdict:
    """Fail when the VM needs consolidation (error), or keeps too many snapshots (warning)."""
    vm = appliance.vm
    consolidation_unread = inventory.unreadable("vm", vm.moid, "consolidation_needed")
    if not consolidation_unread and vm.consolidation_needed:
        return failed(
            "the VM needs disk consolidation (runtime.consolidationNeeded): a snapshot removal "
            "left delta disks behind"
        )
    if inventory.unreadable("vm", vm.moid, "snapshots"):
        return unknown("the exporter could not read this VM's snapshots")
    pile = _pile(appliance, options)
    if pile is not None:
        also = "; whether it needs consolidation is not recorded" if consolidation_unread else ""
        return failed(f"{pile}: snapshots are no backup{also}", Severity.WARNING)
    if consolidation_unread:
        return unknown(
            "the snapshot does not record whether the VM needs disk consolidation "
            "(runtime.consolidationNeeded not read, or exported by an older scalearc-lint)"
        )
    count = sum(1 for _ in walk_snapshots(vm.snapshots))
    return passed(f"{count} snapshot(s), no disk consolidation needed")


RULE = Rule(
    id="SA015",
    name="snapshot-hygiene",
    title="Appliances keep no pile of snapshots and need no consolidation",
    severity=Severity.ERROR,
    scope="appliance",
    rationale=(
        "Every snapshot adds a delta disk the appliance writes through, and its removal "
        "consolidates the disks while the VM pauses, which causes application errors. A VM "
        "that needs consolidation already runs on leftover deltas and still has that pause "
        "ahead; several snapshots, or snapshots taken on top of each other, are snapshots "
        "used as backups."
    ),
    reference=(
        'Using VMware snapshots with ScaleArc appliances: "requires that the virtual disk be '
        "quiesced briefly during snapshot consolidation. This can cause the ScaleArc virtual "
        'machine to pause during consolidation, resulting in application server errors." and '
        '"Neither VMware nor ScaleArc recommends using snapshots as a backup strategy."'
    ),
    remediation=(
        "At a time of low activity: Snapshots > Consolidate when the VM needs consolidation; "
        "delete the snapshots beyond the one a backup job holds (Snapshots > Manage "
        "Snapshots), and fix the job that leaves them."
    ),
    check=check,
    examples=(
        Example(
            "one backup snapshot",
            {"appliances": {"sa-1": {"snapshots": ["2h"]}}},
            {"sa-1": Status.PASS},
        ),
        Example(
            "needs consolidation (error)",
            {"appliances": {"sa-1": {"consolidation_needed": True}}},
            {"sa-1": Status.FAIL},
        ),
        Example(
            "two snapshots (warning)",
            {"appliances": {"sa-1": {"snapshots": ["2h", "1h"]}}},
            {"sa-1": Status.FAIL},
        ),
        Example(
            "max_snapshots 2 allows two on the base disks",
            {"appliances": {"sa-1": {"snapshots": ["2h", "1h"]}}},
            {"sa-1": Status.PASS},
            options={"max_snapshots": 2},
        ),
        Example(
            "max_snapshots 2, but the second was taken on top of the first",
            {"appliances": {"sa-1": {"snapshots": ["2h", "1h"], "snapshots_chained": True}}},
            {"sa-1": Status.FAIL},
            options={"max_snapshots": 2},
        ),
        Example(
            "an older export did not record consolidation",
            {
                "appliances": {"sa-1": {}},
                "unreadable": [{"kind": "vm", "vm": "sa-1", "property": "consolidation_needed"}],
            },
            {"sa-1": Status.UNKNOWN},
        ),
    ),
    options=Options,
)
