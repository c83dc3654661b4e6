"""Test helpers for rule authors: Hypothesis strategies for synthetic inventories and runners.

Install with ``pip install scalearc-lint[testing]``. The main pieces:

* :func:`inventories` draws a valid :class:`SyntheticInventory`: a snapshot of
  datacenters, clusters, hosts, pools, VMs, appliances and HA pairs, networks,
  snapshots and events, compliant except for the violations asked for in
  ``plant``; ``planted`` says which (rule, object id) must fail.
* :func:`hostile_text` draws names that break naive reports: markup, quotes,
  control and XML-forbidden characters, very long and non-ASCII strings.
* :func:`run_rule` runs one rule on one snapshot and returns its results.
* :func:`pair_move_plans` draws what-if plans that move HA pairs of a snapshot by the
  vendor's procedure (:func:`pair_move`, :func:`secondary_live_move`);
  :func:`broken_plans` draws the same plan with one step removed or moved; and
  :func:`run_whatif` runs ``whatif`` on a snapshot and a plan in memory.

Example::

    from hypothesis import assume, given, strategies as st
    from scalearc_lint.testing import inventories, pair_move_plans, run_rule, run_whatif

    @given(inventories(plant={"SA001"}))
    def test_generated_mac_is_found(inv):
        failing = {r.object.id for r in run_rule("SA001", inv.snapshot) if r.status == "fail"}
        assert failing == inv.planted["SA001"]

    @given(st.data())
    def test_the_procedure_is_accepted(data):
        inv = data.draw(inventories(min_pairs=1, min_hosts_per_cluster=3))
        blocks = data.draw(pair_move_plans(inv.snapshot))
        assume(blocks)
        whatif = run_whatif(inv.snapshot, [step for block in blocks for step in block])
        assert not [r for r in whatif.document.results if r.status == "fail"
                    and r.baseline == "new"]
"""

from __future__ import annotations

import tempfile
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import yaml
from hypothesis import strategies as st

from scalearc_lint.change.plan import load_plan, unusable
from scalearc_lint.commands.run import RunInputs
from scalearc_lint.commands.whatif import WhatIf, what_if
from scalearc_lint.engine.config import Config, RuleSettings, convert_options
from scalearc_lint.engine.evaluate import LoadedRule, discover_rules, evaluate_rule
from scalearc_lint.engine.results import Result, sorted_results
from scalearc_lint.engine.rule import Rule
from scalearc_lint.snapshot.builder import InventoryBuilder
from scalearc_lint.snapshot.identification import ApplianceSelection, Role
from scalearc_lint.snapshot.inventory import Inventory
from scalearc_lint.snapshot.loader import LoadedSnapshot
from scalearc_lint.snapshot.model import NetworkPolicy, Snapshot, Tag, VirtualMachine

#: Rules :func:`inventories` can plant a violation of.
PLANTABLE = (
    "SA001",
    "SA002",
    "SA003",
    "SA004",
    "SA005",
    "SA006",
    "SA007",
    "SA008",
    "SA009",
    "SA010",
    "SA011",
)

_HOSTILE_SAMPLES = (
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "a & b < c > d ' \"",
    "]]><!--",
    "\x00\x01\x08\x0b\x0c\x1b[31m\x7f",
    "\ud7ff\ue000\ufffe\uffff",
    "名前-ñame-Ωmega-😀",
    "\u202eevil\u202c",
    "x" * 600,
    "{{ 7*7 }} ${7*7} %s %n",
    "line\nbreak\r\ttab",
)


def hostile_text(*, min_size: int = 1, max_size: int = 80) -> st.SearchStrategy[str]:
    """Names that must come out of every report as inert text."""
    return st.one_of(
        st.sampled_from(_HOSTILE_SAMPLES),
        st.text(
            alphabet=st.characters(codec="utf-8"),
            min_size=min_size,
            max_size=max_size,
        ),
        st.tuples(st.sampled_from(_HOSTILE_SAMPLES), st.text(max_size=10)).map("".join),
    )


def plain_names() -> st.SearchStrategy[str]:
    """Ordinary inventory names."""
    return st.from_regex(r"[a-z][a-z0-9-]{0,14}", fullmatch=True)


