"""What-if plans: a YAML list of planned changes, lived in memory as vSphere and ScaleArc HA would.

A plan file (``scalearc-lint whatif SNAPSHOT --plan PLAN.yaml``)::

    description: Firmware upgrade of esx-1     # optional, free text
    vcenter: vcenter.lab.example              # optional; must be the snapshot's vCenter
    steps:                                    # applied in order
      - stop_services: sa-alpha-2             # manual: vendor steps 2-3 (heartbeat, idblb...)
      - migrate: sa-alpha-2                   # VM: name, moid or instance UUID
        to: esx-3                             # host: name or moid
        mode: live                            # live (vMotion, VM running) | cold (VM off)
        pool: scalearc                        # optional resource pool (name or moid)
      - check_connectivity: sa-alpha-2        # manual: vendor step 5 (databases, the primary)
      - check_ha_lag: sa-alpha-2              # manual: vendor step 6 (lag within HA limits)
      - start_services: sa-alpha-2            # manual: vendor step 7
      - switchover: alpha                     # HA pair id: primary and secondary swap roles
      - maintenance: esx-1                    # enter maintenance: running VMs are evacuated
      - exit_maintenance: esx-1
      - power_off: sa-alpha-1
      - power_on: sa-alpha-1
      - take_snapshot: sa-alpha-1
        name: before-upgrade                  # optional
      - remove_snapshot: sa-alpha-1
        name: before-upgrade                  # optional; without it, every snapshot
      - consolidate: sa-alpha-1               # merge the delta disks a removal left behind
      - drs_override: sa-alpha-1
        behavior: manual                      # manual | partiallyAutomated | fullyAutomated
                                              # | disabled | inherit (remove the override)
      - drs_vm_overrides: cl-1                # a cluster (name or moid): whether DRS honours
        enabled: true                         # per-VM overrides (enableVmBehaviorOverrides)
      - add_anti_affinity: scalearc-alpha-apart
        vms: [sa-alpha-1, sa-alpha-2]
        enabled: true                         # optional, default true
      - remove_anti_affinity: scalearc-alpha-apart
        cluster: cl-1                         # optional, when several clusters have the name
      - enable_anti_affinity: scalearc-beta-apart
        cluster: cl-1                         # optional, when several clusters have the name
      - set_mac: sa-beta-1                    # VM (powered off): one vNIC's MAC made static
        nic: 4000                             # the vNIC's device key or label
        mac: 00:50:56:00:00:01                # the MAC it keeps (or gets)
      - portgroup_policy: dvpg-orders         # a distributed portgroup (name or moid), or
        host: esx-1                           # a standard portgroup on this host
        notify_switches: true                 # at least one of the three
        mac_changes: true                     # optional (SA003 strict)
        forged_transmits: true                # optional (SA003 strict)
      - create_pool: scalearc-appliances      # a child resource pool
        parent: Resources                     # pool name or moid (the cluster's root pool...)
        cpu_reservation: 8000                 # MHz
        memory_reservation: 16384             # MB
        expandable: false                     # optional, default false
      - set_reservation: scalearc             # a resource pool's reservation
        cpu: 8000                             # MHz; optional when memory is given
        memory: 16384                         # MB; optional when cpu is given
      - move_to_pool: sa-alpha-1              # into another pool of its cluster (no migration)
        pool: scalearc-appliances
      - remove_limit: sa-alpha-1              # a CPU and/or memory limit made unlimited
        of: vm                                # vm | pool
        resource: cpu                         # optional: cpu | memory (default both)
      - ha_override: sa-alpha-1               # vSphere HA restart priority for one VM
        restart_priority: disabled            # disabled | low | medium | high | highest |
                                              # lowest | clusterRestartPriority | inherit
      - confirm_outage: sa-solo               # manual: an active appliance goes down next

Every step may also carry ``note:`` (free text). A step that cannot happen (an
unknown VM or host, a live migration of a powered-off VM, a cold migration of a
running one, a host vCenter cannot use...) is a plan error: exit 2 naming the
file and line of the step.

How a step changes the simulated world (:class:`PlanState`: the snapshot, plus
which appliances' ScaleArc services a manual step stopped):

- ``migrate``: the source host must be connected (vCenter cannot move a VM off a
  disconnected or not-responding host); the destination must be connected, out
  of maintenance and powered on (not in DPM standby), and must carry every
  connected vNIC's network - the standard portgroup of that name on the host, or
  membership in the distributed switch - as vCenter's compatibility check
  requires. What the snapshot cannot tell (unexported portgroups or switch
  members, opaque networks) is assumed and recorded as :class:`Unverified`. A
  move to another compute resource (another cluster, or a standalone host) puts
  the VM into that resource's root pool (unless ``pool`` says otherwise) and
  out of the old cluster's DRS overrides, rules and groups, as vCenter does.
- ``maintenance`` (on a connected host) moves every powered-on VM by live
  migration, as DRS does: to a usable host of its cluster that carries its
  networks, where no VM sharing an enabled anti-affinity rule with it and no
  member of its own HA pair runs; among those the one running the fewest VMs,
  then by name. When no such host is left the VM goes to the least-loaded
  compatible host anyway, and the step reports the pair (or rule) that could no
  longer be kept apart; a VM no usable host can take is a plan error.
  Powered-off VMs stay registered on the host.
- ``switchover`` needs the pair's primary and secondary both powered on, on
  reachable hosts; it swaps their roles (cause ``switchover``).
- ``power_off`` of an HA primary, or ``stop_services`` on it (its heartbeat
  stops), is a failure as ScaleArc HA sees it: a running secondary whose services
  run takes over (both roles change, cause ``failover``); with none, the pair is
  down and the roles stay. ``power_on`` boots the VM with its services running.
- Roles change wherever identification reads them
  (:func:`scalearc_lint.snapshot.identification.with_role`: the role custom
  attribute and the role tag alike). A selection by name cannot express a role
  change, so a switchover or failover under it is a plan error.
- The manual steps (``stop_services``, ``check_connectivity``, ``check_ha_lag``,
  ``start_services``) name an appliance; apart from the services flag and the
  failover above they change nothing. The change-plan lint (PLAN008) requires
  them around each live migration of a secondary.
- ``take_snapshot`` creates the snapshot at the run's as-of time. ``consolidate``
  (``ConsolidateVMDisks_Task``) merges the delta disks a failed removal left behind: the
  VM no longer needs consolidation (``runtime.consolidationNeeded`` false).
- ``set_mac`` needs the VM powered off (vCenter does not change a running VM's MAC); the
  vNIC becomes ``manual`` with the MAC given. ``portgroup_policy`` sets the policy of a
  distributed portgroup, or of a standard portgroup on one host (its own override, which
  is then also the effective policy). ``create_pool`` adds a child pool owned by the
  parent's cluster or host; ``set_reservation`` and ``remove_limit`` change allocations;
  ``move_to_pool`` moves a VM between pools of its own compute resource (a VM in another
  cluster needs ``migrate``); ``ha_override`` sets or removes a VM's HA restart priority;
  ``drs_vm_overrides`` sets the cluster's ``drsConfig.enableVmBehaviorOverrides`` (while it
  is false DRS applies the cluster default to every VM and ignores their overrides).
- ``confirm_outage`` is a manual step: the person carrying the plan out confirms that the
  named active appliance may go down (a standalone's power-off is an outage).

Applying a plan never changes the snapshot it is given: each step derives a new
frozen state (``msgspec.structs.replace``); :class:`PlanRun` keeps every
intermediate state with what the step did (moves, role changes, assumptions),
for the change-plan lint (:mod:`scalearc_lint.change.planlint`) and for anyone
who wants to inspect the simulation step by step.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import msgspec

from scalearc_lint.change.observed import KINDS, Facts, ObjectKey
from scalearc_lint.errors import InputError
from scalearc_lint.io.yamlfile import YamlDocument, YamlPath, load_yaml, parse_yaml
from scalearc_lint.snapshot.identification import (
    ApplianceSelection,
    Identifier,
    Role,
    fold,
    with_role,
)
from scalearc_lint.snapshot.inventory import Inventory
from scalearc_lint.snapshot.model import (
    Allocation,
    Cluster,
    ClusterRule,
    DrsVmOverride,
    HaVmOverride,
    Host,
    Nic,
    ResourcePool,
    Snapshot,
    VirtualMachine,
    VmSnapshot,
)
from scalearc_lint.snapshot.reservations import RESOURCES, UNITS, above_limit, allocation

_TOP_LEVEL_KEYS = ("description", "vcenter", "steps", "observed", "unplanned")
_COMMON_KEYS = ("note",)
MIGRATION_MODES = ("live", "cold")
DRS_SETTINGS = ("manual", "partiallyAutomated", "fullyAutomated", "disabled", "inherit")
#: ``ClusterDasVmSettingsRestartPriority`` values, plus ``inherit`` (remove the override).
RESTART_PRIORITIES = (
    "disabled",
    "lowest",
    "low",
    "medium",
    "high",
    "highest",
    "clusterRestartPriority",
    "inherit",
)
POLICY_KEYS = ("notify_switches", "mac_changes", "forged_transmits")
LIMIT_OBJECTS = ("vm", "pool")
#: A MAC address as plans write it (lower case, colons).
MAC_PATTERN = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")


@dataclass(frozen=True, slots=True)
class Step:
    """One planned change: ``op`` applied to ``target`` with ``params``, at a file and line."""

    index: int
    op: str
    target: Any
    params: Mapping[str, Any]
    doc: YamlDocument = field(repr=False, compare=False)

    @property
    def at(self) -> YamlPath:
        """The step's path in the plan document."""
        return ("steps", self.index - 1)

    @property
    def location(self) -> str:
        """``file:line`` of the step."""
        return self.doc.where(self.at)

    @property
    def manual(self) -> bool:
        """Whether a person carries this step out (``apply`` pauses for confirmation)."""
        return OPERATIONS[self.op].manual

    def where(self, key: str | None = None) -> str:
        """``file:line`` of one of the step's keys (or of the step)."""
        return self.doc.where((*self.at, key) if key else self.at)

    @property
    def summary(self) -> str:
        """A short human description: ``migrate sa-1 to esx-2 (live)``."""
        p = {k: v for k, v in self.params.items() if k not in _COMMON_KEYS}
        text = f"{self.op} {param_text(self.target)}"
        if self.op == "migrate":
            text += f" to {p.pop('to')} ({p.pop('mode')})"
        extra = ", ".join(f"{k} {param_text(v)}" for k, v in p.items())
        return f"{text}, {extra}" if extra else text

    def error(self, message: str, key: str | None = None) -> InputError:
        """A plan error naming this step."""
        return InputError(f"{self.where(key)}: step {self.index} ({self.op}): {message}")


