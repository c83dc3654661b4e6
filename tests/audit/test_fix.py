"""fix: plans that repair each fixable rule in the vendor's order, proven before written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import yaml

from scalearc_lint.change.fix import REMEDIES, _snapshots_beyond
from scalearc_lint.engine.rule import Status
from scalearc_lint.snapshot.loader import encode_snapshot
from scalearc_lint.snapshot.model import VmSnapshot
from scalearc_lint.snapshot.sketch import build, build_estate
from scalearc_lint.testing import run_fix
from tests.audit.conftest import EXAMPLES, Ran
from tests.reports.reportkit import validate_sarif

Cli = Callable[..., Ran]
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def ops(plan: Path) -> list[tuple[str, str]]:
    steps = yaml.safe_load(plan.read_text())["steps"]
    return [next((k, str(v)) for k, v in step.items() if k != "note") for step in steps]


def test_fix_writes_a_plan_whatif_accepts_and_lists_the_rest(cli: Cli, tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    ran = cli("fix", EXAMPLES / "lab.json", "-o", plan)
    assert ran.code == 0, ran.err
    text = plan.read_text()
    assert "# repairs SA001 sa-billing-02" in text
    assert "licences or DHCP reservations" in text
    assert "not planned: SA010" in ran.out and "not planned: SA011" in ran.out
    again = cli("whatif", EXAMPLES / "lab.json", "--plan", plan, "-q")
    assert again.code == 0, again.out + again.err
    assert "against current state (without the plan): 0 broken" in again.out


def test_a_standalone_appliance_goes_down_only_after_a_confirmed_outage(
    cli: Cli, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.yaml"
    assert cli("fix", EXAMPLES / "lab.json", "-o", plan).code == 0
    steps = ops(plan)
    power_off = steps.index(("power_off", "sa-reports-01"))
    assert steps[power_off - 1] == ("confirm_outage", "sa-reports-01")


def pair_snapshot(tmp_path: Path, **primary: Any) -> Path:
    snapshot = build(
        {
            "hosts": 3,
            "appliances": {
                "sa-p": {"role": "primary", "pair": "p1", "host": "esx-1", **primary},
                "sa-s": {"role": "secondary", "pair": "p1", "host": "esx-2"},
            },
        }
    )
    path = tmp_path / "pair.json"
    path.write_bytes(encode_snapshot(snapshot))
    return path


def test_power_off_work_on_a_primary_follows_a_switchover(cli: Cli, tmp_path: Path) -> None:
    path = pair_snapshot(tmp_path, nics=[{"type": "generated"}])
    plan = tmp_path / "plan.yaml"
    ran = cli("fix", path, "-o", plan)
    assert ran.code == 0, ran.err
    assert ops(plan) == [
        ("switchover", "p1"),
        ("power_off", "sa-p"),
        ("set_mac", "sa-p"),
        ("power_on", "sa-p"),
    ]


def test_a_plan_that_cannot_be_proven_is_not_written(
    cli: Cli, tmp_path: Path, monkeypatch: Any
) -> None:
    path = pair_snapshot(tmp_path, nics=[{"type": "generated"}])
    from scalearc_lint.change import fix
    from scalearc_lint.change.fix import Remedy, Work

    def wrong(result: Any, ctx: Any) -> Remedy:
        # A generator that plans the wrong change: the proof must catch it.
        vm = ctx.inventory.appliances[result.object.id].vm
        return Remedy((Work("drs_override", vm.name, {"behavior": "manual"}, fix.BEFORE),))

    monkeypatch.setitem(REMEDIES, "SA001", wrong)
    plan = tmp_path / "plan.yaml"
    ran = cli("fix", path, "-o", plan)
    assert ran.code == 1
    assert "step 1 (drs_override sa-p) is to repair SA001 on sa-p, which is still fail" in ran.err
    assert "nothing written" in ran.err
    assert not plan.exists()


def test_a_hand_edited_plan_that_drifts_from_the_snapshot_is_refused(
    cli: Cli, tmp_path: Path
) -> None:
    plan = tmp_path / "plan.yaml"
    assert cli("fix", EXAMPLES / "lab.json", "-o", plan).code == 0
    plan.write_text(
        plan.read_text().replace("power_state: poweredOn", "power_state: poweredOff", 1)
    )
    ran = cli("whatif", EXAMPLES / "lab.json", "--plan", plan)
    assert ran.code == 2
    assert "has changed since the plan was made" in ran.err
    assert len(ran.err.strip().splitlines()) == 1


def test_check_reports_show_the_fix_step_of_each_finding(cli: Cli, tmp_path: Path) -> None:
    plan, sarif = tmp_path / "plan.yaml", tmp_path / "r.sarif"
    assert cli("fix", EXAMPLES / "lab.json", "-o", plan, "--sarif", sarif).code == 0
    assert "plan.yaml, step" in sarif.read_text()


def fail_results(log: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in log["runs"][0]["results"] if r["kind"] == "fail"]


def test_sarif_carries_fix_steps_in_properties_never_as_fixes(cli: Cli, tmp_path: Path) -> None:
    """SARIF ``fixes`` edit artifacts; a vCenter change is none (see reports/sarif.py)."""
    checked, fixed, plan = tmp_path / "check.sarif", tmp_path / "fix.sarif", tmp_path / "p.yaml"
    assert cli("check", EXAMPLES / "lab.json", "--sarif", checked).code == 1
    assert cli("fix", EXAMPLES / "lab.json", "-o", plan, "--sarif", fixed).code == 0
    steps = yaml.safe_load(plan.read_text())["steps"]
    for path, proven, where in ((checked, False, ""), (fixed, True, str(plan))):
        log = validate_sarif(path.read_bytes())
        results = fail_results(log)
        assert all("fixes" not in r for r in results)
        with_fix = [r for r in results if "fix" in r["properties"]]
        assert with_fix, "failures fix repairs carry their steps"
        for r in with_fix:
            fix = r["properties"]["fix"]
            assert (fix["proven"], fix["plan"]) == (proven, where)
            assert fix["steps"] and all(s.startswith("step ") for s in fix["steps"])
            assert all(f"/{len(steps)}: " in s for s in fix["steps"])
    # The history fix cannot repair has no steps; its next step says why.
    reverted = [
        r for r in fail_results(validate_sarif(checked.read_bytes())) if r["ruleId"] == "SA010"
    ]
    assert reverted and all("fix" not in r["properties"] for r in reverted)
    assert all("(no fix step: history" in r["properties"]["nextStep"] for r in reverted)


def test_check_works_fix_steps_out_only_for_reports_that_show_them(
    cli: Cli, tmp_path: Path, monkeypatch: Any
) -> None:
    from scalearc_lint.commands import check

    calls: list[int] = []
    real = check.suggested_fix_steps

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(check, "suggested_fix_steps", counted)
    assert cli("check", EXAMPLES / "lab.json", "--json", tmp_path / "r.json").code == 1
    assert cli("check", EXAMPLES / "lab.json", "--junit", tmp_path / "r.xml").code == 1
    assert calls == []
    assert cli("check", EXAMPLES / "lab.json", "--html", tmp_path / "r.html").code == 1
    assert calls == [1]


# -- each generator, on the class of inventory it must handle ------------------------------


def plan_of(sketch: dict[str, Any]) -> tuple[list[dict[str, Any]], str]:
    """The steps and text of the plan fix writes for a one-vCenter sketch (proven)."""
    fixed = run_fix(build(sketch))
    assert not fixed.problems, fixed.problems
    ((_, text),) = fixed.texts.items()
    return yaml.safe_load(text)["steps"], text


def failing_rules(sketch: dict[str, Any]) -> set[str]:
    """The rules failing on a sketch; fix then writes no plan (there is nothing to do)."""
    fixed = run_fix(build(sketch))
    assert not fixed.texts and not fixed.problems
    return {r.rule for r in fixed.document.results if r.status is Status.FAIL}


def kinds(steps: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [next((k, str(v)) for k, v in step.items() if k != "note") for step in steps]


def test_a_cluster_ignoring_overrides_gets_the_switch_listing_every_vm_it_changes() -> None:
    steps, text = plan_of(
        {
            "clusters": {"cl-1": {"vm_overrides_enabled": False}},
            "appliances": {
                "sa-1": {},  # manual override, ignored today
                "sa-2": {"drs": "none"},
                "sa-3": {"drs": "fullyAutomated"},
            },
        }
    )
    assert kinds(steps) == [
        ("drs_override", "sa-2"),
        ("drs_override", "sa-3"),
        ("drs_vm_overrides", "cl-1"),
    ]
    comment = next(line for line in text.splitlines() if "VMs whose DRS automation" in line)
    # Only sa-1's automation changes with the switch; sa-3's own override is fully automated.
    assert comment.endswith("VMs whose DRS automation changes (1): sa-1 fullyAutomated -> manual")


def test_a_raised_child_pool_has_its_parent_settled_first() -> None:
    steps, text = plan_of(
        {
            "pool": {"cpu": 4000, "memory": 8192},  # exactly sa-1's size
            # A pool reserving nothing, not expandable: sa-2 draws on no reservation.
            "pools": {"batch": {"parent": "scalearc", "cpu": 0, "memory": 0, "expandable": False}},
            "appliances": {"sa-1": {}, "sa-2": {"pool": "batch"}},
        }
    )
    assert [s for s in steps if "set_reservation" in s] == [
        {"set_reservation": "scalearc", "cpu": 8000, "memory": 16384},
        {"set_reservation": "batch", "cpu": 4000, "memory": 8192},
    ]
    assert "taken from the pool above it" in text


def test_an_appliance_in_the_root_pool_moves_into_a_new_pool_reserving_its_own_too() -> None:
    steps, _ = plan_of({"appliances": {"sa-1": {"pool": "root", "memory_reservation": 2048}}})
    assert steps == [
        {
            "create_pool": "scalearc-appliances",
            "parent": "Resources",
            "cpu_reservation": 4000,
            "memory_reservation": 8192,
            "expandable": False,
        },
        {"move_to_pool": "sa-1", "pool": "scalearc-appliances"},
    ]


def test_the_secondary_moves_only_where_its_mandatory_vm_host_rules_allow() -> None:
    steps, _ = plan_of(
        {
            "hosts": 4,
            "appliances": {
                "sa-p": {"role": "primary", "pair": "p1", "host": "esx-1"},
                "sa-s": {"role": "secondary", "pair": "p1", "host": "esx-1"},
            },
            "vm_host_rules": [{"vms": ["sa-s"], "hosts": ["esx-1", "esx-4"], "mandatory": True}],
        }
    )
    assert {"migrate": "sa-s", "to": "esx-4", "mode": "cold"} in steps


def test_a_running_secondary_whose_primary_is_off_goes_down_only_after_a_confirmed_outage() -> None:
    steps, text = plan_of(
        {
            "appliances": {
                "sa-p": {"role": "primary", "pair": "p1", "power_state": "poweredOff"},
                "sa-s": {"role": "secondary", "pair": "p1", "nics": [{"type": "generated"}]},
            }
        }
    )
    assert kinds(steps) == [
        ("confirm_outage", "sa-s"),
        ("power_off", "sa-s"),
        ("set_mac", "sa-s"),
        ("power_on", "sa-s"),
    ]
    assert "a secondary whose primary sa-p is not running, so it may be carrying the traffic" in (
        text
    )


def test_a_primary_whose_secondary_is_in_another_vcenter_is_listed_not_switched() -> None:
    snapshots = build_estate(
        {
            "appliances": {
                "sa-p": {"role": "primary", "pair": "p1", "nics": [{"type": "generated"}]}
            },
            "vcenters": {
                "vc-b.example": {"appliances": {"sa-s": {"role": "secondary", "pair": "p1"}}}
            },
        }
    )
    fixed = run_fix(snapshots)
    assert not fixed.problems and not fixed.texts
    (listed,) = [u for plan in fixed.plans for u in plan.unplanned]
    assert listed.finding.rule == "SA001"
    assert "whose secondary sa-s is in vCenter vc-b.example: switch the pair over by hand" in (
        listed.reason
    )


def test_appliances_sharing_a_mac_across_vcenters_end_with_one_keeper() -> None:
    snapshots = build_estate(
        {
            "appliances": {"sa-1": {"nics": [{"mac": "00:50:56:00:aa:01"}]}},
            "vcenters": {
                "vc-b.example": {"appliances": {"sa-2": {"nics": [{"mac": "00:50:56:00:aa:01"}]}}}
            },
        }
    )
    fixed = run_fix(snapshots)
    assert not fixed.problems
    changed = [
        (plan.vcenter, step.target, step.params["mac"])
        for plan in fixed.plans
        for step in plan.steps
        if step.op == "set_mac"
    ]
    assert len(changed) == 1, "one of the two keeps the MAC, the other gets a new one"
    (_, _, new_mac) = changed[0]
    assert new_mac != "00:50:56:00:aa:01" and int(new_mac.split(":")[3], 16) <= 0x3F


def fixed_with_config(
    cli: Cli, tmp_path: Path, sketch: dict[str, Any], config: str
) -> list[dict[str, Any]]:
    """The steps ``fix --config`` writes for a sketch with that config file's text."""
    path = tmp_path / "s.json"
    path.write_bytes(encode_snapshot(build(sketch)))
    config_path = tmp_path / "config.yaml"
    config_path.write_text(config)
    plan = tmp_path / "plan.yaml"
    ran = cli("fix", path, "--config", config_path, "-o", plan)
    assert ran.code == 0, ran.err
    steps: list[dict[str, Any]] = yaml.safe_load(plan.read_text())["steps"]
    return steps


