"""Test helpers for rule authors: Hypothesis strategies for synthetic inventories and runners.

Install with ``pip install scalearc-lint[testing]``. The main pieces:

* :func:`inventories` draws a valid :class:`SyntheticInventory`: a snapshot of
  datacenters, clusters, hosts, pools, VMs, appliances and HA pairs, networks,
  snapshots and events, compliant except for the violations asked for in
  ``plant``; ``planted`` says which (rule, object id) must fail.
* :func:`hostile_text` draws names that break naive reports: markup, quotes,
  control and XML-forbidden characters, very long and non-ASCII strings.
* :func:`estates` draws a :class:`SyntheticEstate`: several vCenters judged as one
  (pairs split across vCenters, moids repeating, MACs compared across all), with
  conflicting identification (ID001) when planted.
* :func:`run_rule` runs one rule on one snapshot and returns its results.
* :func:`pair_move_plans` draws what-if plans that move HA pairs of a snapshot by the
  vendor's procedure (:func:`pair_move`, :func:`secondary_live_move`);
  :func:`broken_plans` draws the same plan with one step removed or moved; and
  :func:`run_whatif` runs ``whatif`` on a snapshot and a plan in memory.
* :func:`run_fix` runs ``fix`` in memory on a snapshot or an estate: the plans it would
  write, and what keeps them from being proven; :func:`run_plans` lives plans on an
  estate and judges it as one, as ``fix`` proves them.

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
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import yaml
from hypothesis import strategies as st

from scalearc_lint.change.plan import load_plan, parse_plan, unusable
from scalearc_lint.commands.fix import Fixed, make_fix
from scalearc_lint.commands.run import RunInputs
from scalearc_lint.commands.whatif import EstateWhatIf, WhatIf, what_if, what_if_estate
from scalearc_lint.engine.appliance_id import ID001, identification_results
from scalearc_lint.engine.config import Config, RuleSettings, convert_options
from scalearc_lint.engine.evaluate import LoadedRule, discover_rules, evaluate_rule
from scalearc_lint.engine.results import Result, sorted_results
from scalearc_lint.engine.rule import Rule
from scalearc_lint.snapshot.builder import InventoryBuilder
from scalearc_lint.snapshot.identification import ApplianceSelection, Role, fold
from scalearc_lint.snapshot.inventory import Estate, Inventory
from scalearc_lint.snapshot.loader import LoadedSnapshot
from scalearc_lint.snapshot.model import Allocation, NetworkPolicy, Snapshot, Tag, VirtualMachine

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
    "SA012",
    "SA013",
    "SA014",
    "SA015",
    "SA016",
)
#: Rules :func:`estates` can plant a violation of: identification findings too.
ESTATE_PLANTABLE = (*PLANTABLE, "ID001")
#: DRS automation levels a cluster default may have.
DRS_BEHAVIORS = ("manual", "partiallyAutomated", "fullyAutomated")
#: Default HA restart priorities a cluster may have (``None``: unset, i.e. medium).
HA_DEFAULTS = (None, "disabled", "medium", "high")
#: A pool limit (MHz and MB) above anything drawn.
AMPLE_LIMIT = 1 << 30
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


# -- drawing one vCenter: the one machinery behind inventories() and estates() ------------


class _Vcenter:
    """One vCenter being drawn, and what planting and the final reservations need to know.

    :func:`inventories` draws one, :func:`estates` several. Everything is compliant as drawn;
    :meth:`plant` breaks one rule, :meth:`finish` sets the pools' reservations last (from
    where the appliances finally are) and reports what planting decided only then.
    """

    def __init__(self, draw: st.DrawFn, name: st.SearchStrategy[str], b: InventoryBuilder) -> None:
        self.draw, self.name, self.b = draw, name, b
        self.vcenter = b.source.vcenter
        self.datacenter = b.datacenter(draw(name))
        dvs = b.dvswitch(draw(name), self.datacenter)
        self.dv_ok = b.dv_portgroup(draw(name), dvs)
        self.dv_silent = b.dv_portgroup(
            draw(name), dvs, policy=NetworkPolicy(notify_switches=False)
        )
        self.clusters: list[str] = []
        self.hosts: dict[str, list[str]] = {}
        self.standalone_hosts: list[str] = []
        #: Per cluster: its reserved appliance pool, and an expandable child with none (or None).
        self.pools: dict[str, str] = {}
        self.subpools: dict[str, str | None] = {}
        #: (moid, cluster or None, active) of every appliance identified without doubt.
        self.appliances: list[tuple[str, str | None, bool]] = []
        #: (folded pair id, primary, secondary, cluster of both or None when they are apart)
        #: of the pairs within this vCenter.
        self.pairs: list[tuple[str, str, str, str | None]] = []
        self.next_chain = 10_000_000
        self.pinned_pairs = 0
        #: Plantings settled by finish(): clusters whose every appliance fails SA006, and an
        #: appliance whose pool's memory reservation is to fall short (SA007).
        self.drs_failing_clusters: set[str] = set()
        self.starved: str | None = None
        #: Every appliance's role, and what its history and network are as drawn, for the
        #: rules whose failures follow from several plantings together (settled in finish()).
        self.roles: dict[str, str] = {}
        self.vmotioned: set[str] = set()
        self.moved_by_drs: set[str] = set()
        self.network_broken: set[str] = set()
        #: Failures of other rules a planting causes too (an SA016 vMotion without static MACs
        #: is an SA001 failure as well).
        self.also: dict[str, set[str]] = defaultdict(set)

    # -- the estate's objects -----------------------------------------------------------

    def chain(self) -> int:
        """A fresh chain id for one operation's events."""
        self.next_chain += 1
        return self.next_chain

    def host_of(self, vm: str) -> str:
        """The VM's host (every drawn VM has one)."""
        host = self.b.vms[vm].host
        assert host is not None
        return host

    def core_mhz(self, vm: str) -> int:
        """The core speed of the VM's host."""
        return int(self.b.hosts[self.host_of(vm)]["cpu_mhz"])

    def add_host(self, cluster: str | None) -> str:
        """A host with the appliances' portgroup and a VM network that may not notify."""
        draw, b = self.draw, self.b
        host = b.host(
            draw(self.name),
            cluster,
            datacenter=self.datacenter,
            cpu_mhz=draw(st.sampled_from([2000, 2600, 3100])),
        )
        b.standard_portgroup(host, "scalearc-net")
        b.standard_portgroup(
            host, "VM Network", computed=NetworkPolicy(notify_switches=draw(st.booleans()))
        )
        return host

    def add_clusters(self, count: int, hosts_per_cluster: tuple[int, int]) -> None:
        """Clusters with their hosts and appliance pools, and maybe a standalone host."""
        draw, name, b = self.draw, self.name, self.b
        for _ in range(count):
            default = draw(st.sampled_from([None, *DRS_BEHAVIORS]))
            # A cluster may switch VM overrides off only where its own default does not migrate.
            honours = True if default in (None, "fullyAutomated") else draw(st.booleans())
            cluster = b.cluster(
                draw(name),
                self.datacenter,
                drs_default=default,  # type: ignore[arg-type]
                vm_overrides_enabled=honours,
                ha_enabled=draw(st.integers(0, 3)) > 0,
                ha_default_restart_priority=draw(st.sampled_from(HA_DEFAULTS)),
            )
            self.clusters.append(cluster)
            pool = self.pools[cluster] = b.pool(draw(name), b.root_pool(cluster))
            if draw(st.integers(0, 2)) == 0:
                # A limit no appliance reaches (and above any reservation the pool gets).
                b.set_pool_limits(pool, cpu=AMPLE_LIMIT, memory=AMPLE_LIMIT)
            self.subpools[cluster] = (
                b.pool(draw(name), pool, expandable=True) if draw(st.booleans()) else None
            )
            if draw(st.integers(0, 3)) == 0:
                # A child pool holding a reservation of its own: it consumes its parent's.
                b.pool(
                    draw(name),
                    pool,
                    cpu_reservation=draw(st.integers(1, 4000)),
                    memory_reservation=draw(st.integers(1, 8192)),
                )
            self.hosts[cluster] = [
                self.add_host(cluster) for _ in range(draw(st.integers(*hosts_per_cluster)))
            ]
        if draw(st.integers(0, 2)) == 0:
            self.standalone_hosts.append(self.add_host(None))

    def place(self) -> tuple[str, str]:
        """A cluster and one of its hosts."""
        cluster = self.draw(st.sampled_from(self.clusters))
        return cluster, self.draw(st.sampled_from(self.hosts[cluster]))

    # -- appliances -----------------------------------------------------------------------

    def add_appliance(
        self, role: str, pair: str | None, cluster: str | None, host: str, *, tagged: bool
    ) -> str:
        """An appliance identified without doubt, compliant, with the history vSphere allows:
        a cold move of an active appliance, a vMotion of a secondary, an HA restart."""
        draw, name, b = self.draw, self.name, self.b
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
        core = int(b.hosts[host]["cpu_mhz"])
        pool: str | None
        if cluster is None:
            # A standalone host's root pool reserves nothing: its own reservations must cover it.
            pool, cpu_own, memory_own = None, num_cpu * core, memory
        else:
            subpool = self.subpools[cluster]
            pool = subpool if subpool is not None and draw(st.booleans()) else self.pools[cluster]
            cpu_own, memory_own = draw(
                st.sampled_from([(0, 0), (0, 0), (0, memory // 2), (num_cpu * core, memory)])
            )
        # A limit, if any, at or above the size on any host (SA004's planting moves VMs).
        cpu_limit, memory_limit = draw(
            st.sampled_from([(-1, -1), (-1, -1), (num_cpu * 3100, memory), (-1, 2 * memory)])
        )
        vm = b.vm(
            draw(name),
            host,
            pool=pool,
            nics=nics,
            num_cpu=num_cpu,
            memory_mb=memory,
            cpu_reservation=cpu_own,
            memory_reservation=memory_own,
            cpu_limit=cpu_limit,
            memory_limit=memory_limit,
            custom_attributes=attributes,
            snapshots=fresh,
            tags=tags,
            power_state=draw(st.sampled_from(["poweredOn", "poweredOn", "poweredOff"])),
        )
        if cluster is not None:
            b.drs_override(
                cluster, vm, behavior=draw(st.sampled_from(["manual", "partiallyAutomated"]))
            )
            if role != "standalone":
                self.keep_from_ha_restart(cluster, vm)
        active = role != "secondary"
        if active and draw(st.integers(0, 3)) == 0:
            # A cold move: its start event says so, whatever the end event does not.
            chain = self.chain()
            start, end = draw(
                st.sampled_from(
                    [
                        ("VmBeingRelocatedEvent", "VmRelocatedEvent"),
                        ("VmBeingMigratedEvent", "VmMigratedEvent"),
                    ]
                )
            )
            age = timedelta(hours=draw(st.integers(1, 700)))
            b.event_of_type(start, vm, age=age, chain_id=chain)
            b.event_of_type(end, vm, age=age, chain_id=chain)
        if not active and draw(st.integers(0, 2)) == 0:
            # The vendor allows a secondary's vMotion; at least two days old, so that a
            # planted vMotion of its primary comes after it and cannot look like the
            # pair-move procedure.
            chain = self.chain()
            age = timedelta(hours=draw(st.integers(48, 700)))
            b.event_of_type("VmBeingHotMigratedEvent", vm, age=age, chain_id=chain)
            b.event_of_type("VmMigratedEvent", vm, age=age, chain_id=chain)
            self.vmotioned.add(vm)
        if role == "standalone" and draw(st.integers(0, 3)) == 0:
            # HA's restart is a standalone's only recovery: out of SA013's scope.
            b.event("ha-restart", vm, age=timedelta(hours=draw(st.integers(1, 700))))
        self.appliances.append((vm, cluster, active))
        self.roles[vm] = role
        return vm

    def keep_from_ha_restart(self, cluster: str, vm: str) -> None:
        """An HA pair member's restart priority as the vendor needs it: disabled, by its own
        override, or (no override, or one deferring to it) by the cluster's default; any
        priority where vSphere HA is off."""
        spec = self.b.clusters[cluster]
        if spec["ha_enabled"] and spec["ha_default"] != "disabled":
            choices: list[str | None] = ["disabled"]
        elif spec["ha_enabled"]:
            choices = [None, "clusterRestartPriority", "disabled"]
        else:
            choices = [None, "high", "disabled"]
        priority = self.draw(st.sampled_from(choices))
        if priority is not None:
            self.b.ha_override(cluster, vm, restart_priority=priority)

    def add_pairs(
        self, count: int, pair_ids: list[str], *, tagged: bool, apart_by_placement: bool = False
    ) -> None:
        """HA pairs on different hosts, kept apart by an anti-affinity rule, by "must run on"
        VM-Host rules, by both, or (``apart_by_placement``) by being in different clusters or
        on a standalone host."""
        draw, name, b = self.draw, self.name, self.b
        for _ in range(count):
            pair_id = _fresh_pair_id(draw, name, pair_ids)
            cluster = draw(st.sampled_from(self.clusters))
            h1, h2 = draw(st.permutations(self.hosts[cluster]))[:2]
            ways = ["anti-affinity", "vm-host", "both"]
            apart = draw(st.sampled_from([*ways, "clusters"] if apart_by_placement else ways))
            other = [c for c in self.clusters if c != cluster]
            second_cluster: str | None = cluster
            if apart == "clusters" and (other or self.standalone_hosts):
                # Different clusters, or a standalone host: DRS and HA never bring them together.
                choices: list[str | None] = [*other, *([None] if self.standalone_hosts else [])]
                second_cluster = draw(st.sampled_from(choices))
                h2 = (
                    draw(st.sampled_from(self.hosts[second_cluster]))
                    if second_cluster is not None
                    else self.standalone_hosts[0]
                )
            primary = self.add_appliance("primary", pair_id, cluster, h1, tagged=tagged)
            secondary = self.add_appliance("secondary", pair_id, second_cluster, h2, tagged=tagged)
            if second_cluster != cluster:
                self.pairs.append((fold(pair_id), primary, secondary, None))
                continue
            if apart in ("anti-affinity", "both", "clusters"):
                b.anti_affinity(cluster, draw(name), [primary, secondary])
            if apart in ("vm-host", "both"):
                self.pin_apart(cluster, primary, secondary)
            self.pairs.append((fold(pair_id), primary, secondary, cluster))

    def pin_apart(self, cluster: str, primary: str, secondary: str) -> None:
        """Mandatory "must run on" rules pinning the two VMs to disjoint host groups."""
        b = self.b
        index = self.pinned_pairs = self.pinned_pairs + 1
        hosts = self.draw(st.permutations(self.hosts[cluster]))
        first, second = b.vms[primary].host, b.vms[secondary].host
        rest = [h for h in hosts if h not in (first, second)]
        split = len(rest) // 2
        for role, vm, own, extra in (
            ("p", primary, first, rest[:split]),
            ("s", secondary, second, rest[split:]),
        ):
            b.vm_group(cluster, f"pair-{index}-{role}-vms", [vm])
            b.host_group(cluster, f"pair-{index}-{role}-hosts", [h for h in (own, *extra) if h])
            b.vm_host_rule(
                cluster,
                f"pair-{index}-{role}-must-run-on",
                f"pair-{index}-{role}-vms",
                f"pair-{index}-{role}-hosts",
            )

    def add_standalone_appliances(self, count: int, *, tagged: bool) -> None:
        """Standalone appliances, in a cluster or on a standalone host."""
        for _ in range(count):
            if self.standalone_hosts and self.draw(st.integers(0, 3)) == 0:
                self.add_appliance(
                    "standalone", None, None, self.standalone_hosts[0], tagged=tagged
                )
            else:
                self.add_appliance("standalone", None, *self.place(), tagged=tagged)

    def add_unidentified(self, pair: str | None) -> str:
        """A VM whose role sources disagree or give no role: ID001, never guessed."""
        draw = self.draw
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
        _, host = self.place()
        return self.b.vm(
            draw(self.name), host, nics=[self.b.nic()], custom_attributes=attributes, tags=tags
        )

    def add_ordinary_vms(self, count: int) -> None:
        """Ordinary VMs: anything goes, as long as it cannot make an appliance fail. Those in
        an appliance pool hold reservations the pool's reservation is raised to cover."""
        draw, name, b = self.draw, self.name, self.b
        for _ in range(count):
            cluster, host = self.place()
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
                pool=draw(st.sampled_from([None, self.pools[cluster], self.subpools[cluster]])),
                nics=nics,
                snapshots=old,
                custom_attributes={"owner": draw(name)},
                cpu_reservation=draw(st.sampled_from([0, 0, 500, 3000])),
                memory_reservation=draw(st.sampled_from([0, 0, 1024, 16384])),
                power_state=draw(st.sampled_from(["poweredOn", "poweredOff"])),
            )
            if draw(st.booleans()):
                b.event(
                    draw(
                        st.sampled_from(
                            [
                                "drs-migrate",
                                "relocate",
                                "revert",
                                "hot-migrate",
                                "cross-vcenter-migrate",
                            ]
                        )
                    ),
                    vm,
                    live=draw(st.sampled_from([True, False, None])),
                    chain_id=self.chain() if draw(st.booleans()) else None,
                )
            if draw(st.integers(0, 4)) == 0:
                b.event("ha-restart", vm, age=timedelta(hours=draw(st.integers(1, 700))))

    # -- planting ---------------------------------------------------------------------------

    def plant(self, rule: str, pair_ids: list[str], others: Sequence[_Vcenter]) -> set[str]:
        """Break ``rule`` once: the ids of the objects that must fail it now (what is settled
        only by the reservations comes from :meth:`finish`). ``others`` are the estate's
        other vCenters (an SA002 duplicate may sit in any of them)."""
        draw, name, b = self.draw, self.name, self.b
        if rule in ("SA004", "SA005"):
            together = [p for p in self.pairs if p[3] is not None]
            if not together:
                return set()
            pair_id, primary, secondary, cluster = draw(st.sampled_from(together))
            assert cluster is not None
            if rule == "SA004":
                _replace_vm(b, secondary, host=self.host_of(primary))
            else:
                _unseparate(b, cluster, {primary, secondary}, disable=draw(st.booleans()))
            return {pair_id}
        if rule == "SA011":
            lone = _fresh_pair_id(draw, name, pair_ids)
            self.add_appliance("primary", lone, *self.place(), tagged=draw(st.booleans()))
            return {fold(lone)}
        if rule == "ID001":
            pair = _fresh_pair_id(draw, name, pair_ids) if draw(st.booleans()) else None
            return {self.add_unidentified(pair)}
        candidates = [a for a in self.appliances if a[2] or rule != "SA009"]
        if not candidates:
            return set()
        vm_moid, cluster, _active = draw(st.sampled_from(candidates))
        target = b.vms[vm_moid]
        if rule in ("SA013", "SA016"):
            return self.plant_on_pair_member(rule)
        if rule == "SA001":
            nics = list(target.nics)
            if draw(st.booleans()):
                nics[0] = b.nic(key=nics[0].key, address_type="generated")
                self.network_broken.add(vm_moid)
            else:
                # Static, but where vCenter generates MACs (a warning).
                fourth, fifth = draw(st.integers(0x40, 0xFF)), draw(st.integers(0, 0xFFFF))
                mac = f"00:50:56:{fourth:02x}:{fifth >> 8:02x}:{fifth & 0xFF:02x}"
                nics[0] = b.nic(key=nics[0].key, mac=mac)
            _replace_vm(b, vm_moid, nics=nics)
        elif rule == "SA002":
            # The duplicate may sit in any vCenter of the estate: MACs clash across them.
            where = draw(st.sampled_from([self, *others]))
            where.b.vm(
                draw(name),
                where.place()[1] if where is not self else self.host_of(vm_moid),
                nics=[where.b.nic(network="VM Network", mac=target.nics[0].mac)],
            )
        elif rule == "SA003":
            nics = list(target.nics)
            nics[0] = b.nic(
                key=nics[0].key,
                portgroup=self.dv_silent,
                mac=nics[0].mac,
                address_type=nics[0].address_type,
            )
            _replace_vm(b, vm_moid, nics=nics)
            self.network_broken.add(vm_moid)
        elif rule == "SA006":
            if cluster is None:
                return set()  # outside a cluster DRS does not apply
            spec = b.clusters[cluster]
            if not spec["vm_overrides_enabled"]:
                spec["drs_default"] = "fullyAutomated"  # every VM of the cluster now fails
                self.drs_failing_clusters.add(cluster)
                return set()
            if spec["drs_default"] in (None, "fullyAutomated") and draw(st.booleans()):
                spec["vm_overrides_enabled"] = False  # the manual overrides no longer count
                self.drs_failing_clusters.add(cluster)
                return set()
            b.drs_override(cluster, vm_moid, behavior="fullyAutomated")
        elif rule == "SA007":
            if (
                cluster is not None
                and draw(st.booleans())
                and target.memory_allocation.reservation < target.memory_mb
            ):
                self.starved = vm_moid  # its pool's memory reservation falls short, in finish()
                return set()
            root = (
                b.root_pool(cluster)
                if cluster is not None
                else str(b.hosts[self.host_of(vm_moid)]["root_pool"])
            )
            _replace_vm(
                b,
                vm_moid,
                resource_pool=root,
                cpu_allocation=Allocation(),
                memory_allocation=Allocation(),
            )
        elif rule == "SA008":
            # In place of its fresh snapshot, if any: one snapshot, only too old (not SA015).
            age = timedelta(hours=draw(st.integers(25, 24 * 90)))
            _replace_vm(b, vm_moid, snapshots=[b.vm_snapshot(draw(name), age)])
        elif rule == "SA009":
            # Within two days, so after any vMotion of its partner (see add_appliance).
            age = timedelta(hours=draw(st.integers(1, 47)))
            how = draw(st.sampled_from(["drs", "hot", "encrypted", "arrived"]))
            self.vmotioned.add(vm_moid)
            if how == "drs":
                b.event("drs-migrate", vm_moid, age=timedelta(hours=draw(st.integers(1, 700))))
                self.moved_by_drs.add(vm_moid)
            elif how == "arrived":
                b.event_of_type("com.vmware.vc.vm.DstVmMigratedEvent", vm_moid, age=age)
            else:
                start = (
                    "VmBeingHotMigratedEvent"
                    if how == "hot"
                    else "com.vmware.vc.vm.VmHotMigratingWithEncryptionEvent"
                )
                chain = self.chain()
                b.event_of_type(start, vm_moid, age=age, chain_id=chain)
                b.event_of_type("VmRelocatedEvent", vm_moid, age=age, chain_id=chain)
        elif rule == "SA010":
            b.event("revert", vm_moid, age=timedelta(hours=draw(st.integers(1, 700))))
        elif rule == "SA012":
            # Any role; an active appliance's DRS move is an SA009 failure too (finish()).
            b.event("drs-migrate", vm_moid, age=timedelta(hours=draw(st.integers(1, 700))))
            self.moved_by_drs.add(vm_moid)
            self.vmotioned.add(vm_moid)
        elif rule == "SA014":
            return self.limit(vm_moid)
        elif rule == "SA015":
            how = draw(st.sampled_from(["consolidation", "second", "chained"]))
            if how == "consolidation":
                _replace_vm(b, vm_moid, consolidation_needed=True)
            else:
                fresh = b.vm_snapshot(draw(name), timedelta(minutes=draw(st.integers(1, 600))))
                old = target.snapshots or [
                    b.vm_snapshot(draw(name), timedelta(minutes=draw(st.integers(601, 1200))))
                ]
                if how == "second":
                    snapshots = [*old, fresh]
                else:
                    last = msgspec.structs.replace(old[-1], children=[fresh])
                    snapshots = [*old[:-1], last]
                _replace_vm(b, vm_moid, snapshots=snapshots)
        return {vm_moid}

    def plant_on_pair_member(self, rule: str) -> set[str]:
        """SA013: an HA pair member that vSphere HA would restart (a restart priority other
        than disabled) or has restarted; SA016: a secondary vMotioned (the vendor allows it)
        without a static MAC (an SA001 failure too) or with a portgroup that does not notify
        switches (an SA003 failure too)."""
        draw, b = self.draw, self.b
        roles = ("primary", "secondary") if rule == "SA013" else ("secondary",)
        members = [a for a in self.appliances if self.roles[a[0]] in roles]
        if not members:
            return set()
        vm_moid, cluster, _ = draw(st.sampled_from(members))
        if rule == "SA013":
            if cluster is not None and b.clusters[cluster]["ha_enabled"] and draw(st.booleans()):
                priority = draw(st.sampled_from(["medium", "high", "lowest"]))
                b.ha_override(cluster, vm_moid, restart_priority=priority)
            else:
                b.event("ha-restart", vm_moid, age=timedelta(hours=draw(st.integers(1, 700))))
            return {vm_moid}
        # Two days old at least, like every secondary's vMotion (see add_appliance).
        chain, age = self.chain(), timedelta(hours=draw(st.integers(48, 700)))
        b.event_of_type("VmBeingHotMigratedEvent", vm_moid, age=age, chain_id=chain)
        b.event_of_type("VmMigratedEvent", vm_moid, age=age, chain_id=chain)
        self.vmotioned.add(vm_moid)
        # Change one thing of its first vNIC and keep the rest (another planting's, too).
        nics = list(b.vms[vm_moid].nics)
        if draw(st.booleans()):
            # The MAC stays (an SA002 duplicate of it stays one); vCenter now manages it.
            nics[0] = msgspec.structs.replace(nics[0], address_type="generated")
            self.also["SA001"].add(vm_moid)
        else:
            silent = b.nic(key=nics[0].key, portgroup=self.dv_silent)
            nics[0] = msgspec.structs.replace(nics[0], backing=silent.backing)
            self.also["SA003"].add(vm_moid)
        _replace_vm(b, vm_moid, nics=nics)
        self.network_broken.add(vm_moid)
        return {vm_moid}

    def limit(self, vm_moid: str) -> set[str]:
        """SA014: a limit below the appliance's size, on the VM or on the expandable child pool
        it runs in (then every appliance there bigger than the limit fails). A limit is never
        below the reservations held under it: vSphere refuses that."""
        draw, b = self.draw, self.b
        vm = b.vms[vm_moid]
        resource = draw(st.sampled_from(["cpu", "memory"]))
        size = {"cpu": lambda v: v.num_cpu * self.core_mhz(v.moid), "memory": lambda v: v.memory_mb}
        held = {
            "cpu": lambda v: v.cpu_allocation.reservation,
            "memory": lambda v: v.memory_allocation.reservation,
        }
        pool = vm.resource_pool
        in_subpool = pool is not None and pool in self.subpools.values()
        if in_subpool and draw(st.booleans()):
            assert pool is not None
            inside = [v for v in b.vms.values() if v.resource_pool == pool]
            floor = sum(held[resource](v) for v in inside)
            if floor < size[resource](vm):
                amount = draw(st.integers(floor, size[resource](vm) - 1))
                other = b.pools[pool].memory.limit if resource == "cpu" else b.pools[pool].cpu.limit
                b.set_pool_limits(
                    pool,
                    cpu=amount if resource == "cpu" else other,
                    memory=amount if resource == "memory" else other,
                )
                return {
                    moid
                    for moid, _, _ in self.appliances
                    if b.vms[moid].resource_pool == pool and size[resource](b.vms[moid]) > amount
                }
        floor = held[resource](vm)
        if floor >= size[resource](vm):
            return set()  # its own reservation covers it: no lower limit is valid
        amount = draw(st.integers(floor, size[resource](vm) - 1))
        field = "cpu_allocation" if resource == "cpu" else "memory_allocation"
        _replace_vm(
            b, vm_moid, **{field: msgspec.structs.replace(getattr(vm, field), limit=amount)}
        )
        return {vm_moid}

    # -- reservations, last -----------------------------------------------------------------

    def in_pool_group(self, vm: str, pool: str, cluster: str) -> bool:
        """Whether the VM runs in ``pool`` or in the expandable child that draws on it."""
        return self.b.vms[vm].resource_pool in (pool, self.subpools[cluster])

    def held_and_needed(self, pool: str, cluster: str) -> tuple[int, int]:
        """The CPU and memory an appliance pool must reserve: every reservation held in it
        (its appliances' own, other VMs', its child pools') plus what its appliances need
        beyond their own. Written independently of ``snapshot.reservations``, as the tests'
        oracle."""
        b = self.b
        group = (pool, self.subpools[cluster])
        appliances = {moid for moid, _, _ in self.appliances}
        cpu = memory = 0
        for moid, vm in b.vms.items():
            if vm.resource_pool not in group or vm.template:
                continue
            cpu += vm.cpu_allocation.reservation
            memory += vm.memory_allocation.reservation
            if moid in appliances:
                cpu += max(vm.num_cpu * self.core_mhz(moid) - vm.cpu_allocation.reservation, 0)
                memory += max(vm.memory_mb - vm.memory_allocation.reservation, 0)
        for child in b.pools.values():
            if child.parent in group:
                cpu += child.cpu.reservation
                memory += child.memory.reservation
        return cpu, memory

    def finish(self, slack: int) -> dict[str, set[str]]:
        """Reserve in each appliance pool what it must (see :meth:`held_and_needed`) plus
        ``slack``, then settle the plantings that depend on it: rule id -> failing ids."""
        b = self.b
        for cluster, pool in self.pools.items():
            cpu, memory = self.held_and_needed(pool, cluster)
            b.set_pool_reservation(pool, cpu=max(cpu + slack, 1), memory=max(memory + slack, 1))
        settled: dict[str, set[str]] = defaultdict(set, {k: set(v) for k, v in self.also.items()})
        if self.starved is not None:
            settled["SA007"] |= self.starve(self.starved)
        for cluster in self.drs_failing_clusters:
            settled["SA006"] |= {moid for moid, c, _ in self.appliances if c == cluster}
        # What several plantings make together: DRS moves (of an active appliance, SA009
        # too), and vMotions of appliances whose MACs or switches another planting broke.
        settled["SA012"] |= self.moved_by_drs
        settled["SA009"] |= {moid for moid in self.moved_by_drs if self.roles[moid] != "secondary"}
        settled["SA016"] |= self.vmotioned & self.network_broken
        return {rule: found for rule, found in settled.items() if found}

    def starve(self, target: str) -> set[str]:
        """Reserve one MB less memory than the target's pool must: its appliances whose own
        reservation does not cover their memory fall short, and only they."""
        b = self.b
        cluster = next(c for c, p in self.pools.items() if self.in_pool_group(target, p, c))
        pool = self.pools[cluster]
        _, memory = self.held_and_needed(pool, cluster)
        b.set_pool_reservation(pool, cpu=b.pools[pool].cpu.reservation, memory=max(memory - 1, 0))
        if self.draw(st.booleans()):
            # A memory limit no appliance there exceeds (SA014 passes) but at the pool's
            # reservation: raising that to what the pool must reserve needs the limit gone.
            largest = max(
                b.vms[moid].memory_mb
                for moid, _, _ in self.appliances
                if self.in_pool_group(moid, pool, cluster)
            )
            b.set_pool_limits(pool, cpu=b.pools[pool].cpu.limit, memory=max(memory - 1, largest))
        return {
            moid
            for moid, _, _ in self.appliances
            if self.in_pool_group(moid, pool, cluster)
            and b.vms[moid].memory_allocation.reservation < b.vms[moid].memory_mb
        }


def _unseparate(b: InventoryBuilder, cluster: str, members: set[str], *, disable: bool) -> None:
    """Drop what keeps the members apart: their anti-affinity rule (or, ``disable``, leave it
    disabled); their VM-Host rules stay, disabled (so the rule says which rule would have
    covered them)."""
    groups = {
        g.name for g in b.clusters[cluster]["groups"] if g.kind == "vm" and set(g.members) & members
    }
    rules = b.clusters[cluster]["rules"]
    rules[:] = [
        msgspec.structs.replace(r, enabled=False)
        if (r.kind == "vm-host" and r.vm_group in groups)
        or (disable and r.kind == "vm-anti-affinity" and members <= set(r.vms))
        else r
        for r in rules
        if disable or not (r.kind == "vm-anti-affinity" and members <= set(r.vms))
    ]


def _replace_vm(b: InventoryBuilder, moid: str, **changes: Any) -> None:
    b.vms[moid] = msgspec.structs.replace(b.vms[moid], **changes)


def _identity(
    draw: st.DrawFn, role: str, pair: str | None, tagged: bool
) -> tuple[dict[str, str], list[Tag]]:
    """Custom attributes and tags naming ``role`` and ``pair``: the attribute, the tag, or
    both agreeing, with names and values in any case (tags only when ``tagged``)."""
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


def _exported_at(draw: st.DrawFn) -> datetime:
    return draw(
        st.datetimes(
            min_value=datetime(2024, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
        )
    )


def _check_plantable(plant: Collection[str], plantable: Sequence[str]) -> None:
    unknown = set(plant) - set(plantable)
    if unknown:
        raise ValueError(f"cannot plant {sorted(unknown)}; plantable: {plantable}")


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
    pairs_apart_by_placement: bool = False,
) -> SyntheticInventory:
    """Draw a valid inventory, compliant except for one violation of each rule in ``plant``.

    ``pairs_apart_by_placement`` also draws HA pairs whose members are in different
    clusters or on a standalone host (compliant for SA005; SA011 judges such pairs too).

    Besides the basics it draws what vSphere allows and the rules must judge right:
    clusters whose DRS ignores VM overrides (with a default that does not migrate), a
    standalone host whose appliances carry their own reservations, pairs kept apart by
    "must run on" VM-Host rules or by being in different clusters, appliances in an
    expandable child pool with no reservation of its own, other VMs and child pools holding
    reservations in the appliances' pools, partial own reservations, migrations as chains
    of events (cold moves of active appliances, vMotions of secondaries), and role
    attributes and tags spelt in any case.
    """
    _check_plantable(plant, PLANTABLE)
    name = names if names is not None else plain_names()
    builder = InventoryBuilder(
        vcenter=draw(st.sampled_from(["vc1.example", "vcenter.lab.example"])),
        exported_at=_exported_at(draw),
    )
    vc = _Vcenter(draw, name, builder)
    vc.add_clusters(
        draw(st.integers(1, max_clusters)), (min_hosts_per_cluster, max_hosts_per_cluster)
    )
    tagged = draw(st.booleans()) if use_tags is None else use_tags
    pair_ids: list[str] = []
    vc.add_pairs(
        draw(st.integers(min_pairs, max_pairs)),
        pair_ids,
        tagged=tagged,
        apart_by_placement=pairs_apart_by_placement,
    )
    # At least one appliance: a vCenter without any is an ID001 failure.
    vc.add_standalone_appliances(
        draw(st.integers(0 if vc.pairs else 1, max(max_standalone, 1))), tagged=tagged
    )
    vc.add_ordinary_vms(draw(st.integers(0, max_other_vms)))
    planted: dict[str, set[str]] = {rule: set() for rule in plant}
    for rule in sorted(plant):
        planted[rule] |= vc.plant(rule, pair_ids, others=())
    for rule, found in vc.finish(draw(st.integers(0, 2048))).items():
        planted.setdefault(rule, set()).update(found)
    return SyntheticInventory(vc.b.build(), {k: frozenset(v) for k, v in planted.items()})


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

    Each vCenter is drawn as :func:`inventories` draws one; besides: HA pairs split across
    two vCenters (one complete pair each, kept apart by being in different vCenters), moids
    repeating across vCenters, MACs unique across all of them (a planted SA002 duplicate
    may sit in another vCenter), and sometimes a vCenter without appliances that the
    selection's ``none_expected_in`` lists. Planting ID001 adds a VM whose role sources
    disagree in one vCenter and, with several vCenters, may instead leave one vCenter
    without any appliance.
    """
    _check_plantable(plant, ESTATE_PLANTABLE)
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
        vc.add_clusters(draw(st.integers(1, max_clusters)), (2, max_hosts_per_cluster))
    # A vCenter drawn without appliances: expected (listed in the selection) or planted.
    empty: _Vcenter | None = None
    expected_empty = False
    if count > 1 and draw(st.booleans()):
        empty = vcenters[-1]
        expected_empty = "ID001" not in plant or draw(st.booleans())
    populated = [vc for vc in vcenters if vc is not empty]
    pair_ids: list[str] = []
    for vc in populated:
        vc.add_pairs(draw(st.integers(0, max_pairs)), pair_ids, tagged=draw(st.booleans()))
    if len(populated) > 1:
        for _ in range(draw(st.integers(0, max_split_pairs))):
            first, second = draw(st.permutations(populated))[:2]
            pair_id = _fresh_pair_id(draw, name, pair_ids)
            # The two members spell the pair id differently: ids are compared case-folded.
            spelt = draw(st.sampled_from([pair_id, pair_id.upper(), f" {pair_id} "]))
            first.add_appliance("primary", pair_id, *first.place(), tagged=draw(st.booleans()))
            second.add_appliance("secondary", spelt, *second.place(), tagged=draw(st.booleans()))
    for vc in populated:
        vc.add_standalone_appliances(
            draw(st.integers(0 if vc.appliances else 1, max(max_standalone, 1))), tagged=True
        )
    for vc in vcenters:
        vc.add_ordinary_vms(draw(st.integers(0, max_other_vms)))

    planted: dict[str, set[tuple[str, str]]] = {rule: set() for rule in plant}
    unidentified: set[tuple[str, str]] = set()
    doubtful: set[tuple[str, str]] = set()
    for rule in sorted(plant):
        vc = draw(st.sampled_from(populated))
        others = [other for other in vcenters if other is not vc]
        before = len(pair_ids)
        found = vc.plant(rule, pair_ids, others)
        planted[rule] |= {(vc.vcenter, obj) for obj in found}
        if rule == "ID001":
            unidentified |= {(vc.vcenter, obj) for obj in found}
            doubtful |= {(vc.vcenter, pair) for pair in pair_ids[before:]}
    if empty is not None and not expected_empty:
        planted["ID001"].add((empty.vcenter, empty.vcenter))
    for vc in vcenters:
        for rule, found in vc.finish(draw(st.integers(0, 2048))).items():
            planted.setdefault(rule, set()).update((vc.vcenter, obj) for obj in found)
    # The vCenter without appliances is expected by name in any case.
    none_expected = [empty.vcenter.upper()] if empty is not None and expected_empty else []
    return SyntheticEstate(
        [vc.b.build() for vc in vcenters],
        {k: frozenset(v) for k, v in planted.items()},
        frozenset(unidentified),
        frozenset(doubtful),
        ApplianceSelection(none_expected_in=none_expected),
    )


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


def _run_inputs(
    snapshots: Snapshot | Sequence[Snapshot], config: Config | None, as_of: datetime | None
) -> RunInputs:
    """What a run of the built-in rules reads, in memory (each snapshot named by vCenter)."""
    given = [snapshots] if isinstance(snapshots, Snapshot) else list(snapshots)
    loaded = [
        LoadedSnapshot(path=f"{s.source.vcenter}.json", sha256="0" * 64, snapshot=s) for s in given
    ]
    rules = [builtin_rule(item) for item in sorted(_builtin_ids())]
    return RunInputs(loaded, rules, config or Config(), as_of)


def run_fix(
    snapshots: Snapshot | Sequence[Snapshot],
    *,
    config: Config | None = None,
    as_of: datetime | None = None,
) -> Fixed:
    """Run ``fix`` in memory with the built-in rules on one snapshot, or on several judged as
    one estate: the results, each vCenter's plan, the text of each plan with steps (keyed
    ``plan-<vCenter>.yaml``) and what keeps them from being proven (empty: proven)."""
    return make_fix(_run_inputs(snapshots, config, as_of), (), "plan-{vcenter}.yaml")


def run_plans(
    snapshots: Snapshot | Sequence[Snapshot],
    plans: Mapping[str, str],
    *,
    config: Config | None = None,
    as_of: datetime | None = None,
) -> EstateWhatIf:
    """Live plans (their YAML text, by vCenter) on an estate in memory and judge the planned
    estate as one, as ``fix`` proves its plans: the planned results compared with the
    current ones, with the plan findings. A plan error raises InputError."""
    inputs = _run_inputs(snapshots, config, as_of)
    by_index = {
        index: parse_plan(plans[loaded.snapshot.source.vcenter], f"plan-{index}.yaml")
        for index, loaded in enumerate(inputs.snapshots)
        if loaded.snapshot.source.vcenter in plans
    }
    return what_if_estate(inputs, by_index)