def param_text(value: Any) -> str:
    """A step's parameter as the plan file spells it (``true``, ``[a, b]``)."""
    if isinstance(value, list):
        return "[" + ", ".join(param_text(v) for v in value) + "]"
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


@dataclass(frozen=True, slots=True)
class Plan:
    """A validated plan file (names not yet resolved against a snapshot).

    ``observed`` is what ``fix`` saw of every object the plan changes (see
    :mod:`scalearc_lint.change.observed`); ``unplanned`` the findings it listed without
    a step. A hand-written plan has neither.
    """

    path: str
    description: str
    vcenter: str | None
    steps: tuple[Step, ...]
    observed: Mapping[ObjectKey, Facts] = field(default_factory=dict)
    unplanned: tuple[Mapping[str, Any], ...] = ()
    doc: YamlDocument | None = field(default=None, repr=False, compare=False)

    def where(self, key: str) -> str:
        """``file:line`` of a top-level key."""
        return self.doc.where((key,)) if self.doc is not None else self.path


def load_plan(path: str | Path) -> Plan:
    """Read and validate the shape of a plan file; every problem names file and line."""
    return _plan(load_yaml(path, what="plan"))


def parse_plan(text: str, path: str) -> Plan:
    """Validate plan text (named ``path`` in messages) as :func:`load_plan` does a file."""
    return _plan(parse_yaml(text, path, what="plan"))