def test_strict_arp_notify_sets_what_the_snapshot_shows_unset_too(cli: Cli, tmp_path: Path) -> None:
    # notify switches off, MAC changes unset: setting only the first would leave SA003
    # unknown in the planned state, which the proof rejects.
    sketch = {
        "dv_network": {"notify_switches": False, "mac_changes": None},
        "appliances": {"sa-1": {"nics": [{"network": "dv"}]}},
    }
    steps = fixed_with_config(cli, tmp_path, sketch, "rules:\n  SA003:\n    strict: true\n")
    assert steps == [
        {"portgroup_policy": "dv-scalearc", "notify_switches": True, "mac_changes": True}
    ]


# -- SA013-SA016 --------------------------------------------------------------------------


def pair(**primary: Any) -> dict[str, Any]:
    """A running pair on separate hosts, the primary with ``primary``'s settings."""
    return {
        "hosts": 3,
        "appliances": {
            "sa-p": {"role": "primary", "pair": "p1", "host": "esx-1", **primary},
            "sa-s": {"role": "secondary", "pair": "p1", "host": "esx-2"},
        },
    }


def test_a_pair_member_ha_would_restart_by_any_route_gets_a_disabled_override() -> None:
    # Its own override, an override deferring to the cluster's default (high), and no
    # override under the cluster's unset default (medium): each is restarted by HA.
    for clusters, primary in (
        ({}, {"ha_restart": "high"}),
        ({"cl-1": {"ha_default": "high"}}, {"ha_restart": "clusterRestartPriority"}),
        ({}, {"ha_restart": "none"}),
    ):
        steps, text = plan_of({**pair(**primary), "clusters": clusters})
        assert steps == [{"ha_override": "sa-p", "restart_priority": "disabled"}], primary
        assert "# repairs SA013 sa-p" in text and "brought back by hand" in text