@dataclass(frozen=True)
class SyntheticInventory:
    """A drawn snapshot and, per rule, the ids of the objects that must fail it."""

    snapshot: Snapshot
    planted: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def expected_failures(self) -> set[tuple[str, str]]:
        """Every (rule id, object id) that was planted."""
        return {(rule, obj) for rule, objs in self.planted.items() for obj in objs}


@st.composite
def inventories(
    draw: st.DrawFn,
    *,
    plant: Collection[str] = (),
    names: st.SearchStrategy[str] | None = None,
    max_clusters: int = 3,
    max_hosts_per_cluster: int = 4,
    max_pairs: int = 4,
    min_hosts_per_cluster: int = 2,
    min_pairs: int = 0,
    max_standalone: int = 3,
    max_other_vms: int = 12,
    use_tags: bool | None = None,
) -> SyntheticInventory:
    """Draw a valid inventory, compliant except for one violation of each rule in ``plant``."""
    unknown = set(plant) - set(PLANTABLE)
    if unknown:
        raise ValueError(f"cannot plant {sorted(unknown)}; plantable: {PLANTABLE}")
    name = names if names is not None else plain_names()
    b = InventoryBuilder(
        vcenter=draw(st.sampled_from(["vc1.example", "vcenter.lab.example"])),
        exported_at=draw(
            st.datetimes(
                min_value=datetime(2024, 1, 1),
                max_value=datetime(2030, 1, 1),
                timezones=st.just(UTC),
            )
        ),
    )
    dc = b.datacenter(draw(name))
    dvs = b.dvswitch(draw(name), dc)
    dv_ok = b.dv_portgroup(draw(name), dvs)
    dv_silent = b.dv_portgroup(draw(name), dvs, policy=NetworkPolicy(notify_switches=False))
    clusters: list[str] = []
    hosts: dict[str, list[str]] = {}
    pools: dict[str, str] = {}
    defaults: dict[str, str | None] = {}
    for _ in range(draw(st.integers(1, max_clusters))):
        default = draw(st.sampled_from([None, "manual", "partiallyAutomated", "fullyAutomated"]))
        cluster = b.cluster(draw(name), dc, drs_default=default)  # type: ignore[arg-type]
        clusters.append(cluster)
        defaults[cluster] = default
        pools[cluster] = b.pool(draw(name), b.root_pool(cluster))
        hosts[cluster] = []
        for _ in range(draw(st.integers(min_hosts_per_cluster, max_hosts_per_cluster))):
            host = b.host(draw(name), cluster, cpu_mhz=draw(st.sampled_from([2000, 2600, 3100])))
            b.standard_portgroup(host, "scalearc-net")
            b.standard_portgroup(
                host, "VM Network", computed=NetworkPolicy(notify_switches=draw(st.booleans()))
            )
            hosts[cluster].append(host)

    planted: dict[str, set[str]] = {rule: set() for rule in plant}
    appliances: list[tuple[str, str, bool]] = []  # (moid, cluster, active)
    tagged = draw(st.booleans()) if use_tags is None else use_tags

    def add_appliance(role: str, pair: str | None, cluster: str, host: str) -> str:
        values = {"scalearc-role": role, **({"scalearc-ha-pair": pair} if pair else {})}
        by_tags = tagged and draw(st.booleans())
        nics = [
            b.nic(key=4000 + i, portgroup=dv_ok if draw(st.booleans()) else None)
            for i in range(draw(st.integers(1, 3)))
        ]
        num_cpu, memory = draw(st.sampled_from([2, 4])), draw(st.sampled_from([4096, 8192]))
        fresh = [
            b.vm_snapshot(draw(name), timedelta(minutes=draw(st.integers(1, 600))))
            for _ in range(draw(st.integers(0, 1)))
        ]
        vm = b.vm(
            draw(name),
            host,
            pool=pools[cluster],
            nics=nics,
            num_cpu=num_cpu,
            memory_mb=memory,
            custom_attributes={} if by_tags else values,
            snapshots=fresh,
            tags=[Tag(category=k, name=v) for k, v in values.items()] if by_tags else [],
            power_state=draw(st.sampled_from(["poweredOn", "poweredOn", "poweredOff"])),
        )
        b.drs_override(
            cluster, vm, behavior=draw(st.sampled_from(["manual", "partiallyAutomated"]))
        )
        appliances.append((vm, cluster, role != "secondary"))
        return vm

    pair_ids: list[str] = []
    pairs: list[tuple[str, str, str, str]] = []  # (pair id, primary, secondary, cluster)
    for _ in range(draw(st.integers(min_pairs, max_pairs))):
        pair_id = draw(name.filter(lambda s: s.strip() and s.strip() not in pair_ids))
        pair_ids.append(pair_id.strip())
        cluster = draw(st.sampled_from(clusters))
        h1, h2 = draw(st.permutations(hosts[cluster]))[:2]
        primary = add_appliance("primary", pair_id, cluster, h1)
        secondary = add_appliance("secondary", pair_id, cluster, h2)
        b.anti_affinity(cluster, draw(name), [primary, secondary])
        pairs.append((pair_id.strip(), primary, secondary, cluster))
    for _ in range(draw(st.integers(0, max_standalone))):
        cluster = draw(st.sampled_from(clusters))
        add_appliance("standalone", None, cluster, draw(st.sampled_from(hosts[cluster])))

    # Ordinary VMs: anything goes, as long as it cannot make an appliance fail.
    for _ in range(draw(st.integers(0, max_other_vms))):
        cluster = draw(st.sampled_from(clusters))
        nics = [
            b.nic(
                key=4000 + i,
                network="VM Network",
                address_type=draw(st.sampled_from(["generated", "manual", "assigned"])),
            )
            for i in range(draw(st.integers(0, 2)))
        ]
        old = [
            b.vm_snapshot(draw(name), timedelta(days=draw(st.integers(0, 400))))
            for _ in range(draw(st.integers(0, 2)))
        ]
        vm = b.vm(
            draw(name),
            draw(st.sampled_from(hosts[cluster])),
            nics=nics,
            snapshots=old,
            custom_attributes={"owner": draw(name)},
        )
        if draw(st.booleans()):
            b.event(
                draw(st.sampled_from(["drs-migrate", "relocate", "revert", "hot-migrate"])),
                vm,
                live=draw(st.sampled_from([True, False, None])),
            )

    # Plant one violation per requested rule.
    def pick_appliance(active_only: bool = False) -> tuple[str, str, bool] | None:
        candidates = [a for a in appliances if a[2] or not active_only]
        return draw(st.sampled_from(candidates)) if candidates else None

    for rule in sorted(plant):
        target = pick_appliance(active_only=rule == "SA009")
        if rule in ("SA004", "SA005"):
            if not pairs:
                continue
            pair_id, primary, secondary, cluster = draw(st.sampled_from(pairs))
            if rule == "SA004":
                _move(b, secondary, b.vms[primary].host)
            else:
                _drop_anti_affinity(b, cluster, {primary, secondary})
            planted[rule].add(pair_id)
            continue
        if rule == "SA011":
            cluster = draw(st.sampled_from(clusters))
            lone = draw(name.filter(lambda s: s.strip() and s.strip() not in pair_ids))
            pair_ids.append(lone.strip())
            add_appliance("primary", lone, cluster, draw(st.sampled_from(hosts[cluster])))
            planted[rule].add(lone.strip())
            continue
        if target is None:
            continue
        vm_moid, cluster, _active = target
        target_vm = b.vms[vm_moid]
        if rule == "SA001":
            nics = list(target_vm.nics)
            nics[0] = b.nic(key=nics[0].key, address_type="generated")
            _replace_vm(b, vm_moid, nics=nics)
        elif rule == "SA002":
            host = draw(st.sampled_from(hosts[cluster]))
            b.vm(draw(name), host, nics=[b.nic(network="VM Network", mac=target_vm.nics[0].mac)])
        elif rule == "SA003":
            nics = list(target_vm.nics)
            nics[0] = b.nic(
                key=nics[0].key,
                portgroup=dv_silent,
                mac=nics[0].mac,
                address_type=nics[0].address_type,
            )
            _replace_vm(b, vm_moid, nics=nics)
        elif rule == "SA006":
            b.drs_override(cluster, vm_moid, behavior="fullyAutomated")
        elif rule == "SA007":
            _replace_vm(b, vm_moid, resource_pool=b.root_pool(cluster))
        elif rule == "SA008":
            age = timedelta(hours=draw(st.integers(25, 24 * 90)))
            _replace_vm(
                b, vm_moid, snapshots=[*target_vm.snapshots, b.vm_snapshot(draw(name), age)]
            )
        elif rule == "SA009":
            b.event("drs-migrate", vm_moid, age=timedelta(hours=draw(st.integers(1, 700))))
        elif rule == "SA010":
            b.event("revert", vm_moid, age=timedelta(hours=draw(st.integers(1, 700))))
        planted[rule].add(vm_moid)
    # Reserve what the pool's appliances need, from where they finally are.
    for pool in pools.values():
        members = [b.vms[moid] for moid, _, _ in appliances if b.vms[moid].resource_pool == pool]
        cpu = sum(vm.num_cpu * b.hosts[vm.host]["cpu_mhz"] for vm in members if vm.host)
        memory = sum(vm.memory_mb for vm in members)
        b.set_pool_reservation(pool, cpu=max(cpu, 1), memory=max(memory, 1))
    return SyntheticInventory(b.build(), {k: frozenset(v) for k, v in planted.items()})


