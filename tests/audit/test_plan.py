"""What-if plans: the file format (errors name file:line) and what each operation does."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest

from scalearc_lint.change.plan import OPERATIONS, PlanRun, apply_plan, load_plan
from scalearc_lint.errors import InputError
from scalearc_lint.snapshot.identification import ApplianceSelection
from scalearc_lint.snapshot.inventory import Inventory
from scalearc_lint.snapshot.loader import load_snapshot
from scalearc_lint.snapshot.model import Snapshot
from scalearc_lint.snapshot.sketch import build
from tests.audit.conftest import LAB_SKETCH, TWO_HOST_PAIR, StepList, host_of, vm_moid

AT = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
WriteYaml = Callable[[str, Any], Path]


def applied(
    snapshot: Snapshot,
    write_yaml: WriteYaml,
    steps: StepList,
    selection: ApplianceSelection | None = None,
) -> PlanRun:
    plan = load_plan(write_yaml("plan.yaml", {"steps": list(steps)}))
    return apply_plan(snapshot, plan, selection=selection or ApplianceSelection(), at=AT)


def roles(snapshot: Snapshot) -> dict[str, str]:
    inv = Inventory(snapshot)
    return {a.vm.name: a.role.value for a in inv.appliances.values()}


# -- format errors ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("steps:\n  - migrate: sa-a1\n    to: esx-3\n    mode: fast\n", 4, "mode: expected live"),
        ("steps:\n  - migrate: sa-a1\n    mode: live\n", 2, "missing 'to'"),
        ("steps:\n  - teleport: sa-a1\n", 2, "exactly one operation key"),
        ("steps:\n  - power_off: sa-a1\n    power_on: sa-a1\n", 2, "found several"),
        ("steps:\n  - power_off: sa-a1\n    when: now\n", 3, "unknown key 'when'"),
        ("steps: []\n", 1, "non-empty list"),
        ("description: x\nsteps:\n  - power_off\n", 3, "expected a mapping"),
        ("stepz:\n  - power_off: sa-a1\n", 1, "unknown key 'stepz'"),
        ("steps:\n  - add_anti_affinity: r\n    vms: [sa-a1]\n", 3, "at least two"),
        ("steps:\n  - drs_override: sa-a1\n    behavior: sometimes\n", 3, "behavior: expected"),
    ],
)
def test_malformed_plan_names_file_and_line(
    write_yaml: WriteYaml, text: str, line: int, words: str
) -> None:
    path = write_yaml("plan.yaml", text)
    with pytest.raises(InputError) as info:
        load_plan(path)
    assert str(info.value).startswith(f"{path}:{line}:")
    assert words in str(info.value)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("steps", "words"),
    [
        ([{"power_off": "nope"}], "no VM 'nope'"),
        ([{"migrate": "sa-a1", "to": "esx-9", "mode": "live"}], "no host 'esx-9'"),
        ([{"migrate": "sa-a1", "to": "esx-3", "mode": "cold"}], "power it off first"),
        (
            [{"power_off": "sa-a1"}, {"migrate": "sa-a1", "to": "esx-3", "mode": "live"}],
            "needs it running",
        ),
        ([{"migrate": "sa-a1", "to": "esx-1", "mode": "live"}], "already runs on esx-1"),
        ([{"switchover": "gamma"}], "one primary and one secondary"),
        ([{"remove_snapshot": "sa-a1"}], "has no snapshot"),
        ([{"exit_maintenance": "esx-1"}], "not in maintenance"),
        ([{"power_on": "sa-a1"}], "already poweredOn"),
        ([{"remove_anti_affinity": "no-such-rule"}], "no cluster has"),
        (
            [{"add_anti_affinity": "scalearc-alpha-apart", "vms": ["sa-a1", "sa-b1"]}],
            "already has a rule",
        ),
    ],
)
def test_impossible_step_is_a_plan_error_naming_the_step(
    lab: Snapshot, write_yaml: WriteYaml, steps: StepList, words: str
) -> None:
    with pytest.raises(InputError) as info:
        applied(lab, write_yaml, steps)
    message = str(info.value)
    assert re.match(rf".*plan\.yaml:\d+: step {len(steps)} \(", message)
    assert words in message


def test_plan_for_another_vcenter_is_refused(lab: Snapshot, write_yaml: WriteYaml) -> None:
    path = write_yaml("plan.yaml", {"vcenter": "other.example", "steps": [{"power_off": "web-1"}]})
    with pytest.raises(InputError, match=r"plan\.yaml:1: plan is for vCenter 'other\.example'"):
        apply_plan(lab, load_plan(path), selection=ApplianceSelection(), at=AT)


# -- operations -------------------------------------------------------------------------


def test_live_migration_moves_the_vm_and_records_the_move(
    lab: Snapshot, write_yaml: WriteYaml
) -> None:
    run = applied(lab, write_yaml, [{"migrate": "sa-a2", "to": "esx-3", "mode": "live"}])
    assert host_of(run.final, "sa-a2") == "esx-3"
    (move,) = run.outcomes[0].moves
    assert move.live and move.vm == vm_moid(lab, "sa-a2")
    assert host_of(lab, "sa-a2") == "esx-2"


def test_vm_can_be_named_by_moid_or_instance_uuid(lab: Snapshot, write_yaml: WriteYaml) -> None:
    vm = lab.vms[vm_moid(lab, "web-1")]
    run = applied(lab, write_yaml, [{"power_off": vm.moid}, {"power_on": vm.instance_uuid}])
    assert run.final.vms[vm.moid].power_state == "poweredOn"
    assert run.outcomes[0].after.snapshot.vms[vm.moid].power_state == "poweredOff"


def test_cold_migration_to_another_cluster_leaves_the_old_clusters_drs_settings(
    write_yaml: WriteYaml,
) -> None:
    snapshot = build({**LAB_SKETCH, "clusters": {"cl-2": {"hosts": 1}}})
    moid = vm_moid(snapshot, "sa-a2")
    run = applied(
        snapshot,
        write_yaml,
        [{"power_off": "sa-a2"}, {"migrate": "sa-a2", "to": "esx-5", "mode": "cold"}],
    )
    vm = run.final.vms[moid]
    old = snapshot.clusters[snapshot.vms[moid].cluster or ""]
    new_cluster = run.final.clusters[vm.cluster or ""]
    assert new_cluster.name == "cl-2"
    assert vm.resource_pool == new_cluster.root_pool
    assert moid not in run.final.clusters[old.moid].drs.vm_overrides
    assert all(moid not in r.vms for r in run.final.clusters[old.moid].rules)


def test_maintenance_evacuates_running_vms_keeping_pairs_apart(
    lab: Snapshot, write_yaml: WriteYaml
) -> None:
    run = applied(lab, write_yaml, [{"maintenance": "esx-1"}])
    final = run.final
    assert next(h for h in final.hosts.values() if h.name == "esx-1").in_maintenance
    assert host_of(final, "sa-a1") not in ("esx-1", "esx-2")
    assert host_of(final, "sa-solo") != "esx-1"
    assert run.outcomes[0].not_kept_apart == ()
    assert {m.vm for m in run.outcomes[0].moves} == {
        vm_moid(lab, "sa-a1"),
        vm_moid(lab, "sa-solo"),
    }


def test_maintenance_reports_a_pair_that_can_no_longer_be_kept_apart(
    write_yaml: WriteYaml,
) -> None:
    snapshot = build(TWO_HOST_PAIR)
    run = applied(snapshot, write_yaml, [{"maintenance": "esx-1"}])
    assert host_of(run.final, "sa-p") == host_of(run.final, "sa-s") == "esx-2"
    assert run.outcomes[0].not_kept_apart == ("pair p1",)


def test_powered_off_vms_stay_on_a_host_in_maintenance(
    lab: Snapshot, write_yaml: WriteYaml
) -> None:
    run = applied(lab, write_yaml, [{"power_off": "sa-solo"}, {"maintenance": "esx-1"}])
    assert host_of(run.final, "sa-solo") == "esx-1"


def test_switchover_swaps_roles_in_attributes_and_in_tags(
    lab: Snapshot, write_yaml: WriteYaml
) -> None:
    run = applied(lab, write_yaml, [{"switchover": "alpha"}, {"switchover": "beta"}])
    assert roles(run.final) == {
        "sa-a1": "secondary",
        "sa-a2": "primary",
        "sa-b1": "secondary",
        "sa-b2": "primary",
        "sa-solo": "standalone",
    }
    b2 = run.final.vms[vm_moid(lab, "sa-b2")]
    assert b2.custom_attributes == {}
    assert [t.name for t in b2.tags if t.category == "scalearc-role"] == ["primary"]


def test_switchover_with_selection_by_name_is_a_plan_error(
    lab: Snapshot, write_yaml: WriteYaml
) -> None:
    selection = ApplianceSelection(by="name", name_pattern=r"sa-(?P<pair>[a-z])(?P<role>\d)")
    with pytest.raises(InputError, match="selected by name"):
        applied(lab, write_yaml, [{"switchover": "alpha"}], selection)


def test_take_and_remove_snapshot(lab: Snapshot, write_yaml: WriteYaml) -> None:
    run = applied(
        lab,
        write_yaml,
        [
            {"take_snapshot": "sa-a2", "name": "pre"},
            {"take_snapshot": "sa-a2"},
            {"remove_snapshot": "sa-a2", "name": "pre"},
        ],
    )
    taken = run.outcomes[0].after.snapshot.vms[vm_moid(lab, "sa-a2")].snapshots
    assert [(s.name, s.created) for s in taken] == [("pre", AT)]
    assert [s.name for s in run.final.vms[vm_moid(lab, "sa-a2")].snapshots] == ["whatif step 2"]
    assert run.outcomes[0].taken == (vm_moid(lab, "sa-a2"), "snapshot-whatif-1")


def test_drs_override_set_disable_and_inherit(lab: Snapshot, write_yaml: WriteYaml) -> None:
    moid = vm_moid(lab, "sa-a1")
    run = applied(
        lab,
        write_yaml,
        [
            {"drs_override": "sa-a1", "behavior": "fullyAutomated"},
            {"drs_override": "sa-a1", "behavior": "disabled"},
            {"drs_override": "sa-a1", "behavior": "inherit"},
        ],
    )
    overrides = [
        o.after.snapshot.clusters[o.after.snapshot.vms[moid].cluster or ""].drs.vm_overrides
        for o in run.outcomes
    ]
    assert overrides[0][moid].behavior == "fullyAutomated"
    assert overrides[1][moid].enabled is False
    assert moid not in overrides[2]


def test_add_and_remove_anti_affinity_rule(lab: Snapshot, write_yaml: WriteYaml) -> None:
    run = applied(
        lab,
        write_yaml,
        [
            {"remove_anti_affinity": "scalearc-alpha-apart"},
            {"add_anti_affinity": "keep-solo-apart", "vms": ["sa-solo", "web-1"], "enabled": False},
        ],
    )
    (cluster,) = run.final.clusters.values()
    rules = {r.name: r for r in cluster.rules}
    assert "scalearc-alpha-apart" not in rules
    added = rules["keep-solo-apart"]
    assert added.kind == "vm-anti-affinity" and added.enabled is False
    assert added.vms == [vm_moid(lab, "sa-solo"), vm_moid(lab, "web-1")]


def test_the_documented_plan_reference_names_every_operation_and_applies_to_the_lab(
    tmp_path: Path,
) -> None:
    repo = Path(__file__).resolve().parents[2]
    doc = (repo / "docs" / "pre-change-and-nightly.md").read_text()
    section = doc.split("### The plan file", 1)[1]
    reference = section.split("```yaml plan\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "reference.yaml"
    path.write_text(reference)
    plan = load_plan(path)
    assert {step.op for step in plan.steps} == set(OPERATIONS), "every operation, only those"
    lab = load_snapshot(repo / "examples" / "lab.json").snapshot
    run = apply_plan(lab, plan, selection=ApplianceSelection(), at=AT)  # no plan error
    assert len(run.outcomes) == len(plan.steps)


def test_a_rule_name_several_rules_share_needs_its_key(
    lab: Snapshot, write_yaml: WriteYaml
) -> None:
    (cluster,) = lab.clusters.values()
    twin = msgspec.structs.replace(
        next(r for r in cluster.rules if r.name == "scalearc-alpha-apart"),
        key=max(r.key for r in cluster.rules) + 1,
        enabled=False,
    )
    cluster = msgspec.structs.replace(cluster, rules=[*cluster.rules, twin])
    lab = msgspec.structs.replace(lab, clusters={cluster.moid: cluster})
    with pytest.raises(InputError, match=r"several anti-affinity rules named .*add key:"):
        applied(lab, write_yaml, [{"enable_anti_affinity": "scalearc-alpha-apart"}])
    run = applied(
        lab, write_yaml, [{"enable_anti_affinity": "scalearc-alpha-apart", "key": twin.key}]
    )
    (after,) = run.final.clusters.values()
    assert [r.enabled for r in after.rules if r.name == "scalearc-alpha-apart"] == [True, True]