def test_a_standalone_appliance_keeps_ha_restart() -> None:
    # HA's restart is a standalone's only recovery: SA013 does not judge it, fix leaves it.
    assert failing_rules({"appliances": {"sa-1": {"ha_restart": "none"}}}) == set()


def test_an_ha_restart_in_history_gets_the_override_that_prevents_a_repeat() -> None:
    fixed = run_fix(
        build({**pair(ha_restart="high"), "events": [{"vm": "sa-p", "kind": "ha-restart"}]})
    )
    assert not fixed.problems, fixed.problems
    (plan,) = fixed.plans
    (step,) = plan.steps
    assert (step.op, step.params) == ("ha_override", {"restart_priority": "disabled"})
    assert [f.rule for f in step.prevents] == ["SA013"] and not step.repairs
    # Already disabled: nothing prevents more, the finding is listed.
    fixed = run_fix(build({**pair(), "events": [{"vm": "sa-p", "kind": "ha-restart"}]}))
    (listed,) = [u for plan in fixed.plans for u in plan.unplanned if u.finding.rule == "SA013"]
    assert listed.reason.startswith("history: vSphere HA restarted it")


def test_a_limit_below_the_size_is_lifted_where_it_is_set() -> None:
    # The VM's own CPU limit, of one resource: only that one.
    steps, text = plan_of({"appliances": {"sa-1": {"cpu_limit": 1000}}})
    assert steps == [{"remove_limit": "sa-1", "of": "vm", "resource": "cpu"}]
    assert "sa-1 may use all the CPU it is configured for" in text
    # Both of the VM's limits: one step.
    steps, _ = plan_of({"appliances": {"sa-1": {"cpu_limit": 1000, "memory_limit": 1024}}})
    assert steps == [{"remove_limit": "sa-1", "of": "vm"}]
    # A limit at the size is no problem: nothing to lift.
    assert failing_rules({"appliances": {"sa-1": {"memory_limit": 8192}}}) == set()