def _plan(doc: YamlDocument) -> Plan:
    data = doc.data
    if not isinstance(data, dict):
        raise InputError(f"{doc.where(())}: a plan is a mapping with keys description, steps")
    for key in data:
        if key not in _TOP_LEVEL_KEYS:
            raise InputError(
                f"{doc.where((key,))}: unknown key {key!r} (known: {', '.join(_TOP_LEVEL_KEYS)})"
            )
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        raise InputError(f"{doc.where(('steps',))}: steps: expected a non-empty list of steps")
    for key in ("description", "vcenter"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise InputError(f"{doc.where((key,))}: {key}: expected text")
    steps = tuple(_step(doc, i, raw) for i, raw in enumerate(raw_steps))
    return Plan(
        doc.path,
        data.get("description") or "",
        data.get("vcenter"),
        steps,
        _observed(doc, data.get("observed")),
        _unplanned(doc, data.get("unplanned")),
        doc,
    )


def _observed(doc: YamlDocument, raw: Any) -> dict[ObjectKey, Facts]:
    """``observed:``: ``KIND MOID: {property: text}`` for each object (see ``observed``)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InputError(f"{doc.where(('observed',))}: observed: expected a mapping")
    result: dict[ObjectKey, Facts] = {}
    for key, facts in raw.items():
        where = doc.where(("observed", key))
        kind, _, moid = str(key).partition(" ")
        if kind not in KINDS or not moid.strip():
            raise InputError(
                f"{where}: observed: {key!r} is not 'KIND MOID' (kinds: {', '.join(KINDS)})"
            )
        if not isinstance(facts, dict) or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in facts.values()
        ):
            raise InputError(f"{where}: observed: {key}: expected a mapping of texts")
        result[(kind, moid.strip())] = {str(k): str(v) for k, v in facts.items()}
    return result


def _unplanned(doc: YamlDocument, raw: Any) -> tuple[Mapping[str, Any], ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise InputError(f"{doc.where(('unplanned',))}: unplanned: expected a list of findings")
    return tuple(raw)


def _step(doc: YamlDocument, i: int, raw: Any) -> Step:
    where = doc.where(("steps", i))
    known_ops = ", ".join(OPERATIONS)
    if not isinstance(raw, dict):
        raise InputError(f"{where}: step {i + 1}: expected a mapping such as {{migrate: VM, ...}}")
    ops = [key for key in raw if key in OPERATIONS]
    if len(ops) != 1:
        found = f"several ({', '.join(ops)})" if ops else "none"
        raise InputError(
            f"{where}: step {i + 1}: expected exactly one operation key, found {found} "
            f"(operations: {known_ops})"
        )
    op = ops[0]
    required, optional = OPERATIONS[op].required, OPERATIONS[op].optional
    allowed = {op, *required, *optional, *_COMMON_KEYS}
    for key in raw:
        if key not in allowed:
            raise InputError(
                f"{doc.where(('steps', i, key))}: step {i + 1} ({op}): unknown key {key!r} "
                f"(allowed: {', '.join(sorted(allowed))})"
            )
    for key in (op, *required):
        if raw.get(key) is None or raw.get(key) == "":
            raise InputError(f"{where}: step {i + 1} ({op}): missing {key!r}")
    params = {k: v for k, v in raw.items() if k != op}
    step = Step(i + 1, op, raw[op], params, doc)
    _check_values(step)
    return step


def _check_values(step: Step) -> None:
    p = step.params
    if step.op == "add_anti_affinity":
        vms = p["vms"]
        if not isinstance(vms, list) or len(vms) < 2:
            raise step.error("vms: expected a list of at least two VMs", "vms")
        if not isinstance(p.get("enabled", True), bool):
            raise step.error("enabled: expected true or false", "enabled")
    elif isinstance(step.target, list | dict | bool):
        raise step.error(f"{step.op}: expected one name", step.op)
    if step.op == "migrate" and p["mode"] not in MIGRATION_MODES:
        raise step.error(f"mode: expected live or cold, got {p['mode']!r}", "mode")
    if step.op == "drs_override" and p["behavior"] not in DRS_SETTINGS:
        raise step.error(
            f"behavior: expected one of {', '.join(DRS_SETTINGS)}, got {p['behavior']!r}",
            "behavior",
        )
    _check_remedy_values(step)


def _one_of(step: Step, key: str, allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    if key in step.params and step.params[key] not in allowed:
        raise step.error(
            f"{key}: expected one of {', '.join(allowed)}, got {step.params[key]!r}", key
        )


def _amount(step: Step, key: str, *, minimum: int = 0) -> None:
    value = step.params.get(key)
    if key in step.params and (
        isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= 1 << 40
    ):
        raise step.error(f"{key}: expected a whole number from {minimum}, got {value!r}", key)


def _check_remedy_values(step: Step) -> None:
    """The parameters of the step kinds ``fix`` writes (their names checked by ``_step``)."""
    p = step.params
    if step.op == "set_mac":
        mac = p["mac"]
        if not isinstance(mac, str) or not MAC_PATTERN.match(mac.strip().lower().replace("-", ":")):
            raise step.error(f"mac: expected a MAC such as 00:50:56:00:00:01, got {mac!r}", "mac")
        if isinstance(p["nic"], bool | list | dict):
            raise step.error("nic: expected the vNIC's device key or label", "nic")
    elif step.op == "portgroup_policy":
        given = [key for key in POLICY_KEYS if key in p]
        if not given:
            raise step.error(f"expected at least one of {', '.join(POLICY_KEYS)}")
        for key in given:
            if p[key] is not True:
                raise step.error(f"{key}: only true is planned (accept / notify)", key)
    elif step.op == "create_pool":
        _amount(step, "cpu_reservation")
        _amount(step, "memory_reservation")
        if not isinstance(p.get("expandable", False), bool):
            raise step.error("expandable: expected true or false", "expandable")
    elif step.op == "set_reservation":
        if "cpu" not in p and "memory" not in p:
            raise step.error("expected cpu, memory or both")
        _amount(step, "cpu")
        _amount(step, "memory")
    elif step.op == "remove_limit":
        _one_of(step, "of", LIMIT_OBJECTS)
        _one_of(step, "resource", RESOURCES)
    elif step.op == "ha_override":
        _one_of(step, "restart_priority", RESTART_PRIORITIES)
    elif step.op == "drs_vm_overrides" and not isinstance(p["enabled"], bool):
        raise step.error("enabled: expected true or false", "enabled")


# -- the simulated world ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PlanState:
    """The simulated world at one moment of a plan: the inventory, and what vCenter does
    not record - the appliances whose ScaleArc and HA services a manual step stopped."""

    snapshot: Snapshot
    services_stopped: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Move:
    """A VM changing host in a step."""

    vm: str
    source: str | None
    dest: str
    live: bool


RoleChangeCause = Literal["switchover", "failover"]


@dataclass(frozen=True, slots=True)
class RoleChange:
    """An HA role changing in a step: by a manual switchover, or by a failover when the
    primary goes down and the secondary takes over the traffic."""

    vm: str
    before: Role
    after: Role
    cause: RoleChangeCause


@dataclass(frozen=True, slots=True)
class Unverified:
    """Something a step needs that the snapshot cannot confirm; the simulation assumed it."""

    vm: str
    what: str


@dataclass(frozen=True, slots=True)
class StepOutcome:
    """One step with the states before and after it and what it did."""

    step: Step
    before: PlanState
    after: PlanState
    moves: tuple[Move, ...] = ()
    role_changes: tuple[RoleChange, ...] = ()
    #: Maintenance only: what could no longer be kept apart (pair ids, rule names).
    not_kept_apart: tuple[str, ...] = ()
    #: take_snapshot only: (VM moid, snapshot moid).
    taken: tuple[str, str] | None = None
    unverified: tuple[Unverified, ...] = ()
    #: The moid of the VM the step names, for steps that name one.
    vm: str | None = None


@dataclass(frozen=True, slots=True)
class PlanRun:
    """A plan applied to a snapshot: every step's outcome and the final state."""

    plan: Plan
    initial: Snapshot
    outcomes: tuple[StepOutcome, ...]

    @property
    def states(self) -> list[PlanState]:
        """The state before the first step, then after each step."""
        return [PlanState(self.initial), *(o.after for o in self.outcomes)]

    @property
    def final(self) -> Snapshot:
        """The planned state."""
        return self.outcomes[-1].after.snapshot if self.outcomes else self.initial


def apply_plan(
    snapshot: Snapshot, plan: Plan, *, selection: ApplianceSelection, at: datetime
) -> PlanRun:
    """Apply every step in order; ``snapshot`` is left as it was."""
    if plan.vcenter is not None and plan.vcenter != snapshot.source.vcenter:
        raise InputError(
            f"{plan.steps[0].doc.where(('vcenter',))}: plan is for vCenter {plan.vcenter!r}, "
            f"the snapshot is of {snapshot.source.vcenter!r}"
        )
    outcomes: list[StepOutcome] = []
    state = PlanState(snapshot)
    for step in plan.steps:
        outcome = OPERATIONS[step.op].apply(_Context(step, state, selection, at))
        outcomes.append(outcome)
        state = outcome.after
    return PlanRun(plan, snapshot, tuple(outcomes))


@dataclass(frozen=True)
class _Context:
    step: Step
    state: PlanState
    selection: ApplianceSelection
    at: datetime

    @property
    def snapshot(self) -> Snapshot:
        """The inventory before this step."""
        return self.state.snapshot

    @cached_property
    def inventory(self) -> Inventory:
        """The inventory view of the state before this step."""
        return Inventory(self.snapshot, as_of=self.at, selection=self.selection)

    def vm(self, ref: Any, key: str | None = None) -> VirtualMachine:
        """The VM named by moid, instance UUID or (unique) name."""
        text = str(ref)
        vms = self.snapshot.vms
        if text in vms:
            return vms[text]
        found = [vm for vm in vms.values() if text in (vm.name, vm.instance_uuid)]
        if len(found) > 1:
            moids = ", ".join(sorted(vm.moid for vm in found))
            raise self.step.error(f"{text!r} names several VMs ({moids}); use a moid", key)
        if not found:
            raise self.step.error(f"no VM {text!r} in the snapshot", key or self.step.op)
        return found[0]

    def host(self, ref: Any, key: str | None = None) -> Host:
        """The host named by moid or (unique) name."""
        text = str(ref)
        hosts = self.snapshot.hosts
        found = [hosts[text]] if text in hosts else [h for h in hosts.values() if h.name == text]
        if len(found) != 1:
            what = "several hosts" if found else "no host"
            raise self.step.error(f"{what} {text!r} in the snapshot", key or self.step.op)
        return found[0]

    def pool(self, ref: Any, key: str | None = None) -> ResourcePool:
        """The resource pool named by moid or (unique) name."""
        text = str(ref)
        pools = self.snapshot.resource_pools
        found = [pools[text]] if text in pools else [p for p in pools.values() if p.name == text]
        if len(found) != 1:
            what = "several resource pools" if found else "no resource pool"
            raise self.step.error(f"{what} {text!r} in the snapshot", key or self.step.op)
        return found[0]

    def anti_affinity_rule(self, name: str) -> tuple[Cluster, ClusterRule]:
        """The cluster and VM-VM anti-affinity rule called ``name``; ``cluster:`` narrows
        to one cluster, ``key:`` to one rule (vSphere's ClusterRuleInfo.key, unique in its
        cluster: names need not be)."""
        wanted = self.step.params.get("cluster")
        key = self.step.params.get("key")
        found = [
            (c, r)
            for c in self.snapshot.clusters.values()
            if wanted is None or str(wanted) in (c.moid, c.name)
            for r in c.rules
            if r.name == name
            and r.kind == "vm-anti-affinity"
            and (key is None or str(r.key) == str(key))
        ]
        if not found:
            keyed = f" with key {key}" if key is not None else ""
            raise self.step.error(f"no cluster has an anti-affinity rule named {name!r}{keyed}")
        if len(found) > 1:
            clusters = {c.moid for c, _ in found}
            if len(clusters) > 1:
                raise self.step.error(
                    f"several clusters have an anti-affinity rule named {name!r} (add cluster:)"
                )
            keys = ", ".join(str(r.key) for _, r in found)
            raise self.step.error(
                f"cluster {found[0][0].name} has several anti-affinity rules named {name!r} "
                f"(keys {keys}; add key:)"
            )
        return found[0]

    def cluster(self, ref: Any, key: str | None = None) -> Cluster:
        """The cluster named by moid or (unique) name."""
        text = str(ref)
        clusters = self.snapshot.clusters
        found = [c for c in clusters.values() if c.name == text]
        if text in clusters:
            found = [clusters[text]]
        if len(found) != 1:
            what = "several clusters" if found else "no cluster"
            raise self.step.error(f"{what} {text!r} in the snapshot", key or self.step.op)
        return found[0]

    def cluster_of(self, vm: VirtualMachine) -> Cluster:
        """The VM's cluster, or a plan error."""
        cluster = self.snapshot.clusters.get(vm.cluster or "")
        if cluster is None:
            raise self.step.error(f"{vm.name} is not in a cluster")
        return cluster

    def reachable_host(self, vm: VirtualMachine, doing: str) -> Host:
        """The host ``vm`` is registered on, which vCenter must reach to act on it."""
        host = self.snapshot.hosts.get(vm.host or "")
        if host is None:
            raise self.step.error(f"{vm.name} has no host in the snapshot; cannot {doing} it")
        if host.connection_state != "connected":
            raise self.step.error(
                f"{vm.name} is on {host.name}, which is {host.connection_state}: vCenter cannot "
                f"{doing} a VM on a host it cannot reach"
            )
        return host

    def done(
        self,
        snapshot: Snapshot | None = None,
        *,
        services_stopped: frozenset[str] | None = None,
        **facts: Any,
    ) -> StepOutcome:
        """The outcome of this step."""
        after = PlanState(
            snapshot if snapshot is not None else self.snapshot,
            self.state.services_stopped if services_stopped is None else services_stopped,
        )
        return StepOutcome(self.step, self.state, after, **facts)


def _with_vm(state: Snapshot, vm: VirtualMachine) -> Snapshot:
    return msgspec.structs.replace(state, vms={**state.vms, vm.moid: vm})


def _with_cluster(state: Snapshot, cluster: Cluster) -> Snapshot:
    return msgspec.structs.replace(state, clusters={**state.clusters, cluster.moid: cluster})


def _with_host(state: Snapshot, host: Host) -> Snapshot:
    return msgspec.structs.replace(state, hosts={**state.hosts, host.moid: host})


def unusable(host: Host) -> str | None:
    """Why vCenter cannot place a running VM on ``host`` now, or ``None`` when it can."""
    if host.connection_state != "connected":
        return f"is {host.connection_state}"
    if host.in_maintenance:
        return "is in maintenance mode"
    if host.power_state == "standBy":
        return "is in standby (DPM)"
    if host.power_state != "poweredOn":
        return f"is {host.power_state}"
    return None


def _networks(ctx: _Context, vm: VirtualMachine, host: Host) -> tuple[list[str], list[str]]:
    """The connected vNICs of ``vm`` whose network ``host`` lacks, and those it cannot tell."""
    inventory = ctx.inventory
    if inventory.unreadable("vm", vm.moid, "nics"):
        return [], [f"{host.name} carries the networks of {vm.name} (its vNICs were not exported)"]
    missing: list[str] = []
    unsure: list[str] = []
    for nic in vm.nics:
        if not nic.connected:
            continue  # vCenter's compatibility check only insists on connected adapters
        label = f"{nic.label or f'adapter {nic.key}'} on {nic.backing.kind} network "
        label += repr(nic.backing.network)
        carried = inventory.carries_network(host, nic)
        if carried is False:
            missing.append(label)
        elif carried is None:
            unsure.append(f"{host.name} carries {label} of {vm.name} (not in the snapshot)")
    return missing, unsure


def _migrate(ctx: _Context) -> StepOutcome:
    step = ctx.step
    vm = ctx.vm(step.target)
    dest = ctx.host(step.params["to"], "to")
    live = step.params["mode"] == "live"
    ctx.reachable_host(vm, "migrate")
    reason = unusable(dest)
    if reason is not None:
        raise step.error(f"host {dest.name} {reason}; vCenter cannot migrate a VM to it", "to")
    if vm.host == dest.moid:
        raise step.error(f"{vm.name} already runs on {dest.name} at this step", "to")
    if live and vm.power_state != "poweredOn":
        raise step.error(
            f"{vm.name} is {vm.power_state} at this step; a live migration needs it running "
            "(use mode: cold)",
            "mode",
        )
    if not live and vm.power_state == "poweredOn":
        raise step.error(
            f"{vm.name} is running at this step; power it off first (a power_off step) "
            "for a cold migration",
            "mode",
        )
    missing, unsure = _networks(ctx, vm, dest)
    if missing:
        raise step.error(
            f"{dest.name} lacks the network of {vm.name}'s {'; '.join(missing)}: vCenter's "
            "compatibility check refuses the migration",
            "to",
        )
    after = _place(ctx, ctx.snapshot, vm, dest, pool=_pool(ctx, dest))
    return ctx.done(
        after,
        moves=(Move(vm.moid, vm.host, dest.moid, live),),
        unverified=tuple(Unverified(vm.moid, what) for what in unsure),
        vm=vm.moid,
    )


def _pool(ctx: _Context, dest: Host) -> str | None:
    ref = ctx.step.params.get("pool")
    if ref is None:
        return None
    pools = ctx.snapshot.resource_pools
    text = str(ref)
    owner = dest.cluster or dest.moid
    found: list[ResourcePool] = (
        [pools[text]] if text in pools else [p for p in pools.values() if p.name == text]
    )
    found = [p for p in found if p.owner == owner]
    if len(found) != 1:
        what = "several pools" if found else "no pool"
        raise ctx.step.error(f"{what} {text!r} where {dest.name} is", "pool")
    return found[0].moid


def _place(
    ctx: _Context, state: Snapshot, vm: VirtualMachine, dest: Host, *, pool: str | None
) -> Snapshot:
    """``vm`` on ``dest``; a new compute resource means its root pool and no old DRS settings."""
    leaving = (dest.cluster or dest.moid) != (vm.cluster or vm.host)
    if leaving:
        old = state.clusters.get(vm.cluster or "")
        if old is not None:
            state = _with_cluster(state, _without_vm(old, vm.moid))
        pool = pool or ctx.inventory.root_pool(dest)
    moved = msgspec.structs.replace(
        vm, host=dest.moid, cluster=dest.cluster, resource_pool=pool or vm.resource_pool
    )
    return _with_vm(state, moved)


def _without_vm(cluster: Cluster, vm: str) -> Cluster:
    drs = msgspec.structs.replace(
        cluster.drs, vm_overrides={k: v for k, v in cluster.drs.vm_overrides.items() if k != vm}
    )
    ha = msgspec.structs.replace(
        cluster.ha, vm_overrides={k: v for k, v in cluster.ha.vm_overrides.items() if k != vm}
    )
    rules = [msgspec.structs.replace(r, vms=[m for m in r.vms if m != vm]) for r in cluster.rules]
    groups = [
        msgspec.structs.replace(g, members=[m for m in g.members if m != vm or g.kind == "host"])
        for g in cluster.groups
    ]
    return msgspec.structs.replace(cluster, drs=drs, ha=ha, rules=rules, groups=groups)


def _maintenance(ctx: _Context) -> StepOutcome:
    step = ctx.step
    host = ctx.host(step.target)
    if host.in_maintenance:
        raise step.error(f"host {host.name} is already in maintenance at this step")
    if host.connection_state != "connected":
        raise step.error(
            f"host {host.name} is {host.connection_state}: vCenter cannot put a host it "
            "cannot reach into maintenance mode"
        )
    state = _with_host(ctx.snapshot, msgspec.structs.replace(host, in_maintenance=True))
    running = sorted(
        (vm for vm in state.vms.values() if vm.host == host.moid and vm.power_state == "poweredOn"),
        key=lambda vm: vm.moid,
    )
    cluster = state.clusters.get(host.cluster or "")
    members = [state.hosts[m] for m in (cluster.hosts if cluster else [])]
    candidates = [h for h in members if unusable(h) is None]
    if running and not candidates:
        raise step.error(
            f"no other usable host in the cluster of {host.name} takes its "
            f"{len(running)} running VM(s)"
        )
    apart = _apart_from(ctx.inventory)
    moves: list[Move] = []
    not_kept: list[str] = []
    unverified: list[Unverified] = []
    for vm in running:
        fits = {h.moid: _networks(ctx, vm, h) for h in candidates}
        compatible = [h for h in candidates if not fits[h.moid][0]]
        if not compatible:
            raise step.error(
                f"no usable host of the cluster of {host.name} carries the networks of "
                f"{vm.name} ({'; '.join(fits[candidates[0].moid][0])} on {candidates[0].name}); "
                "vCenter cannot evacuate it"
            )
        load = Counter(v.host for v in state.vms.values() if v.power_state == "poweredOn")
        taken = {state.vms[other].host: why for other, why in apart.get(vm.moid, {}).items()}
        ranked = sorted(compatible, key=lambda h: (h.moid in taken, load[h.moid], h.name))
        dest = ranked[0]
        if dest.moid in taken:
            not_kept.append(taken[dest.moid])
        state = _place(ctx, state, vm, dest, pool=None)
        moves.append(Move(vm.moid, host.moid, dest.moid, True))
        unverified.extend(Unverified(vm.moid, what) for what in fits[dest.moid][1])
    return ctx.done(
        state,
        moves=tuple(moves),
        not_kept_apart=tuple(dict.fromkeys(not_kept)),
        unverified=tuple(unverified),
    )


def _apart_from(inventory: Inventory) -> dict[str, dict[str, str]]:
    """VM -> {VM it must not share a host with: why (``pair p1`` / ``rule r``)}."""
    state = inventory.snapshot
    apart: dict[str, dict[str, str]] = {}

    def keep(members: Iterable[str], why: str) -> None:
        ms = [m for m in members if m in state.vms]
        for a in ms:
            for b in ms:
                if a != b:
                    apart.setdefault(a, {}).setdefault(b, why)

    for pair in inventory.pairs.values():
        if not pair.orphan:
            keep((m.vm.moid for m in pair.members), f"pair {pair.id}")
    for cluster in state.clusters.values():
        for rule in cluster.rules:
            if rule.kind == "vm-anti-affinity" and rule.enabled:
                keep(rule.vms, f"anti-affinity rule {rule.name}")
    return apart


def _exit_maintenance(ctx: _Context) -> StepOutcome:
    host = ctx.host(ctx.step.target)
    if not host.in_maintenance:
        raise ctx.step.error(f"host {host.name} is not in maintenance at this step")
    if host.connection_state != "connected":
        raise ctx.step.error(f"host {host.name} is {host.connection_state} at this step")
    return ctx.done(_with_host(ctx.snapshot, msgspec.structs.replace(host, in_maintenance=False)))


def _power(on: bool) -> Callable[[_Context], StepOutcome]:
    wanted = "poweredOn" if on else "poweredOff"

    def apply(ctx: _Context) -> StepOutcome:
        vm = ctx.vm(ctx.step.target)
        if vm.power_state == wanted:
            raise ctx.step.error(f"{vm.name} is already {wanted} at this step")
        host = ctx.reachable_host(vm, "power on" if on else "power off")
        reason = unusable(host)
        if on and reason is not None:
            raise ctx.step.error(f"{vm.name} cannot run on {host.name}: the host {reason}")
        after = _with_vm(ctx.snapshot, msgspec.structs.replace(vm, power_state=wanted))
        if on:
            # A boot starts the ScaleArc and HA services (the vendor's "or preferably reboot").
            return ctx.done(
                after, services_stopped=ctx.state.services_stopped - {vm.moid}, vm=vm.moid
            )
        after, changes = _failover(ctx, after, vm)
        return ctx.done(after, role_changes=changes, vm=vm.moid)

    return apply


def _failover(
    ctx: _Context, state: Snapshot, failed: VirtualMachine
) -> tuple[Snapshot, tuple[RoleChange, ...]]:
    """The primary ``failed`` stopped serving: its running secondary takes over, if it can.

    "In an emergency, the HA Secondary detects failure of the HA Primary and takes over
    the traffic." A secondary that is powered off or whose services are stopped detects
    nothing, and the pair is down with its roles unchanged.
    """
    appliance = ctx.inventory.appliances.get(failed.moid)
    if appliance is None or appliance.role is not Role.PRIMARY or appliance.pair is None:
        return state, ()
    pair = ctx.inventory.pairs.get(appliance.pair)
    partners = [
        m.vm.moid
        for m in (pair.members if pair is not None else ())
        if m.vm.moid != failed.moid and m.role is Role.SECONDARY
    ]
    if len(partners) != 1:
        return state, ()
    partner = state.vms[partners[0]]
    if partner.power_state != "poweredOn" or partner.moid in ctx.state.services_stopped:
        return state, ()
    if ctx.selection.by == "name":
        raise ctx.step.error(
            f"{failed.name} is the primary: {partner.name} takes over, but appliances are "
            "selected by name, so roles cannot change in the simulation"
        )
    changes = (
        RoleChange(failed.moid, Role.PRIMARY, Role.SECONDARY, "failover"),
        RoleChange(partner.moid, Role.SECONDARY, Role.PRIMARY, "failover"),
    )
    return _with_roles(ctx, state, changes), changes


def _with_roles(ctx: _Context, state: Snapshot, changes: Iterable[RoleChange]) -> Snapshot:
    for change in changes:
        state = _with_vm(state, with_role(state.vms[change.vm], ctx.selection, change.after))
    return state


def _appliance_vm(ctx: _Context) -> VirtualMachine:
    """The step's target, which must be a ScaleArc appliance (a manual step names one)."""
    vm = ctx.vm(ctx.step.target)
    if Identifier(ctx.selection).identify(vm) is None:
        raise ctx.step.error(
            f"{vm.name} is not a ScaleArc appliance; {ctx.step.op} is one of the vendor's "
            "steps for moving an appliance"
        )
    return vm


def _stop_services(ctx: _Context) -> StepOutcome:
    vm = _appliance_vm(ctx)
    stopped = ctx.state.services_stopped | {vm.moid}
    if vm.moid in ctx.state.services_stopped or vm.power_state != "poweredOn":
        return ctx.done(services_stopped=stopped, vm=vm.moid)
    # The heartbeat stops: to HA that is the failure of this appliance.
    after, changes = _failover(ctx, ctx.snapshot, vm)
    return ctx.done(after, services_stopped=stopped, role_changes=changes, vm=vm.moid)


def _start_services(ctx: _Context) -> StepOutcome:
    vm = _appliance_vm(ctx)
    return ctx.done(services_stopped=ctx.state.services_stopped - {vm.moid}, vm=vm.moid)


def _check(ctx: _Context) -> StepOutcome:
    return ctx.done(vm=_appliance_vm(ctx).moid)


def _take_snapshot(ctx: _Context) -> StepOutcome:
    vm = ctx.vm(ctx.step.target)
    moid = f"snapshot-whatif-{ctx.step.index}"
    name = str(ctx.step.params.get("name") or f"whatif step {ctx.step.index}")
    node = VmSnapshot(moid=moid, name=name, created=ctx.at)
    after = _with_vm(ctx.snapshot, msgspec.structs.replace(vm, snapshots=[*vm.snapshots, node]))
    return ctx.done(after, taken=(vm.moid, moid), vm=vm.moid)


def _remove_snapshot(ctx: _Context) -> StepOutcome:
    vm = ctx.vm(ctx.step.target)
    name = ctx.step.params.get("name")
    if name is None:
        if not vm.snapshots:
            raise ctx.step.error(f"{vm.name} has no snapshot at this step")
        kept: list[VmSnapshot] = []
    else:
        kept = _drop_named(vm.snapshots, str(name))
        if kept == vm.snapshots:
            raise ctx.step.error(f"{vm.name} has no snapshot named {name!r} at this step", "name")
    after = _with_vm(ctx.snapshot, msgspec.structs.replace(vm, snapshots=kept))
    return ctx.done(after, vm=vm.moid)


def _consolidate(ctx: _Context) -> StepOutcome:
    vm = ctx.vm(ctx.step.target)
    if not vm.consolidation_needed:
        raise ctx.step.error(f"{vm.name} does not need disk consolidation at this step")
    after = _with_vm(ctx.snapshot, msgspec.structs.replace(vm, consolidation_needed=False))
    return ctx.done(after, vm=vm.moid)


def _drop_named(nodes: list[VmSnapshot], name: str) -> list[VmSnapshot]:
    """The tree without nodes called ``name``; their children move up, as vSphere does."""
    out: list[VmSnapshot] = []
    for node in nodes:
        children = _drop_named(node.children, name)
        if node.name == name:
            out.extend(children)
        else:
            out.append(msgspec.structs.replace(node, children=children))
    return out


def _switchover(ctx: _Context) -> StepOutcome:
    step = ctx.step
    if ctx.selection.by == "name":
        raise step.error(
            "appliances are selected by name, so roles cannot change; "
            "a switchover needs roles in custom attributes or tags"
        )
    pair = ctx.inventory.pairs.get(fold(str(step.target)))
    roles = sorted(str(m.role) for m in pair.members) if pair is not None else []
    if pair is None or roles != ["primary", "secondary"]:
        found = ", ".join(roles) if roles else "no members"
        raise step.error(f"pair {step.target!r} needs one primary and one secondary ({found})")
    for member in pair.members:
        if member.vm.power_state != "poweredOn":
            raise step.error(
                f"{member.vm.name} is {member.vm.power_state} at this step; a switchover needs "
                "both members of the pair running"
            )
        ctx.reachable_host(member.vm, "switch over")
    changes = tuple(
        RoleChange(member.vm.moid, Role.PRIMARY, Role.SECONDARY, "switchover")
        if member.role is Role.PRIMARY
        else RoleChange(member.vm.moid, Role.SECONDARY, Role.PRIMARY, "switchover")
        for member in pair.members
    )
    return ctx.done(_with_roles(ctx, ctx.snapshot, changes), role_changes=changes)


def _drs_override(ctx: _Context) -> StepOutcome:
    vm = ctx.vm(ctx.step.target)
    cluster = ctx.cluster_of(vm)
    setting = ctx.step.params["behavior"]
    overrides = {k: v for k, v in cluster.drs.vm_overrides.items() if k != vm.moid}
    if setting == "disabled":
        overrides[vm.moid] = DrsVmOverride(enabled=False)
    elif setting != "inherit":
        # vCenter records a behaviour override with DRS enabled for the VM.
        overrides[vm.moid] = DrsVmOverride(enabled=True, behavior=setting)
    drs = msgspec.structs.replace(cluster.drs, vm_overrides=dict(sorted(overrides.items())))
    after = _with_cluster(ctx.snapshot, msgspec.structs.replace(cluster, drs=drs))
    return ctx.done(after, vm=vm.moid)


def _drs_vm_overrides(ctx: _Context) -> StepOutcome:
    cluster = ctx.cluster(ctx.step.target)
    drs = msgspec.structs.replace(
        cluster.drs, enable_vm_behavior_overrides=ctx.step.params["enabled"]
    )
    after = _with_cluster(ctx.snapshot, msgspec.structs.replace(cluster, drs=drs))
    return ctx.done(after)


def _add_anti_affinity(ctx: _Context) -> StepOutcome:
    step = ctx.step
    vms = [ctx.vm(ref, "vms") for ref in step.params["vms"]]
    clusters = {vm.cluster for vm in vms}
    if len(clusters) != 1:
        raise step.error("the VMs of one anti-affinity rule must be in one cluster", "vms")
    cluster = ctx.cluster_of(vms[0])
    name = str(step.target)
    if any(r.name == name for r in cluster.rules):
        raise step.error(f"cluster {cluster.name} already has a rule named {name!r}")
    rule = ClusterRule(
        key=max((r.key for r in cluster.rules), default=0) + 1,
        name=name,
        kind="vm-anti-affinity",
        enabled=step.params.get("enabled", True),
        vms=[vm.moid for vm in vms],
    )
    after = msgspec.structs.replace(cluster, rules=[*cluster.rules, rule])
    return ctx.done(_with_cluster(ctx.snapshot, after))


def _remove_anti_affinity(ctx: _Context) -> StepOutcome:
    cluster, rule = ctx.anti_affinity_rule(str(ctx.step.target))
    rules = [r for r in cluster.rules if r is not rule]
    return ctx.done(_with_cluster(ctx.snapshot, msgspec.structs.replace(cluster, rules=rules)))


# -- the step kinds remediation writes (``fix``) ------------------------------------------


def _enable_anti_affinity(ctx: _Context) -> StepOutcome:
    step = ctx.step
    cluster, rule = ctx.anti_affinity_rule(str(step.target))
    if rule.enabled:
        raise step.error(f"rule {rule.name!r} of cluster {cluster.name} is already enabled")
    rules = [msgspec.structs.replace(r, enabled=True) if r is rule else r for r in cluster.rules]
    return ctx.done(_with_cluster(ctx.snapshot, msgspec.structs.replace(cluster, rules=rules)))


def nic_of(vm: VirtualMachine, ref: Any) -> Nic | None:
    """The vNIC of ``vm`` named by its device key or its label."""
    text = str(ref)
    return next((n for n in vm.nics if str(n.key) == text or n.label == text), None)


def _set_mac(ctx: _Context) -> StepOutcome:
    step = ctx.step
    vm = ctx.vm(step.target)
    nic = nic_of(vm, step.params["nic"])
    if nic is None:
        raise step.error(f"{vm.name} has no vNIC {step.params['nic']!r}", "nic")
    if vm.power_state != "poweredOff":
        raise step.error(
            f"{vm.name} is {vm.power_state} at this step; vCenter changes a vNIC's MAC only "
            "while the VM is powered off (add a power_off step before)"
        )
    mac = str(step.params["mac"]).strip().lower().replace("-", ":")
    nics = [
        msgspec.structs.replace(n, address_type="manual", mac=mac) if n.key == nic.key else n
        for n in vm.nics
    ]
    after = _with_vm(ctx.snapshot, msgspec.structs.replace(vm, nics=nics))
    return ctx.done(after, vm=vm.moid)


def _portgroup_policy(ctx: _Context) -> StepOutcome:
    step = ctx.step
    wanted = {key: True for key in POLICY_KEYS if key in step.params}
    name = str(step.target)
    if step.params.get("host") is None:
        found = [pg for pg in ctx.snapshot.dv_portgroups.values() if name in (pg.moid, pg.name)]
        if len(found) != 1:
            what = "several distributed portgroups" if found else "no distributed portgroup"
            raise step.error(f"{what} {name!r} in the snapshot (a standard one needs host:)")
        portgroup = found[0]
        policy = msgspec.structs.replace(portgroup.policy, **wanted)
        changed = msgspec.structs.replace(portgroup, policy=policy)
        after = msgspec.structs.replace(
            ctx.snapshot, dv_portgroups={**ctx.snapshot.dv_portgroups, changed.moid: changed}
        )
        return ctx.done(after)
    host = ctx.host(step.params["host"], "host")
    if host.connection_state != "connected":
        raise step.error(f"host {host.name} is {host.connection_state}: vCenter cannot reach it")
    if not any(pg.name == name for pg in host.portgroups):
        raise step.error(f"host {host.name} has no standard portgroup {name!r}")
    portgroups = [
        msgspec.structs.replace(
            pg,
            spec=msgspec.structs.replace(pg.spec, **wanted),
            computed=msgspec.structs.replace(pg.computed, **wanted),
        )
        if pg.name == name
        else pg
        for pg in host.portgroups
    ]
    return ctx.done(_with_host(ctx.snapshot, msgspec.structs.replace(host, portgroups=portgroups)))


def _allocation(old: Allocation, reservation: Any) -> Allocation:
    return old if reservation is None else msgspec.structs.replace(old, reservation=reservation)


def _with_pool(state: Snapshot, pool: ResourcePool) -> Snapshot:
    return msgspec.structs.replace(state, resource_pools={**state.resource_pools, pool.moid: pool})


def _create_pool(ctx: _Context) -> StepOutcome:
    step = ctx.step
    parent = ctx.pool(step.params["parent"], "parent")
    name = str(step.target)
    if any(
        p.parent == parent.moid and p.name == name for p in ctx.snapshot.resource_pools.values()
    ):
        raise step.error(f"pool {parent.name} already has a child pool named {name!r}")
    expandable = step.params.get("expandable", False)
    pool = ResourcePool(
        moid=f"resgroup-whatif-{step.index}",
        name=name,
        owner=parent.owner,
        parent=parent.moid,
        cpu=Allocation(reservation=step.params["cpu_reservation"], expandable=expandable),
        memory=Allocation(reservation=step.params["memory_reservation"], expandable=expandable),
    )
    _within_capacity(ctx, pool)
    return ctx.done(_with_pool(ctx.snapshot, pool))


def _within_capacity(ctx: _Context, pool: ResourcePool) -> None:
    """vCenter's admission control, in its simplest form: a pool of a cluster cannot reserve
    more than the cluster's hosts have (what the snapshot cannot size is not judged)."""
    cluster = ctx.snapshot.clusters.get(pool.owner)
    hosts = (
        [ctx.snapshot.hosts[h] for h in cluster.hosts if h in ctx.snapshot.hosts] if cluster else []
    )
    cpu = sum(h.cpu_mhz * h.cpu_cores for h in hosts)
    memory = sum(h.memory_mb for h in hosts)
    for resource, have, want in (
        ("CPU", cpu, pool.cpu.reservation),
        ("memory", memory, pool.memory.reservation),
    ):
        if have and want > have:
            raise ctx.step.error(
                f"a {resource} reservation of {want} exceeds what the hosts of cluster "
                f"{cluster.name if cluster else pool.owner} have ({have}); vCenter's admission "
                "control refuses it"
            )


def _set_reservation(ctx: _Context) -> StepOutcome:
    step = ctx.step
    pool = ctx.pool(step.target)
    if pool.parent is None:
        raise step.error(f"{pool.name} is a root pool: vCenter does not reserve on it")
    changed = msgspec.structs.replace(
        pool,
        cpu=_allocation(pool.cpu, step.params.get("cpu")),
        memory=_allocation(pool.memory, step.params.get("memory")),
    )
    for resource in RESOURCES:
        now = allocation(changed, resource)
        if resource in step.params and above_limit(now):
            raise step.error(
                f"a {resource} reservation of {now.reservation} {UNITS[resource]} is above "
                f"pool {pool.name}'s {resource} limit of {now.limit} {UNITS[resource]}; "
                "vCenter refuses a reservation above a limit (remove_limit first)",
                resource,
            )
    _within_capacity(ctx, changed)
    return ctx.done(_with_pool(ctx.snapshot, changed))


def _move_to_pool(ctx: _Context) -> StepOutcome:
    step = ctx.step
    vm = ctx.vm(step.target)
    pool = ctx.pool(step.params["pool"], "pool")
    owner = vm.cluster or vm.host
    if pool.owner != owner:
        raise step.error(
            f"pool {pool.name} belongs to another compute resource than {vm.name}'s; moving "
            "there is a migration (use migrate with pool:)",
            "pool",
        )
    if vm.resource_pool == pool.moid:
        raise step.error(f"{vm.name} is already in pool {pool.name} at this step", "pool")
    after = _with_vm(ctx.snapshot, msgspec.structs.replace(vm, resource_pool=pool.moid))
    return ctx.done(after, vm=vm.moid)


def _remove_limit(ctx: _Context) -> StepOutcome:
    step = ctx.step
    resources = [step.params["resource"]] if "resource" in step.params else list(RESOURCES)
    unlimited = dict.fromkeys(resources, True)

    def lifted(old: Allocation, resource: str) -> Allocation:
        return msgspec.structs.replace(old, limit=-1) if unlimited.get(resource) else old

    if step.params["of"] == "pool":
        pool = ctx.pool(step.target)
        changed = msgspec.structs.replace(
            pool, cpu=lifted(pool.cpu, "cpu"), memory=lifted(pool.memory, "memory")
        )
        return ctx.done(_with_pool(ctx.snapshot, changed))
    vm = ctx.vm(step.target)
    moved = msgspec.structs.replace(
        vm,
        cpu_allocation=lifted(vm.cpu_allocation, "cpu"),
        memory_allocation=lifted(vm.memory_allocation, "memory"),
    )
    return ctx.done(_with_vm(ctx.snapshot, moved), vm=vm.moid)


def _ha_override(ctx: _Context) -> StepOutcome:
    vm = ctx.vm(ctx.step.target)
    cluster = ctx.cluster_of(vm)
    setting = ctx.step.params["restart_priority"]
    overrides = {k: v for k, v in cluster.ha.vm_overrides.items() if k != vm.moid}
    if setting != "inherit":
        old = cluster.ha.vm_overrides.get(vm.moid, HaVmOverride())
        overrides[vm.moid] = msgspec.structs.replace(old, restart_priority=setting)
    ha = msgspec.structs.replace(cluster.ha, vm_overrides=dict(sorted(overrides.items())))
    after = _with_cluster(ctx.snapshot, msgspec.structs.replace(cluster, ha=ha))
    return ctx.done(after, vm=vm.moid)


def _confirm_outage(ctx: _Context) -> StepOutcome:
    return ctx.done(vm=_appliance_vm(ctx).moid)


@dataclass(frozen=True, slots=True)
class Operation:
    """A kind of plan step: the parameters it takes and how it changes the simulated world."""

    apply: Callable[[_Context], StepOutcome]
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    #: Carried out by a person, not by ``apply`` (which pauses for confirmation): the
    #: vendor's manual steps 2-7 ("vMotion and similar technologies with ScaleArc HA"),
    #: required in order around a secondary's move (PLAN008), the switchover (done in
    #: ScaleArc's GUI) and ``confirm_outage``.
    manual: bool = False
    #: The vSphere privileges ``apply`` needs for the step (besides System.Read, to re-read
    #: the objects it touches); "a or b (when)" where it depends on the object.
    privileges: tuple[str, ...] = ()


#: Every operation a plan step may name (the step's key), in the order the docs list them.
OPERATIONS: dict[str, Operation] = {
    "migrate": Operation(
        _migrate,
        ("to", "mode"),
        ("pool",),
        privileges=(
            "Resource.HotMigrate (live)",
            "Resource.ColdMigrate (cold)",
            "Resource.AssignVMToPool (pool:)",
        ),
    ),
    "maintenance": Operation(_maintenance, privileges=("Host.Config.Maintenance",)),
    "exit_maintenance": Operation(_exit_maintenance, privileges=("Host.Config.Maintenance",)),
    "power_off": Operation(_power(on=False), privileges=("VirtualMachine.Interact.PowerOff",)),
    "power_on": Operation(_power(on=True), privileges=("VirtualMachine.Interact.PowerOn",)),
    "take_snapshot": Operation(
        _take_snapshot, optional=("name",), privileges=("VirtualMachine.State.CreateSnapshot",)
    ),
    "remove_snapshot": Operation(
        _remove_snapshot, optional=("name",), privileges=("VirtualMachine.State.RemoveSnapshot",)
    ),
    "consolidate": Operation(_consolidate, privileges=("VirtualMachine.State.RemoveSnapshot",)),
    "switchover": Operation(_switchover, manual=True),
    "drs_override": Operation(
        _drs_override, ("behavior",), privileges=("Host.Inventory.EditCluster",)
    ),
    "drs_vm_overrides": Operation(
        _drs_vm_overrides, ("enabled",), privileges=("Host.Inventory.EditCluster",)
    ),
    "add_anti_affinity": Operation(
        _add_anti_affinity, ("vms",), ("enabled",), privileges=("Host.Inventory.EditCluster",)
    ),
    "remove_anti_affinity": Operation(
        _remove_anti_affinity,
        optional=("cluster", "key"),
        privileges=("Host.Inventory.EditCluster",),
    ),
    "enable_anti_affinity": Operation(
        _enable_anti_affinity,
        optional=("cluster", "key"),
        privileges=("Host.Inventory.EditCluster",),
    ),
    "set_mac": Operation(
        _set_mac, ("nic", "mac"), privileges=("VirtualMachine.Config.EditDevice",)
    ),
    "portgroup_policy": Operation(
        _portgroup_policy,
        optional=("host", *POLICY_KEYS),
        privileges=("DVPortgroup.PolicyOp (distributed)", "Host.Config.Network (standard)"),
    ),
    "create_pool": Operation(
        _create_pool,
        ("parent", "cpu_reservation", "memory_reservation"),
        ("expandable",),
        privileges=("Resource.CreatePool",),
    ),
    "set_reservation": Operation(
        _set_reservation, optional=("cpu", "memory"), privileges=("Resource.EditPool",)
    ),
    "move_to_pool": Operation(_move_to_pool, ("pool",), privileges=("Resource.AssignVMToPool",)),
    "remove_limit": Operation(
        _remove_limit,
        ("of",),
        ("resource",),
        privileges=("VirtualMachine.Config.Resource (of: vm)", "Resource.EditPool (of: pool)"),
    ),
    "ha_override": Operation(
        _ha_override, ("restart_priority",), privileges=("Host.Inventory.EditCluster",)
    ),
    "confirm_outage": Operation(_confirm_outage, manual=True),
    "stop_services": Operation(_stop_services, manual=True),
    "check_connectivity": Operation(_check, manual=True),
    "check_ha_lag": Operation(_check, manual=True),
    "start_services": Operation(_start_services, manual=True),
}


def privileges_by_step_kind() -> list[tuple[str, str]]:
    """(step kinds, privileges) for ``apply --help`` and the docs: kinds needing the same
    privileges share a line; manual steps need none (a person carries them out)."""
    by_privileges: dict[tuple[str, ...], list[str]] = {}
    for op, operation in OPERATIONS.items():
        if not operation.manual:
            by_privileges.setdefault(operation.privileges, []).append(op)
    return [(", ".join(ops), "; ".join(needed)) for needed, ops in by_privileges.items()]