def _replace_vm(b: InventoryBuilder, moid: str, **changes: Any) -> None:
    b.vms[moid] = msgspec.structs.replace(b.vms[moid], **changes)


def _move(b: InventoryBuilder, moid: str, host: str | None) -> None:
    _replace_vm(b, moid, host=host)


def _drop_anti_affinity(b: InventoryBuilder, cluster: str, members: set[str]) -> None:
    rules = b.clusters[cluster]["rules"]
    rules[:] = [r for r in rules if not members <= set(r.vms)]


# -- what-if plans -----------------------------------------------------------------------

PlanStep = dict[str, Any]


def secondary_live_move(vm: str, to: str) -> list[PlanStep]:
    """Plan steps for vMotioning the secondary ``vm`` by the vendor's steps 2-7."""
    return [
        {"stop_services": vm},
        {"migrate": vm, "to": to, "mode": "live"},
        {"check_connectivity": vm},
        {"check_ha_lag": vm},
        {"start_services": vm},
    ]


def pair_move(
    pair: str, primary: str, secondary: str, *, primary_to: str, secondary_to: str
) -> list[PlanStep]:
    """Plan steps moving both members of an HA pair the vendor's way: the secondary,
    a switchover, then the newly demoted secondary, each move wrapped in steps 2-7."""
    return [
        *secondary_live_move(secondary, secondary_to),
        {"switchover": pair},
        *secondary_live_move(primary, primary_to),
    ]


