"""vSphere inside the what-if simulation: usable source and destination hosts, networks at the
destination, standalone hosts' root pools, and a plan judged at every step. Each test: a
snapshot, a plan, the expected outcome and the expected planned state."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec
import pytest

from scalearc_lint.audit.baseline import new_failures
from scalearc_lint.engine.config import Config, RuleSettings
from scalearc_lint.engine.rule import NoOptions, Severity, Status
from scalearc_lint.errors import InputError
from scalearc_lint.snapshot.inventory import Inventory
from scalearc_lint.snapshot.sketch import build
from scalearc_lint.testing import run_whatif, secondary_live_move
from tests.audit.conftest import host_of, vm_moid

#: One pair on four hosts (sa-p on esx-1, sa-s on esx-2) and an ordinary VM on esx-2.
PAIR: Mapping[str, Any] = {
    "hosts": 4,
    "appliances": {
        "sa-p": {"role": "primary", "pair": "p1", "host": "esx-1"},
        "sa-s": {"role": "secondary", "pair": "p1", "host": "esx-2"},
    },
    "vms": {"web-1": {"host": "esx-2"}},
}


DV_NICS = [{"network": "dv"}]
#: PAIR with both members on the distributed portgroup dv-scalearc.
DV_PAIR: Mapping[str, Any] = {
    **PAIR,
    "appliances": {
        "sa-p": {"role": "primary", "pair": "p1", "host": "esx-1", "nics": DV_NICS},
        "sa-s": {"role": "secondary", "pair": "p1", "host": "esx-2", "nics": DV_NICS},
    },
}


def with_hosts(**states: Mapping[str, Any]) -> Mapping[str, Any]:
    """PAIR with host states by host name."""
    return {**PAIR, "host_states": states}


def plan_results(whatif: Any, rule: str) -> list[Any]:
    """The plan results of one rule."""
    return [r for r in whatif.document.results if r.rule == rule]


# -- source hosts ----------------------------------------------------------------------


@pytest.mark.parametrize("state", ["disconnected", "notResponding"])
@pytest.mark.parametrize(
    "steps",
    [
        [{"migrate": "sa-s", "to": "esx-3", "mode": "live"}],
        [{"migrate": "web-1", "to": "esx-3", "mode": "live"}],
        [{"maintenance": "esx-2"}],
    ],
    ids=["appliance", "ordinary-vm", "maintenance"],
)
def test_nothing_leaves_a_host_vcenter_cannot_reach(
    state: str, steps: list[dict[str, Any]]
) -> None:
    snapshot = build(with_hosts(**{"esx-2": {"connection_state": state}}))
    with pytest.raises(InputError) as info:
        run_whatif(snapshot, steps)
    assert f"plan.yaml:2: step 1 ({next(iter(steps[0]))}):" in str(info.value)
    assert state in str(info.value) and "cannot" in str(info.value)


# -- destination hosts -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "words"),
    [
        ({"power_state": "standBy"}, "is in standby (DPM)"),
        ({"in_maintenance": True}, "is in maintenance mode"),
        ({"connection_state": "notResponding"}, "is notResponding"),
        ({"power_state": "poweredOff"}, "is poweredOff"),
    ],
)
def test_destination_must_be_usable(state: Mapping[str, Any], words: str) -> None:
    snapshot = build(with_hosts(**{"esx-3": state}))
    where = re.escape(f"plan.yaml:3: step 1 (migrate): host esx-3 {words}")
    with pytest.raises(InputError, match=where):
        run_whatif(snapshot, [{"migrate": "sa-s", "to": "esx-3", "mode": "live"}])


def test_maintenance_evacuates_to_no_host_in_standby() -> None:
    snapshot = build(with_hosts(**{"esx-3": {"power_state": "standBy"}}))
    run = run_whatif(snapshot, [{"maintenance": "esx-2"}]).run
    # esx-3, the emptiest host, sleeps: sa-s avoids its partner's esx-1, web-1 takes the rest.
    assert (host_of(run.final, "sa-s"), host_of(run.final, "web-1")) == ("esx-4", "esx-1")


def test_destination_without_the_standard_portgroup_is_refused() -> None:
    snapshot = build({**PAIR, "host_networks": {"esx-3": ["VM Network"]}})
    with pytest.raises(InputError) as info:
        run_whatif(snapshot, [{"migrate": "sa-s", "to": "esx-3", "mode": "live"}])
    message = str(info.value)
    assert "plan.yaml:3: step 1 (migrate): esx-3 lacks the network of sa-s's" in message
    assert "standard network 'scalearc-net'" in message and "compatibility check" in message


def test_destination_outside_the_distributed_switch_is_refused() -> None:
    snapshot = build({**DV_PAIR, "dv_hosts": ["esx-1", "esx-2", "esx-4"]})
    with pytest.raises(InputError, match="distributed network 'dv-scalearc'"):
        run_whatif(snapshot, [{"migrate": "sa-s", "to": "esx-3", "mode": "live"}])
    accepted = run_whatif(snapshot, secondary_live_move("sa-s", "esx-4"))
    assert host_of(accepted.run.final, "sa-s") == "esx-4"
    assert new_failures(accepted.document.results) == []


def test_a_disconnected_vnic_does_not_need_its_network() -> None:
    snapshot = build({**PAIR, "host_networks": {"esx-3": []}})
    plan = [{"migrate": "web-1", "to": "esx-3", "mode": "live"}]
    with pytest.raises(InputError, match="lacks the network of web-1's Network adapter 1"):
        run_whatif(snapshot, plan)
    moid = vm_moid(snapshot, "web-1")
    web = snapshot.vms[moid]
    nic = msgspec.structs.replace(web.nics[0], connected=False)
    web = msgspec.structs.replace(web, nics=[nic])
    snapshot = msgspec.structs.replace(snapshot, vms={**snapshot.vms, moid: web})
    run = run_whatif(snapshot, plan).run
    assert host_of(run.final, "web-1") == "esx-3"


def test_maintenance_evacuates_only_to_hosts_with_the_vms_networks() -> None:
    # esx-3 would be the least loaded host for sa-s, but lacks its portgroup.
    snapshot = build({**PAIR, "host_networks": {"esx-3": ["VM Network"]}})
    run = run_whatif(snapshot, [{"maintenance": "esx-2"}]).run
    assert host_of(run.final, "sa-s") == "esx-4"
    assert host_of(run.final, "web-1") == "esx-3"  # it only needs VM Network


def test_maintenance_no_host_can_take_is_a_plan_error() -> None:
    snapshot = build({**PAIR, "host_networks": {"esx-1": ["VM Network"], "esx-3": [], "esx-4": []}})
    with pytest.raises(InputError, match=r"plan\.yaml:2: step 1 \(maintenance\): no usable host"):
        run_whatif(snapshot, [{"maintenance": "esx-2"}])


# -- what the snapshot cannot tell: a finding, never a silent pass ------------------------


def test_unexported_switch_members_make_plan002_fail_not_pass() -> None:
    snapshot = build({**DV_PAIR, "dv_hosts": "unknown"})
    whatif = run_whatif(snapshot, secondary_live_move("sa-s", "esx-3"))
    assert host_of(whatif.run.final, "sa-s") == "esx-3"  # the simulation assumed it
    (assumed,) = whatif.run.outcomes[1].unverified
    assert assumed.vm == vm_moid(snapshot, "sa-s") and "esx-3 carries" in assumed.what
    (plan002,) = plan_results(whatif, "PLAN002")
    assert (plan002.status, plan002.severity) == (Status.FAIL, Severity.ERROR)
    assert "cannot be established" in plan002.message and "esx-3 carries" in plan002.message


def test_unreadable_portgroups_fail_plan002_at_the_configured_severity() -> None:
    snapshot = build(
        {**PAIR, "unreadable": [{"kind": "host", "host": "esx-3", "property": "portgroups"}]}
    )
    config = Config(rules={"PLAN002": RuleSettings(True, Severity.WARNING, NoOptions())})
    for settings, severity in ((None, Severity.ERROR), (config, Severity.WARNING)):
        whatif = run_whatif(snapshot, secondary_live_move("sa-s", "esx-3"), config=settings)
        (result,) = plan_results(whatif, "PLAN002")
        assert (result.status, result.severity) == (Status.FAIL, severity)
        assert "portgroups of host esx-3 not readable" in result.message


# -- standalone hosts ------------------------------------------------------------------


def test_move_to_a_standalone_host_lands_in_its_root_pool_and_sa007_judges_it_there() -> None:
    snapshot = build(
        {
            "hosts": 2,
            "standalone_hosts": 1,
            "appliances": {"sa-solo": {"role": "standalone", "host": "esx-1"}},
        }
    )
    whatif = run_whatif(
        snapshot,
        [
            {"power_off": "sa-solo"},
            {"migrate": "sa-solo", "to": "standalone-1", "mode": "cold"},
            {"power_on": "sa-solo"},
        ],
    )
    final = whatif.run.final
    vm = final.vms[vm_moid(final, "sa-solo")]
    standalone = next(h for h in final.hosts.values() if h.name == "standalone-1")
    assert (vm.host, vm.cluster) == (standalone.moid, None)
    assert vm.resource_pool == Inventory(final).root_pool(standalone)
    assert final.resource_pools[vm.resource_pool or ""].owner == standalone.moid
    (old_cluster,) = final.clusters.values()
    assert vm.moid not in old_cluster.drs.vm_overrides
    (sa007,) = [r for r in whatif.document.results if r.rule == "SA007"]
    assert (sa007.status, sa007.baseline) == (Status.FAIL, "new")


def test_move_between_standalone_hosts_changes_root_pool() -> None:
    snapshot = build({"hosts": 2, "standalone_hosts": 2, "vms": {"web-1": {"host": "esx-1"}}})
    run = run_whatif(
        snapshot,
        [
            {"migrate": "web-1", "to": "standalone-1", "mode": "live"},
            {"migrate": "web-1", "to": "standalone-2", "mode": "live"},
        ],
    ).run
    inventory = Inventory(run.final)
    pools = [o.after.snapshot.vms[vm_moid(snapshot, "web-1")].resource_pool for o in run.outcomes]
    hosts = {h.name: h for h in run.final.hosts.values()}
    assert pools == [
        inventory.root_pool(hosts["standalone-1"]),
        inventory.root_pool(hosts["standalone-2"]),
    ]
    assert pools[0] != pools[1]


# -- judged at every step --------------------------------------------------------------


def test_a_pair_sharing_a_host_during_the_plan_is_a_finding() -> None:
    snapshot = build(PAIR)
    whatif = run_whatif(
        snapshot,
        [
            *secondary_live_move("sa-s", "esx-1"),  # 1-5: onto the primary's host
            {"switchover": "p1"},  # 6: switchover with both on esx-1
            *secondary_live_move("sa-p", "esx-3"),  # 7-11: apart again
        ],
    )
    final = whatif.run.final
    assert (host_of(final, "sa-p"), host_of(final, "sa-s")) == ("esx-3", "esx-1")
    failing = [r for r in whatif.document.results if r.status is Status.FAIL]
    assert [(r.rule, r.object.name.split()[1]) for r in failing] == [("PLAN009", "2")]
    message = failing[0].message
    assert "shares host esx-1 after this step until step 8" in message
    assert "6 (switchover)" in message
    assert next(r for r in whatif.document.results if r.rule == "PLAN004").status is Status.PASS


def test_a_pair_together_to_the_end_is_plan004_not_plan009() -> None:
    snapshot = build(PAIR)
    whatif = run_whatif(snapshot, secondary_live_move("sa-s", "esx-1"))
    failing = {r.rule for r in whatif.document.results if r.status is Status.FAIL}
    assert "PLAN004" in failing and "PLAN009" not in failing


# -- reservations and limits -------------------------------------------------------------


#: One appliance (8192 MB) in pool scalearc, which reserves nothing and caps memory at
#: 10,000 MB: above the appliance's size (SA014 passes), below what two would need.
CAPPED_POOL: Mapping[str, Any] = {
    "pool": {"cpu": 0, "memory": 0, "memory_limit": 10000},
    "appliances": {"sa-1": {}},
}


def test_a_reservation_above_the_pools_limit_is_refused_as_vcenter_does() -> None:
    with pytest.raises(InputError) as info:
        run_whatif(build(CAPPED_POOL), [{"set_reservation": "scalearc", "memory": 16384}])
    message = str(info.value)
    assert "step 1 (set_reservation): a memory reservation of 16384 MB is above pool " in message
    assert "scalearc's memory limit of 10000 MB" in message and "remove_limit first" in message


def test_a_reservation_at_the_limit_or_after_lifting_it_is_admitted() -> None:
    at_limit = run_whatif(build(CAPPED_POOL), [{"set_reservation": "scalearc", "memory": 10000}])
    [pool] = [p for p in at_limit.run.final.resource_pools.values() if p.name == "scalearc"]
    assert (pool.memory.reservation, pool.memory.limit) == (10000, 10000)
    lifted = run_whatif(
        build(CAPPED_POOL),
        [
            {"remove_limit": "scalearc", "of": "pool", "resource": "memory"},
            {"set_reservation": "scalearc", "memory": 16384},
        ],
    )
    assert not new_failures(lifted.document.results)
