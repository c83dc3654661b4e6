"""Test helpers for rule authors: Hypothesis strategies for synthetic inventories and runners.

Install with ``pip install scalearc-lint[testing]``. The main pieces:

* :func:`inventories` draws a valid :class:`SyntheticInventory`: a snapshot of
  datacenters, clusters, hosts, pools, VMs, appliances and HA pairs, networks,
  snapshots and events, compliant except for the violations asked for in
  ``plant``; ``planted`` says which (rule, object id) must fail.
* :func:`estates` draws a :class:`SyntheticEstate`: several vCenters judged as one
  (pairs split across vCenters, moids repeating, MACs compared across all), with
  conflicting identification (ID001) when planted.
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
from scalearc_lint.engine.appliance_id import ID001, identification_results
from scalearc_lint.engine.config import Config, RuleSettings, convert_options
from scalearc_lint.engine.evaluate import LoadedRule, discover_rules, evaluate_rule
from scalearc_lint.engine.results import Result, sorted_results
from scalearc_lint.engine.rule import Rule
from scalearc_lint.snapshot.builder import InventoryBuilder
from scalearc_lint.snapshot.identification import ApplianceSelection, Role, fold
from scalearc_lint.snapshot.inventory import Estate, Inventory
from scalearc_lint.snapshot.loader import LoadedSnapshot
from scalearc_lint.snapshot.model import NetworkPolicy, Snapshot, Tag, VirtualMachine

#: Rules :func:`inventories` and :func:`estates` can plant a violation of.
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
    "ID001",
)

#: DRS automation levels a cluster default may have.
DRS_BEHAVIORS = ("manual", "partiallyAutomated", "fullyAutomated")
#: Spellings of the role attribute / tag category: names match in any case.
ROLE_NAMES = ("scalearc-role", "ScaleArc-Role", "SCALEARC-ROLE")
PAIR_NAMES = ("scalearc-ha-pair", "ScaleArc-HA-Pair")


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


@dataclass(frozen=True)
class SyntheticEstate:
    """Several drawn vCenters judged as one estate, with what must fail and what is in doubt.

    Objects are named ``(vcenter, object id)``: moids repeat across vCenters. A pair whose
    members sit in several vCenters is named by the first of them by name (its home).
    """

    snapshots: list[Snapshot]
    #: rule id -> the (vcenter, object id) that must fail it (ID001: VMs and vCenters).
    planted: Mapping[str, frozenset[tuple[str, str]]] = field(default_factory=dict)
    #: VMs whose identification is in doubt (ID001): their appliance results are unknown.
    unidentified: frozenset[tuple[str, str]] = frozenset()
    #: Pairs such VMs name: their pair results are unknown.
    doubtful_pairs: frozenset[tuple[str, str]] = frozenset()
    #: The selection to judge with (it lists the vCenters drawn without appliances).
    selection: ApplianceSelection = field(default_factory=ApplianceSelection)

    def expected_failures(self) -> set[tuple[str, str, str]]:
        """Every (rule id, vcenter, object id) that was planted."""
        return {(rule, *obj) for rule, objs in self.planted.items() for obj in objs}


class _Vcenter:
    """One vCenter being drawn: its builder, clusters, hosts, pools, appliances and pairs."""

    def __init__(self, draw: st.DrawFn, name: st.SearchStrategy[str], b: InventoryBuilder) -> None:
        self.b = b
        self.vcenter = b.source.vcenter
        dc = b.datacenter(draw(name))
        dvs = b.dvswitch(draw(name), dc)
        self.dv_ok = b.dv_portgroup(draw(name), dvs)
        self.dv_silent = b.dv_portgroup(
            draw(name), dvs, policy=NetworkPolicy(notify_switches=False)
        )
        self.clusters: list[str] = []
        self.hosts: dict[str, list[str]] = {}
        self.pools: dict[str, str] = {}
        #: (moid, cluster, active) of every appliance identified without doubt.
        self.appliances: list[tuple[str, str, bool]] = []
        #: (pair id as drawn, primary, secondary, cluster) of pairs within this vCenter.
        self.pairs: list[tuple[str, str, str, str]] = []
        #: Split pairs' primaries: SA009 is not planted on them (see _plant).
        self.split_primaries: set[str] = set()

    def add_clusters(
        self,
        draw: st.DrawFn,
        name: st.SearchStrategy[str],
        count: int,
        hosts_per_cluster: tuple[int, int],
    ) -> None:
        b = self.b
        dc = next(iter(b.datacenters))
        for _ in range(count):
            default = draw(
                st.sampled_from([None, "manual", "partiallyAutomated", "fullyAutomated"])
            )
            cluster = b.cluster(draw(name), dc, drs_default=default)  # type: ignore[arg-type]
            self.clusters.append(cluster)
            self.pools[cluster] = b.pool(draw(name), b.root_pool(cluster))
            self.hosts[cluster] = []
            for _ in range(draw(st.integers(*hosts_per_cluster))):
                host = b.host(
                    draw(name), cluster, cpu_mhz=draw(st.sampled_from([2000, 2600, 3100]))
                )
                b.standard_portgroup(host, "scalearc-net")
                b.standard_portgroup(
                    host, "VM Network", computed=NetworkPolicy(notify_switches=draw(st.booleans()))
                )
                self.hosts[cluster].append(host)

    def place(self, draw: st.DrawFn) -> tuple[str, str]:
        """A cluster and one of its hosts."""
        cluster = draw(st.sampled_from(self.clusters))
        return cluster, draw(st.sampled_from(self.hosts[cluster]))

    def add_appliance(
        self,
        draw: st.DrawFn,
        name: st.SearchStrategy[str],
        role: str,
        pair: str | None,
        cluster: str,
        host: str,
        *,
        tagged: bool,
    ) -> str:
        """An appliance identified without doubt (names and values in any case)."""
        b = self.b
        attributes, tags = _identity(draw, role, pair, tagged)
        nics = [
            b.nic(key=4000 + i, portgroup=self.dv_ok if draw(st.booleans()) else None)
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
            pool=self.pools[cluster],
            nics=nics,
            num_cpu=num_cpu,
            memory_mb=memory,
            custom_attributes=attributes,
            snapshots=fresh,
            tags=tags,
            power_state=draw(st.sampled_from(["poweredOn", "poweredOn", "poweredOff"])),
        )
        b.drs_override(
            cluster, vm, behavior=draw(st.sampled_from(["manual", "partiallyAutomated"]))
        )
        self.appliances.append((vm, cluster, role != "secondary"))
        return vm

    def add_unidentified(
        self, draw: st.DrawFn, name: st.SearchStrategy[str], pair: str | None
    ) -> str:
        """A VM whose role sources disagree or give no role: ID001, never guessed."""
        role_key = draw(st.sampled_from(ROLE_NAMES))
        pair_values = {"scalearc-ha-pair": pair} if pair else {}
        how = draw(st.sampled_from(["attribute-vs-tag", "two-tags", "not-a-role"]))
        if how == "attribute-vs-tag":
            first, second = draw(st.permutations(["primary", "secondary", "standalone"]))[:2]
            attributes = {role_key: first, **pair_values}
            tags = [Tag(category=role_key, name=second)]
        elif how == "two-tags":
            first, second = draw(st.permutations(["primary", "secondary", "standalone"]))[:2]
            attributes = dict(pair_values)
            tags = [Tag(category=role_key, name=first), Tag(category=role_key, name=second)]
        else:
            attributes = {role_key: draw(st.sampled_from(["primray", "secundary", "active"]))}
            attributes.update(pair_values)
            tags = []
        _, host = self.place(draw)
        return self.b.vm(
            draw(name),
            host,
            nics=[self.b.nic()],
            custom_attributes=attributes,
            tags=tags,
        )

    def add_ordinary_vms(self, draw: st.DrawFn, name: st.SearchStrategy[str], count: int) -> None:
        """Ordinary VMs: anything goes, as long as it cannot make an appliance fail."""
        b = self.b
        for _ in range(count):
            _, host = self.place(draw)
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
                host,
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

    def reserve(self) -> None:
        """Reserve what each pool's appliances need, from where they finally are."""
        b = self.b
        for pool in self.pools.values():
            members = [
                b.vms[moid] for moid, _, _ in self.appliances if b.vms[moid].resource_pool == pool
            ]
            cpu = sum(vm.num_cpu * b.hosts[vm.host]["cpu_mhz"] for vm in members if vm.host)
            memory = sum(vm.memory_mb for vm in members)
            b.set_pool_reservation(pool, cpu=max(cpu, 1), memory=max(memory, 1))