def test_a_pool_limit_above_the_appliance_is_lifted_saying_what_else_it_frees() -> None:
    steps, text = plan_of(
        {
            "pool": {"memory_limit": 4096},
            "pools": {"batch": {"parent": "scalearc", "cpu": 0, "memory": 0}},
            "appliances": {"sa-1": {"pool": "batch"}},
            "vms": {"web-1": {"pool": "scalearc"}},
        }
    )
    assert steps == [{"remove_limit": "scalearc", "of": "pool", "resource": "memory"}]
    assert "the 2 VM(s) in it and in the pools below it (sa-1, web-1)" in text


def test_a_limit_is_lifted_before_a_reservation_is_raised_above_it() -> None:
    steps, _ = plan_of(
        {"pool": {"cpu": 0, "memory": 0, "memory_limit": 4096}, "appliances": {"sa-1": {}}}
    )
    assert [next(iter(s)) for s in steps] == ["remove_limit", "set_reservation"]


def test_a_vm_needing_consolidation_is_consolidated_after_its_snapshots_go() -> None:
    steps, text = plan_of(
        {"appliances": {"sa-1": {"consolidation_needed": True, "snapshots": ["1h", "2h"]}}}
    )
    assert steps == [
        {"remove_snapshot": "sa-1", "name": "snap-1"},
        {"consolidate": "sa-1"},
    ]
    assert "merges the delta disks" in text


