"""How vSphere settings and history resolve, in the one place rules, whatif and fix share:
DRS automation, VM-Host pins, reservations through pools, migrations from event chains,
HA restart priorities, limits up the pool tree, snapshot chains."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from scalearc_lint.engine.rule import Severity, Status
from scalearc_lint.snapshot.builder import InventoryBuilder
from scalearc_lint.snapshot.drs import effective_drs_automation
from scalearc_lint.snapshot.ha import effective_ha_restart
from scalearc_lint.snapshot.inventory import Inventory, outside_vmware_static_range, snapshot_depth
from scalearc_lint.snapshot.limits import effective_limit
from scalearc_lint.snapshot.model import (
    EVENT_TYPES,
    Cluster,
    DrsConfig,
    DrsVmOverride,
    Event,
    HaConfig,
    HaVmOverride,
    Snapshot,
)
from scalearc_lint.snapshot.sketch import build
from scalearc_lint.testing import run_rule

# -- DRS automation --------------------------------------------------------------------


def _cluster(
    *,
    enabled: bool = True,
    default: str | None = None,
    switch: bool | None = True,
    override: DrsVmOverride | None = None,
) -> Cluster:
    overrides = {"vm-1": override} if override is not None else {}
    drs = DrsConfig(
        enabled=enabled,
        default_behavior=default,  # type: ignore[arg-type]
        enable_vm_behavior_overrides=switch,
        vm_overrides=overrides,
    )
    return Cluster(moid="domain-c1", name="c", datacenter="datacenter-1", drs=drs)


MANUAL = DrsVmOverride(behavior="manual")
FULLY = DrsVmOverride(behavior="fullyAutomated")
OFF = DrsVmOverride(enabled=False)


@pytest.mark.parametrize(
    ("cluster", "migrates"),
    [
        (_cluster(enabled=False, override=FULLY), False),
        (_cluster(), True),
        (_cluster(default="partiallyAutomated"), False),
        (_cluster(override=MANUAL), False),
        (_cluster(override=OFF), False),
        (_cluster(override=DrsVmOverride(enabled=True)), True),  # no behaviour: the default
        (_cluster(default="manual", override=FULLY), True),
        (_cluster(switch=False, override=MANUAL), True),
        (_cluster(switch=False, override=OFF), True),  # "disabled for this VM" is an override
        (_cluster(switch=False, default="manual", override=FULLY), False),
        (_cluster(switch=None, override=MANUAL), None),
        (_cluster(switch=None, default="manual", override=FULLY), None),
        (_cluster(switch=None, default="manual", override=OFF), False),
        (_cluster(switch=None, override=FULLY), True),
        (_cluster(switch=None), True),
    ],
)
def test_effective_drs_automation(cluster: Cluster, migrates: bool | None) -> None:
    assert effective_drs_automation(cluster, "vm-1").migrates is migrates


# -- VM-Host rules -----------------------------------------------------------------------


def _pinned(rules: list[dict[str, object]], hosts: int = 4) -> Inventory:
    return Inventory(
        build(
            {
                "hosts": hosts,
                "appliances": {
                    "sa-p": {"role": "primary", "pair": "p1"},
                    "sa-s": {"role": "secondary", "pair": "p1"},
                },
                "vm_host_rules": rules,
            }
        )
    )


def _moid(inventory: Inventory, name: str) -> str:
    return next(m for m, vm in inventory.snapshot.vms.items() if vm.name == name)


def _host_names(inventory: Inventory, moids: frozenset[str] | None) -> set[str] | None:
    if moids is None:
        return None
    return {inventory.snapshot.hosts[h].name for h in moids}


def test_two_must_run_on_rules_confine_a_vm_to_their_common_hosts() -> None:
    inventory = _pinned(
        [
            {"vms": ["sa-p"], "hosts": ["esx-1", "esx-2", "esx-3"]},
            {"vms": ["sa-p"], "hosts": ["esx-2", "esx-3", "esx-4"]},
        ]
    )
    pinning = inventory.host_pinning(_moid(inventory, "sa-p"))
    assert _host_names(inventory, pinning.hosts) == {"esx-2", "esx-3"}
    assert pinning.rules == ("vm-host-1", "vm-host-2")
    assert inventory.host_pinning(_moid(inventory, "sa-s")).hosts is None


def test_should_disabled_and_must_not_rules_confine_nothing() -> None:
    inventory = _pinned(
        [
            {"vms": ["sa-p"], "hosts": ["esx-1"], "mandatory": False},
            {"vms": ["sa-p"], "hosts": ["esx-2"], "enabled": False},
            {"vms": ["sa-p"], "hosts": ["esx-3"], "affine": False},
        ]
    )
    pinning = inventory.host_pinning(_moid(inventory, "sa-p"))
    assert pinning.hosts is None
    assert pinning.inactive == ("vm-host-1", "vm-host-2")


def test_must_not_run_on_rules_do_not_keep_a_pair_apart() -> None:
    inventory = _pinned(
        [
            {"vms": ["sa-p"], "hosts": ["esx-2"], "affine": False},
            {"vms": ["sa-s"], "hosts": ["esx-1"], "affine": False},
        ],
        hosts=2,
    )
    snapshot = inventory.snapshot
    # Drop the sketch's anti-affinity rule: only the "must not" rules are left.
    cluster = next(iter(snapshot.clusters.values()))
    rules = [r for r in cluster.rules if r.kind == "vm-host"]
    snapshot = msgspec.structs.replace(
        snapshot, clusters={cluster.moid: msgspec.structs.replace(cluster, rules=rules)}
    )
    (result,) = run_rule("SA005", snapshot)
    assert result.status is Status.FAIL


# -- reservations ------------------------------------------------------------------------


def _guarantees(snapshot: Snapshot, name: str) -> tuple[str, str]:
    inventory = Inventory(snapshot)
    vm = next(vm for vm in snapshot.vms.values() if vm.name == name)
    cpu, memory = inventory.guaranteed_resources(vm)
    return cpu.status, memory.status


def test_expandable_pools_with_none_chain_up_to_the_reserved_ancestor() -> None:
    snapshot = build(
        {
            "appliances": {"sa-1": {"pool": "grandchild"}},
            "pools": {
                "child": {"parent": "scalearc"},
                "grandchild": {"parent": "child"},
            },
        }
    )
    inventory = Inventory(snapshot)
    vm = next(vm for vm in snapshot.vms.values() if vm.name == "sa-1")
    _, memory = inventory.guaranteed_resources(vm)
    assert memory.headroom is not None and memory.headroom.pool.name == "scalearc"
    assert memory.status == "guaranteed"
    pool = inventory.pool_headroom(vm.resource_pool or "", "memory")
    assert pool is not None and pool.appliances == (vm.moid,)


def test_a_reservation_held_below_an_expandable_pool_consumes_the_ancestor() -> None:
    snapshot = build(
        {
            "appliances": {"sa-1": {}},
            "pools": {
                "shared": {"parent": "scalearc"},
                "batch": {"parent": "shared", "memory": 4096},
            },
            "vms": {"job-1": {"pool": "shared", "memory_reservation": 2048}},
        }
    )
    inventory = Inventory(snapshot)
    vm = next(vm for vm in snapshot.vms.values() if vm.name == "sa-1")
    _, memory = inventory.guaranteed_resources(vm)
    assert memory.headroom is not None
    assert memory.headroom.held_by_others == 4096 + 2048
    assert memory.status == "short"


def test_powered_off_vms_reservations_count_and_templates_do_not() -> None:
    def status(**vm: object) -> str:
        snapshot = build(
            {
                "appliances": {"sa-1": {}},
                "vms": {"db-1": {"pool": "scalearc", "memory_reservation": 1024, **vm}},
            }
        )
        return _guarantees(snapshot, "sa-1")[1]

    assert status(power_state="poweredOff") == "short"  # it takes its share at power-on
    snapshot = build(
        {
            "appliances": {"sa-1": {}},
            "vms": {"tpl-1": {"pool": "scalearc", "memory_reservation": 1024}},
        }
    )
    tpl = next(m for m, vm in snapshot.vms.items() if vm.name == "tpl-1")
    vms = dict(snapshot.vms)
    vms[tpl] = msgspec.structs.replace(vms[tpl], template=True, power_state="poweredOff")
    assert _guarantees(msgspec.structs.replace(snapshot, vms=vms), "sa-1")[1] == "guaranteed"


def test_an_appliance_over_reserving_itself_leaves_less_for_its_neighbours() -> None:
    snapshot = build(
        {
            "appliances": {
                "sa-1": {"memory_reservation": 16384},  # twice its 8 GB
                "sa-2": {},
            },
            "pool": {"cpu": 8000, "memory": 16384},
        }
    )
    assert _guarantees(snapshot, "sa-1") == ("guaranteed", "guaranteed")
    assert _guarantees(snapshot, "sa-2")[1] == "short"
    (result,) = [r for r in run_rule("SA007", snapshot) if r.object.name == "sa-2"]
    assert result.severity is Severity.WARNING


def test_unknown_core_speed_makes_a_cpu_verdict_unknown_not_pass() -> None:
    snapshot = build({"appliances": {"sa-1": {}}})
    hosts = {m: msgspec.structs.replace(h, cpu_mhz=0) for m, h in snapshot.hosts.items()}
    snapshot = msgspec.structs.replace(snapshot, hosts=hosts)
    (result,) = run_rule("SA007", snapshot)
    assert result.status is Status.UNKNOWN


def test_the_root_pool_of_a_standalone_host_reserves_nothing() -> None:
    snapshot = build({"standalone_hosts": 1, "appliances": {"sa-1": {"host": "standalone-1"}}})
    (result,) = run_rule("SA007", snapshot)
    assert (result.status, result.severity) == (Status.FAIL, Severity.ERROR)
    assert "root pool" in result.message


def test_a_deep_chain_of_expandable_pools_resolves() -> None:
    """Resolved iteratively and remembered per pool: no recursion limit, no re-walk."""
    b = InventoryBuilder()
    dc = b.datacenter("dc")
    cluster = b.cluster("c", dc)
    host = b.host("h", cluster)
    parent = b.pool("reserved", b.root_pool(cluster), cpu_reservation=1, memory_reservation=1)
    for i in range(2000):
        parent = b.pool(f"p{i}", parent)
    b.vm("sa-1", host, pool=parent, custom_attributes={"scalearc-role": "standalone"})
    inventory = Inventory(b.build())
    (vm,) = list(inventory.snapshot.vms.values())
    headroom = inventory.pool_headroom(parent, "memory")
    assert headroom is not None and headroom.pool.name == "reserved"
    assert inventory.guaranteed_resources(vm)[1].headroom == headroom


# -- migrations --------------------------------------------------------------------------


def _events(*events: tuple[str, str, int | None]) -> Inventory:
    """An inventory with the appliances sa-1 and sa-2 and events (vm, type, chain)."""
    snapshot = build({"appliances": {"sa-1": {}, "sa-2": {}}})
    names = {vm.name: m for m, vm in snapshot.vms.items()}
    items = [
        Event(
            key=i + 1,
            type=type_id,
            kind=EVENT_TYPES[type_id],
            created=snapshot.exported_at - timedelta(hours=5 - i),
            chain_id=chain,
            vm=names[vm],
        )
        for i, (vm, type_id, chain) in enumerate(events)
    ]
    log = msgspec.structs.replace(snapshot.events, items=items)
    return Inventory(msgspec.structs.replace(snapshot, events=log))


def _moves(inventory: Inventory, name: str) -> list[tuple[bool | None, bool, int]]:
    moid = _moid(inventory, name)
    return [(m.live, m.drs, len(m.events)) for m in inventory.migrations_of(moid)]


def test_one_operations_events_are_one_migration() -> None:
    inventory = _events(
        ("sa-1", "VmBeingHotMigratedEvent", 7),
        ("sa-1", "DrsVmMigratedEvent", 7),
        ("sa-1", "VmBeingRelocatedEvent", 8),
        ("sa-1", "VmRelocatedEvent", 8),
    )
    assert _moves(inventory, "sa-1") == [(True, True, 2), (False, False, 2)]


def test_events_without_a_chain_id_are_each_their_own_operation() -> None:
    inventory = _events(("sa-1", "VmBeingRelocatedEvent", None), ("sa-1", "VmRelocatedEvent", None))
    assert _moves(inventory, "sa-1") == [(False, False, 1), (None, False, 1)]


def test_a_chain_is_never_shared_across_vms() -> None:
    inventory = _events(("sa-1", "VmBeingHotMigratedEvent", 7), ("sa-2", "VmRelocatedEvent", 7))
    assert _moves(inventory, "sa-2") == [(None, False, 1)]


def test_a_hot_start_wins_over_a_cold_one_in_the_same_chain() -> None:
    inventory = _events(
        ("sa-1", "VmBeingRelocatedEvent", 7),
        ("sa-1", "com.vmware.vc.vm.VmHotMigratingWithEncryptionEvent", 7),
        ("sa-1", "VmRelocatedEvent", 7),
    )
    assert _moves(inventory, "sa-1") == [(True, False, 3)]


def test_revert_and_ha_restart_are_not_migrations() -> None:
    inventory = _events(
        ("sa-1", "com.vmware.vc.vm.VmStateRevertedToSnapshot", None),
        ("sa-1", "com.vmware.vc.ha.VmRestartedByHAEvent", None),
    )
    assert _moves(inventory, "sa-1") == []


# -- MACs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mac", "outside"),
    [
        ("00:50:56:00:00:00", False),
        ("00:50:56:3f:ff:ff", False),
        ("00:50:56:40:00:00", True),
        ("00-50-56-80-12-34", True),
        ("00:50:56:BF:FF:FF", True),
        ("00:0c:29:12:34:56", False),  # ESXi's OUI for generated MACs: not a manual MAC's range
        ("02:00:5e:10:00:01", False),
        ("", False),
        ("00:50:56", False),
    ],
)
def test_vmware_static_range(mac: str, outside: bool) -> None:
    assert outside_vmware_static_range(mac) is outside


# -- vSphere HA restart priority -------------------------------------------------------


def _ha_cluster(
    *, enabled: bool = True, default: str | None = None, own: str | None = None
) -> Cluster:
    overrides = {"vm-1": HaVmOverride(restart_priority=own)} if own is not None else {}
    ha = HaConfig(enabled=enabled, default_restart_priority=default, vm_overrides=overrides)
    return Cluster(moid="domain-c-1", name="cl", datacenter="dc", ha=ha)


@pytest.mark.parametrize(
    ("cluster", "restarts", "priority"),
    [
        (_ha_cluster(), True, "medium"),  # unset default: vSphere's medium
        (_ha_cluster(enabled=False, own="high"), False, None),  # HA off acts on nothing
        (_ha_cluster(default="disabled"), False, "disabled"),
        (_ha_cluster(default="disabled", own="clusterRestartPriority"), False, "disabled"),
        (_ha_cluster(default="disabled", own="lowest"), True, "lowest"),
        (_ha_cluster(default="high", own="disabled"), False, "disabled"),
        (_ha_cluster(own=""), True, "medium"),  # an empty override defers too
    ],
)
def test_effective_ha_restart(cluster: Cluster, restarts: bool, priority: str | None) -> None:
    found = effective_ha_restart(cluster, "vm-1")
    assert (found.restarts, found.priority) == (restarts, priority), found.reason


def test_an_unrecorded_default_is_unknown_only_where_the_vm_defers_to_it() -> None:
    assert effective_ha_restart(_ha_cluster(), "vm-1", default_recorded=False).restarts is None
    own = effective_ha_restart(_ha_cluster(own="disabled"), "vm-1", default_recorded=False)
    assert own.restarts is False
    off = effective_ha_restart(_ha_cluster(enabled=False), "vm-1", default_recorded=False)
    assert off.restarts is False


def test_a_vm_outside_a_cluster_is_never_restarted_by_ha() -> None:
    snapshot = build({"standalone_hosts": 1, "appliances": {"sa-1": {"host": "standalone-1"}}})
    inventory = Inventory(snapshot)
    (appliance,) = inventory.appliances.values()
    assert inventory.ha_restart(appliance.vm).restarts is False


# -- limits up the pool tree -------------------------------------------------------------


def test_limits_are_collected_from_the_vm_up_to_the_root() -> None:
    snapshot = build(
        {
            "appliances": {"sa-1": {"pool": "inner", "cpu_limit": 9000}},
            "pools": {
                "outer": {"parent": "root", "cpu_limit": 3000},
                "inner": {"parent": "outer", "memory_limit": 2048},
            },
        }
    )
    inventory = Inventory(snapshot)
    (appliance,) = inventory.appliances.values()
    cpu, memory = inventory.limits(appliance.vm)
    assert [(limit.amount, limit.holder) for limit in cpu.limits] == [
        (9000, "the VM"),
        (3000, "pool outer"),
    ]
    assert cpu.ceiling is not None and cpu.ceiling.holder == "pool outer"
    assert [limit.holder for limit in memory.below(8192)] == ["pool inner"]
    assert len(cpu.pools) == 3  # inner, outer, the root


def test_a_parent_loop_in_a_hand_made_file_ends_the_walk() -> None:
    snapshot = build({"appliances": {"sa-1": {"pool": "a"}}, "pools": {"a": {"parent": "root"}}})
    pools = dict(snapshot.resource_pools)
    (vm,) = (v for v in snapshot.vms.values() if v.name == "sa-1")
    pool = pools[vm.resource_pool or ""]
    pools[pool.moid] = msgspec.structs.replace(pool, parent=pool.moid)
    assert effective_limit(vm, pools, "cpu").pools == (pool.moid,)


# -- snapshot trees ----------------------------------------------------------------------


def test_snapshot_depth_counts_the_longest_chain() -> None:
    b = InventoryBuilder()
    leaf = b.vm_snapshot("c", timedelta(hours=1))
    tree = [
        b.vm_snapshot(
            "a",
            timedelta(hours=3),
            children=[b.vm_snapshot("b", timedelta(hours=2), children=[leaf])],
        ),
        b.vm_snapshot("d", timedelta(hours=4)),
    ]
    assert (snapshot_depth([]), snapshot_depth(tree[1:]), snapshot_depth(tree)) == (0, 1, 3)