@st.composite
def pair_move_plans(
    draw: st.DrawFn,
    snapshot: Snapshot,
    *,
    max_pairs: int = 2,
    selection: ApplianceSelection | None = None,
) -> list[list[PlanStep]]:
    """Plans that move HA pairs of ``snapshot`` by the vendor's procedure (:func:`pair_move`),
    one block of steps per pair; ``[]`` when no pair can be moved.

    A pair qualifies when both members run; each goes to another usable host of its
    cluster that carries its networks, is no faster (so the pool's reservation, sized by
    host speed, still covers it) and is not where its partner is at that moment. VMs and
    hosts are named by moid, since generated names need not be unique.
    """
    inventory = Inventory(snapshot, selection=selection)
    movable = []
    for pair in inventory.pairs.values():
        by_role = {m.role: m.vm for m in pair.members}
        if pair.orphan or len(pair.members) != 2 or set(by_role) != {Role.PRIMARY, Role.SECONDARY}:
            continue
        if all(vm.power_state == "poweredOn" and vm.host for vm in by_role.values()):
            movable.append((pair.id, by_role[Role.PRIMARY], by_role[Role.SECONDARY]))
    if not movable:
        return []
    chosen = draw(
        st.lists(st.sampled_from(movable), min_size=1, max_size=max_pairs, unique_by=lambda m: m[0])
    )

    def destinations(vm: VirtualMachine, partner_host: str | None) -> list[str]:
        source = inventory.host(vm.host)
        assert source is not None
        return [
            host.moid
            for host in inventory.cluster_hosts(vm)
            if host.moid not in (vm.host, partner_host)
            and unusable(host) is None
            and host.cpu_mhz <= source.cpu_mhz
            and all(inventory.carries_network(host, nic) for nic in vm.nics if nic.connected)
        ]

    blocks = []
    for pair_id, primary, secondary in chosen:
        secondary_to = destinations(secondary, primary.host)
        if not secondary_to:
            continue
        to_s = draw(st.sampled_from(secondary_to))
        primary_to = destinations(primary, to_s)
        if primary_to:
            to_p = draw(st.sampled_from(primary_to))
            blocks.append(
                pair_move(pair_id, primary.moid, secondary.moid, primary_to=to_p, secondary_to=to_s)
            )
    return blocks