def test_a_chain_of_snapshots_keeps_only_the_newest() -> None:
    # snap-0 (3h) <- snap-1 (2h) <- snap-2 (1h): removing the older two moves snap-2 up.
    steps, _ = plan_of(
        {"appliances": {"sa-1": {"snapshots": ["3h", "2h", "1h"], "snapshots_chained": True}}}
    )
    assert steps == [
        {"remove_snapshot": "sa-1", "name": "snap-0"},
        {"remove_snapshot": "sa-1", "name": "snap-1"},
    ]


def test_max_snapshots_keeps_the_newest_allowed(cli: Cli, tmp_path: Path) -> None:
    sketch = {"appliances": {"sa-1": {"snapshots": ["4h", "1h", "3h", "2h"]}}}
    steps = fixed_with_config(cli, tmp_path, sketch, "rules:\n  SA015:\n    max_snapshots: 2\n")
    assert steps == [  # 4h and 3h old
        {"remove_snapshot": "sa-1", "name": "snap-0"},
        {"remove_snapshot": "sa-1", "name": "snap-2"},
    ]


def test_snapshots_sharing_a_name_go_together() -> None:
    # A removal by name removes every snapshot so called: the newest 'daily' cannot be
    # kept while an older 'daily' goes.
    def node(moid: str, name: str, hours: int) -> VmSnapshot:
        return VmSnapshot(moid=moid, name=name, created=NOW - timedelta(hours=hours))

    (vm,) = (
        msgspec.structs.replace(
            v,
            snapshots=[node("s-1", "daily", 3), node("s-2", "weekly", 2), node("s-3", "daily", 1)],
        )
        for v in build({"appliances": {"sa-1": {}}}).vms.values()
        if v.name == "sa-1"
    )
    assert _snapshots_beyond(vm, 1) == {"daily", "weekly"}  # nothing is left
    assert _snapshots_beyond(vm, 2) == {"daily"}  # 'weekly' stays