def _identity(
    draw: st.DrawFn, role: str, pair: str | None, tagged: bool
) -> tuple[dict[str, str], list[Tag]]:
    """Custom attributes and tags naming ``role`` and ``pair``: the attribute, the tag, or
    both agreeing, with names and values in any case."""
    values = {
        draw(st.sampled_from(ROLE_NAMES)): draw(st.sampled_from([role, role.title(), f" {role} "])),
        **({draw(st.sampled_from(PAIR_NAMES)): pair} if pair else {}),
    }
    where = draw(st.sampled_from(["attributes", "tags", "both"])) if tagged else "attributes"
    attributes = values if where != "tags" else {}
    tags = [Tag(category=k, name=v) for k, v in values.items()] if where != "attributes" else []
    return attributes, tags


def _fresh_pair_id(draw: st.DrawFn, name: st.SearchStrategy[str], taken: list[str]) -> str:
    """A pair id whose folded form no other pair of the estate has; appends the folded form."""
    pair_id = draw(name.filter(lambda s: bool(fold(s)) and fold(s) not in taken))
    taken.append(fold(pair_id))
    return pair_id


def _plant(
    draw: st.DrawFn,
    name: st.SearchStrategy[str],
    rule: str,
    vc: _Vcenter,
    pair_ids: list[str],
    others: list[_Vcenter],
) -> set[str]:
    """Plant one violation of ``rule`` in ``vc``: the ids of the objects that must fail it."""
    b = vc.b
    if rule in ("SA004", "SA005"):
        if not vc.pairs:
            return set()
        pair_id, primary, secondary, cluster = draw(st.sampled_from(vc.pairs))
        if rule == "SA004":
            _replace_vm(b, secondary, host=b.vms[primary].host)
        else:
            _drop_anti_affinity(b, cluster, {primary, secondary})
        return {fold(pair_id)}
    if rule == "SA011":
        lone = _fresh_pair_id(draw, name, pair_ids)
        cluster, host = vc.place(draw)
        vc.add_appliance(draw, name, "primary", lone, cluster, host, tagged=draw(st.booleans()))
        return {fold(lone)}
    if rule == "ID001":
        pair = _fresh_pair_id(draw, name, pair_ids) if draw(st.booleans()) else None
        return {vc.add_unidentified(draw, name, pair)}
    # SA009's pair-move check reads the partner's events by moid in the primary's own
    # vCenter; a partner in another vCenter is not found there (moids repeat), so the
    # planted vMotion goes on an appliance whose pair is within one vCenter.
    candidates = [
        a for a in vc.appliances if rule != "SA009" or (a[2] and a[0] not in vc.split_primaries)
    ]
    if not candidates:
        return set()
    vm_moid, cluster, _active = draw(st.sampled_from(candidates))
    target_vm = b.vms[vm_moid]
    if rule == "SA001":
        nics = list(target_vm.nics)
        nics[0] = b.nic(key=nics[0].key, address_type="generated")
        _replace_vm(b, vm_moid, nics=nics)
    elif rule == "SA002":
        # The duplicate may sit in any vCenter of the estate: MACs clash across them.
        where = draw(st.sampled_from([vc, *others]))
        _, host = where.place(draw)
        where.b.vm(
            draw(name), host, nics=[where.b.nic(network="VM Network", mac=target_vm.nics[0].mac)]
        )
    elif rule == "SA003":
        nics = list(target_vm.nics)
        nics[0] = b.nic(
            key=nics[0].key,
            portgroup=vc.dv_silent,
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
        _replace_vm(b, vm_moid, snapshots=[*target_vm.snapshots, b.vm_snapshot(draw(name), age)])
    elif rule == "SA009":
        b.event("drs-migrate", vm_moid, age=timedelta(hours=draw(st.integers(1, 700))))
    elif rule == "SA010":
        b.event("revert", vm_moid, age=timedelta(hours=draw(st.integers(1, 700))))
    return {vm_moid}


def _exported_at(draw: st.DrawFn) -> datetime:
    return draw(
        st.datetimes(
            min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
        )
    )


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
    """Draw a valid inventory, compliant except for one violation of each rule in ``plant``.

    It always holds at least one appliance (a vCenter without any is an ID001 failure).
    Planting ID001 adds a VM whose role sources disagree (or name no role); its appliance
    and pair results are then ``unknown``.
    """
    _check_plantable(plant)
    name = names if names is not None else plain_names()
    b = InventoryBuilder(
        vcenter=draw(st.sampled_from(["vc1.example", "vcenter.lab.example"])),
        exported_at=_exported_at(draw),
    )
    vc = _Vcenter(draw, name, b)
    vc.add_clusters(
        draw,
        name,
        draw(st.integers(1, max_clusters)),
        (min_hosts_per_cluster, max_hosts_per_cluster),
    )
    tagged = draw(st.booleans()) if use_tags is None else use_tags
    pair_ids: list[str] = []
    _add_pairs(draw, name, vc, draw(st.integers(min_pairs, max_pairs)), pair_ids, tagged)
    for _ in range(draw(st.integers(0 if vc.pairs else 1, max(max_standalone, 1)))):
        cluster, host = vc.place(draw)
        vc.add_appliance(draw, name, "standalone", None, cluster, host, tagged=tagged)
    vc.add_ordinary_vms(draw, name, draw(st.integers(0, max_other_vms)))
    planted = {rule: _plant(draw, name, rule, vc, pair_ids, []) for rule in sorted(plant)}
    vc.reserve()
    return SyntheticInventory(b.build(), {k: frozenset(v) for k, v in planted.items()})


def _add_pairs(
    draw: st.DrawFn,
    name: st.SearchStrategy[str],
    vc: _Vcenter,
    count: int,
    pair_ids: list[str],
    tagged: bool,
) -> None:
    """HA pairs within ``vc``: members on different hosts, kept apart by a rule."""
    for _ in range(count):
        pair_id = _fresh_pair_id(draw, name, pair_ids)
        cluster = draw(st.sampled_from(vc.clusters))
        h1, h2 = draw(st.permutations(vc.hosts[cluster]))[:2]
        primary = vc.add_appliance(draw, name, "primary", pair_id, cluster, h1, tagged=tagged)
        secondary = vc.add_appliance(draw, name, "secondary", pair_id, cluster, h2, tagged=tagged)
        vc.b.anti_affinity(cluster, draw(name), [primary, secondary])
        vc.pairs.append((pair_id, primary, secondary, cluster))


@st.composite
def estates(
    draw: st.DrawFn,
    *,
    plant: Collection[str] = (),
    names: st.SearchStrategy[str] | None = None,
    max_vcenters: int = 3,
    max_clusters: int = 2,
    max_hosts_per_cluster: int = 3,
    max_pairs: int = 3,
    max_split_pairs: int = 2,
    max_standalone: int = 2,
    max_other_vms: int = 6,
) -> SyntheticEstate:
    """Draw several vCenters judged as one estate, compliant except for ``plant``.

    Besides what :func:`inventories` draws in each vCenter: HA pairs split across two
    vCenters (one complete pair each, kept apart by being in different vCenters), moids
    repeating across vCenters, MACs unique across all of them (a planted SA002 duplicate
    may sit in another vCenter), and sometimes a vCenter without appliances that the
    selection's ``none_expected_in`` lists. Planting ID001 adds a VM whose role sources
    disagree in one vCenter and, with several vCenters, may instead leave one vCenter
    without any appliance.
    """
    _check_plantable(plant)
    name = names if names is not None else plain_names()
    exported_at = _exported_at(draw)
    count = draw(st.integers(1, max_vcenters))
    vcenters = [
        _Vcenter(
            draw,
            name,
            InventoryBuilder(
                vcenter=f"vc{i + 1}.example",
                instance_uuid=f"5f0c2a4e-0000-4000-8000-{i + 1:012x}",
                exported_at=exported_at,
                first_mac=i << 16,
            ),
        )
        for i in range(count)
    ]
    for vc in vcenters:
        vc.add_clusters(draw, name, draw(st.integers(1, max_clusters)), (2, max_hosts_per_cluster))
    # A vCenter drawn without appliances: expected (listed in the selection) or planted.
    empty: _Vcenter | None = None
    expected_empty = False
    if count > 1 and draw(st.booleans()):
        empty = vcenters[-1]
        expected_empty = "ID001" not in plant or draw(st.booleans())
    populated = [vc for vc in vcenters if vc is not empty]
    pair_ids: list[str] = []
    for vc in populated:
        tagged = draw(st.booleans())
        _add_pairs(draw, name, vc, draw(st.integers(0, max_pairs)), pair_ids, tagged)
    if len(populated) > 1:
        for _ in range(draw(st.integers(0, max_split_pairs))):
            first, second = draw(st.permutations(populated))[:2]
            pair_id = _fresh_pair_id(draw, name, pair_ids)
            # The two members spell the pair id differently: ids are compared case-folded.
            spelt = draw(st.sampled_from([pair_id, pair_id.upper(), f" {pair_id} "]))
            primary = first.add_appliance(
                draw, name, "primary", pair_id, *first.place(draw), tagged=draw(st.booleans())
            )
            first.split_primaries.add(primary)
            second.add_appliance(
                draw, name, "secondary", spelt, *second.place(draw), tagged=draw(st.booleans())
            )
    for vc in populated:
        has_any = bool(vc.appliances)
        for _ in range(draw(st.integers(0 if has_any else 1, max(max_standalone, 1)))):
            cluster, host = vc.place(draw)
            vc.add_appliance(draw, name, "standalone", None, cluster, host, tagged=True)
    for vc in vcenters:
        vc.add_ordinary_vms(draw, name, draw(st.integers(0, max_other_vms)))

    planted: dict[str, set[tuple[str, str]]] = {rule: set() for rule in plant}
    unidentified: set[tuple[str, str]] = set()
    doubtful: set[tuple[str, str]] = set()
    for rule in sorted(plant):
        vc = draw(st.sampled_from(populated))
        others = [other for other in vcenters if other is not vc]
        before = len(pair_ids)
        found = _plant(draw, name, rule, vc, pair_ids, others)
        planted[rule] |= {(vc.vcenter, obj) for obj in found}
        if rule == "ID001":
            unidentified |= {(vc.vcenter, obj) for obj in found}
            doubtful |= {(vc.vcenter, pair) for pair in pair_ids[before:]}
    if empty is not None and not expected_empty:
        planted["ID001"].add((empty.vcenter, empty.vcenter))
    for vc in vcenters:
        vc.reserve()
    # The vCenter without appliances is expected by name in any case.
    none_expected = [empty.vcenter.upper()] if empty is not None and expected_empty else []
    return SyntheticEstate(
        [vc.b.build() for vc in vcenters],
        {k: frozenset(v) for k, v in planted.items()},
        frozenset(unidentified),
        frozenset(doubtful),
        ApplianceSelection(none_expected_in=none_expected),
    )


def _check_plantable(plant: Collection[str]) -> None:
    unknown = set(plant) - set(PLANTABLE)
    if unknown:
        raise ValueError(f"cannot plant {sorted(unknown)}; plantable: {PLANTABLE}")


def _replace_vm(b: InventoryBuilder, moid: str, **changes: Any) -> None:
    b.vms[moid] = msgspec.structs.replace(b.vms[moid], **changes)


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
    snapshots: Snapshot | Sequence[Snapshot],
    *,
    options: Mapping[str, Any] | None = None,
    as_of: datetime | None = None,
    selection: ApplianceSelection | None = None,
) -> list[Result]:
    """Run one rule on one snapshot, or on several judged as one estate; sorted results.

    ``rule`` is a Rule, the id of a built-in rule, or ``ID001`` (the identification
    findings, which every run reports).
    """
    selection = selection or ApplianceSelection()
    estate = Estate(
        [
            Inventory(snapshot, as_of=as_of, selection=selection)
            for snapshot in ([snapshots] if isinstance(snapshots, Snapshot) else snapshots)
        ]
    )
    if rule == ID001.id:
        return sorted_results(
            identification_results(estate.inventories, Config(selection=selection))
        )
    loaded = builtin_rule(rule) if isinstance(rule, str) else LoadedRule(rule, "test")
    typed = convert_options(loaded.rule, options or {})
    config = Config(
        selection=selection,
        rules={loaded.rule.id: RuleSettings(True, loaded.rule.severity, typed)},
    )
    return sorted_results(
        result
        for inventory in estate.inventories
        for result in evaluate_rule(loaded, inventory, config)
    )