@st.composite
def broken_plans(draw: st.DrawFn, blocks: Sequence[Sequence[PlanStep]]) -> list[PlanStep]:
    """The plan of ``blocks`` with one step removed, or one step moved elsewhere in its own
    block (across blocks a move can be harmless: another pair's steps do not depend on it)."""
    block = draw(st.integers(0, len(blocks) - 1))
    steps = list(blocks[block])
    index = draw(st.integers(0, len(steps) - 1))
    moved = steps.pop(index)
    if draw(st.booleans()):
        position = draw(st.integers(0, len(steps) - 1))
        steps.insert(position + (position >= index), moved)  # anywhere but where it was
    before = [step for b in blocks[:block] for step in b]
    after = [step for b in blocks[block + 1 :] for step in b]
    return [*before, *steps, *after]


def run_whatif(
    snapshot: Snapshot,
    plan: Sequence[Mapping[str, Any]] | str | Path,
    *,
    config: Config | None = None,
    as_of: datetime | None = None,
) -> WhatIf:
    """Run ``whatif`` in memory with the built-in rules: ``plan`` is a plan file, or a list
    of steps written to a temporary ``plan.yaml``. A plan error raises InputError naming
    ``plan.yaml:LINE``, as the command would print it before exiting 2."""
    if not isinstance(plan, str | Path):
        with tempfile.TemporaryDirectory(prefix="scalearc-whatif-") as tmp:
            path = Path(tmp) / "plan.yaml"
            path.write_text(yaml.safe_dump({"steps": list(plan)}, sort_keys=False))
            return run_whatif(snapshot, path, config=config, as_of=as_of)
    loaded = LoadedSnapshot(path="snapshot.json", sha256="0" * 64, snapshot=snapshot)
    rules = [builtin_rule(item) for item in sorted(_builtin_ids())]
    inputs = RunInputs([loaded], rules, config or Config(), as_of)
    return what_if(inputs, load_plan(plan))


# -- running rules ------------------------------------------------------------------------

_RULES_CACHE: dict[str, LoadedRule] = {}


def _builtin_ids() -> list[str]:
    if not _RULES_CACHE:
        _RULES_CACHE.update({item.rule.id: item for item in discover_rules(plugins=False)})
    return list(_RULES_CACHE)


def builtin_rule(rule_id: str) -> LoadedRule:
    """A built-in rule by id (loaded once)."""
    _builtin_ids()
    return _RULES_CACHE[rule_id]


def run_rule(
    rule: str | Rule,
    snapshot: Snapshot,
    *,
    options: Mapping[str, Any] | None = None,
    as_of: datetime | None = None,
    selection: ApplianceSelection | None = None,
) -> list[Result]:
    """Run one rule (an id of a built-in rule, or a Rule) on one snapshot; sorted results."""
    loaded = builtin_rule(rule) if isinstance(rule, str) else LoadedRule(rule, "test")
    typed = convert_options(loaded.rule, options or {})
    config = Config(
        selection=selection or ApplianceSelection(),
        rules={loaded.rule.id: RuleSettings(True, loaded.rule.severity, typed)},
    )
    inventory = Inventory(snapshot, as_of=as_of, selection=config.selection)
    return sorted_results(evaluate_rule(loaded, inventory, config))