def test_a_disabled_rule_whose_name_another_rule_shares_is_enabled_by_its_key() -> None:
    # vSphere does not make rule names unique in a cluster (ClusterRuleInfo.key is).
    snapshot = build(
        {
            "hosts": 4,
            "appliances": {
                "sa-p1": {"role": "primary", "pair": "p1", "host": "esx-1"},
                "sa-s1": {"role": "secondary", "pair": "p1", "host": "esx-2"},
                "sa-p2": {"role": "primary", "pair": "p2", "host": "esx-3"},
                "sa-s2": {"role": "secondary", "pair": "p2", "host": "esx-4"},
            },
            "pairs": {"p1": {"anti_affinity": "disabled"}},
        }
    )
    (cluster,) = snapshot.clusters.values()
    rules = [
        msgspec.structs.replace(r, name="scalearc-p1-apart") if r.name == "scalearc-p2-apart" else r
        for r in cluster.rules
    ]
    cluster = msgspec.structs.replace(cluster, rules=rules)
    snapshot = msgspec.structs.replace(snapshot, clusters={cluster.moid: cluster})
    disabled = next(r for r in rules if not r.enabled)

    fixed = run_fix(snapshot)

    assert not fixed.problems, fixed.problems
    ((_, text),) = fixed.texts.items()
    steps = yaml.safe_load(text)["steps"]
    assert {
        "enable_anti_affinity": "scalearc-p1-apart",
        "cluster": cluster.name,
        "key": disabled.key,
    } in steps


def test_a_pool_limit_below_the_reservation_it_needs_is_lifted_first() -> None:
    # Two 8192 MB appliances under a 10,000 MB pool limit: each fits (SA014 passes), the
    # reservation both need (16,384 MB) does not, and vCenter refuses a reservation above
    # a limit: the limit goes first, and the plan is proven.
    steps, text = plan_of(
        {
            "pool": {"cpu": 0, "memory": 0, "memory_limit": 10000},
            "appliances": {"sa-1": {}, "sa-2": {}},
        }
    )
    assert kinds(steps)[:2] == [("remove_limit", "scalearc"), ("set_reservation", "scalearc")]
    assert steps[0] == {"remove_limit": "scalearc", "of": "pool", "resource": "memory"}
    assert steps[1]["memory"] == 16384
    assert "memory limit of 10000 MB is below the 16384 MB it must reserve" in text
