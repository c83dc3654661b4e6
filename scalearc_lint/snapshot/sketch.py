"""A compact notation for small inventories, used by rule examples and tests.

A sketch states only what differs from a compliant lab: one datacenter, a
cluster ``cl-1`` with hosts ``esx-1``..``esx-N`` (DRS fully automated by
default, VM overrides honoured), a standard portgroup ``scalearc-net`` on every host and
a distributed portgroup ``dv-scalearc`` (both notifying switches and accepting MAC
changes), and a child pool ``scalearc`` reserving what its appliances (and those of the
sketch's own pools) are configured for; vSphere HA is on in every cluster (default restart
priority unset, i.e. medium). Appliances get a static unique MAC and a manual DRS override,
pair members an HA restart priority ``disabled``, and pairs an enabled anti-affinity rule
with members on different hosts.

Keys (all optional)::

    hosts: 2                          # number of hosts in cl-1
    clusters: {cl-2: {hosts: 2, drs_enabled: true, drs_default: manual,
                      vm_overrides_enabled: false,    # null: unknown, as in schema 1
                      ha_enabled: true, ha_default: disabled}}   # HA default restart priority
    standalone_hosts: 1                         # standalone-1.. outside any cluster
    host_states: {esx-2: {connection_state: notResponding, power_state: standBy,
                          in_maintenance: true}}
    host_networks: {esx-3: [VM Network]}        # standard portgroups there (default: both)
    dv_hosts: [esx-1, esx-2]                    # dvs-1 members (default: every host;
                                                # unknown: membership not exported)
    network: {notify_switches: false}           # scalearc-net on every host
    network_by_host: {esx-2: {notify_switches: false}}
    dv_network: {notify_switches: false}        # dv-scalearc
    pool: {cpu: 0, memory: 0, expandable: true, # scalearc pool reservations
           cpu_limit: 4000, memory_limit: 4096} #   and limits (default: none)
    pools: {batch: {parent: scalearc, cpu: 0, memory: 0, expandable: true, cluster: cl-1,
                    cpu_limit: -1, memory_limit: -1}}
    appliances:
      sa-1: {role: primary, pair: p1, host: esx-1, cluster: cl-1, by: tags,
             nics: [{type: generated, mac: "00:50:56:00:00:01", network: dv}],
             pool: root | scalearc | batch, cpu_reservation: 0, memory_reservation: 0,
             drs: fullyAutomated | none | disabled, snapshots: [26h, -2h],  # -: after export
             snapshots_chained: true,           # each snapshot a child of the one before
             consolidation_needed: true,
             ha_restart: disabled | none | high | clusterRestartPriority,  # VM override
             num_cpu: 2, memory_mb: 8192, cpu_limit: -1, memory_limit: -1,
             attributes: {ScaleArc-Role: primary},             # instead of what role/pair
             tags: [{category: scalearc-role, name: primary}]}  # and by would write
    vms: {web-1: {host: esx-1, nics: [{mac: "00:50:56:00:00:01"}], pool: scalearc,
                  cpu_reservation: 0, memory_reservation: 0, power_state: poweredOff,
                  attributes: {}, tags: []}}
    pairs: {p1: {anti_affinity: false | disabled}}
    vm_host_rules: [{vms: [sa-1], hosts: [esx-1], mandatory: true, enabled: true,
                     affine: true, cluster: cl-1}]
    events: [{vm: sa-1, kind: drs-migrate, live: true, age: 2h},
             {vm: sa-1, type: VmRelocatedEvent, chain: 7, from: esx-2}]
    events_collected: true
    event_types: schema-1                       # what an older export selected
    unreadable: [{kind: vm, vm: sa-1, property: nics},
                 {kind: cluster, cluster: cl-1, property: configuration},
                 {kind: host, host: esx-2, property: portgroups}]
    vcenters: {vc-b.example: {appliances: {sa-2: {role: secondary, pair: p1}}}}

The sketch describes the vCenter ``vcenter.lab.example``; ``vcenters`` adds other
vCenters of the same run, each a sketch of its own (moids repeat across them, as in
real vCenters; generated MACs do not). :func:`build` builds the first vCenter only,
:func:`build_estate` all of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from scalearc_lint.snapshot.builder import COMPLIANT_POLICY, InventoryBuilder
from scalearc_lint.snapshot.model import (
    SCHEMA_1_EVENT_TYPES,
    NetworkPolicy,
    Nic,
    Snapshot,
    Tag,
    VmSnapshot,
)
from scalearc_lint.text import parse_duration

ROLE_ATTRIBUTE = "scalearc-role"
PAIR_ATTRIBUTE = "scalearc-ha-pair"


def _policy(overrides: Mapping[str, Any] | None) -> NetworkPolicy:
    if not overrides:
        return COMPLIANT_POLICY
    fields = {f: getattr(COMPLIANT_POLICY, f) for f in NetworkPolicy.__struct_fields__}
    fields.update(overrides)
    return NetworkPolicy(**fields)


def _age(value: str) -> timedelta:
    """``26h`` before the export, or ``-2h``: after it (a clock running ahead)."""
    if value.startswith("-"):
        return -parse_duration(value[1:])
    return parse_duration(value)


def _snapshots(b: InventoryBuilder, ages: list[str], chained: bool | None) -> list[VmSnapshot]:
    """Snapshot nodes of the given ages: each on the base disks, or (``chained``) each a
    child of the one before, as taking snapshots one after another does."""
    if not chained:
        return [b.vm_snapshot(f"snap-{i}", _age(age)) for i, age in enumerate(ages)]
    chain: list[VmSnapshot] = []
    for i, age in reversed(list(enumerate(ages))):
        chain = [b.vm_snapshot(f"snap-{i}", _age(age), children=chain)]
    return chain


def build_estate(sketch: Mapping[str, Any]) -> list[Snapshot]:
    """The snapshots of every vCenter a sketch describes (itself, then ``vcenters``)."""
    others = sketch.get("vcenters", {})
    return [
        build(sketch),
        *(
            _build(
                other,
                InventoryBuilder(
                    vcenter=name,
                    instance_uuid=f"5f0c2a4e-0000-4000-8000-{index:012x}",
                    first_mac=index << 16,
                ),
            )
            for index, (name, other) in enumerate(others.items(), start=1)
        ),
    ]


def build(sketch: Mapping[str, Any]) -> Snapshot:
    """Build the snapshot of the first vCenter a sketch describes."""
    return _build(sketch, InventoryBuilder())


def _identity_data(
    spec: Mapping[str, Any], values: dict[str, str], by_tags: bool
) -> tuple[dict[str, str], list[Tag]]:
    """Custom attributes and tags: what ``attributes`` / ``tags`` say, else from the role."""
    attributes = dict(spec["attributes"]) if "attributes" in spec else ({} if by_tags else values)
    if "tags" in spec:
        tags = [Tag(category=t["category"], name=t["name"]) for t in spec["tags"]]
    else:
        tags = [Tag(category=k, name=v) for k, v in values.items()] if by_tags else []
    return attributes, tags


def _build(sketch: Mapping[str, Any], b: InventoryBuilder) -> Snapshot:
    dc = b.datacenter("dc-1")
    dvs = b.dvswitch("dvs-1", dc)
    dvpg = b.dv_portgroup("dv-scalearc", dvs, policy=_policy(sketch.get("dv_network")))
    host_states: Mapping[str, Mapping[str, Any]] = sketch.get("host_states", {})
    host_networks: Mapping[str, list[str]] = sketch.get("host_networks", {})
    extra_clusters = sketch.get("clusters", {})
    clusters_spec: dict[str, Mapping[str, Any]] = {
        "cl-1": {"hosts": sketch.get("hosts", 2), **extra_clusters.get("cl-1", {})}
    }
    clusters_spec.update({k: v for k, v in extra_clusters.items() if k != "cl-1"})
    clusters: dict[str, str] = {}
    hosts: dict[str, str] = {}
    hosts_of: dict[str, list[str]] = {}

    def add_host(hname: str, cluster: str | None) -> str:
        hmoid = b.host(hname, cluster, datacenter=dc, **host_states.get(hname, {}))
        hosts[hname] = hmoid
        policy = _policy(
            {**sketch.get("network", {}), **sketch.get("network_by_host", {}).get(hname, {})}
        )
        for network in host_networks.get(hname, ["scalearc-net", "VM Network"]):
            b.standard_portgroup(
                hmoid, network, computed=policy if network == "scalearc-net" else COMPLIANT_POLICY
            )
        return hname

    for cname, cspec in clusters_spec.items():
        cmoid = b.cluster(
            cname,
            dc,
            drs_enabled=cspec.get("drs_enabled", True),
            drs_default=cspec.get("drs_default"),
            vm_overrides_enabled=cspec.get("vm_overrides_enabled", True),
            ha_enabled=cspec.get("ha_enabled", True),
            ha_default_restart_priority=cspec.get("ha_default"),
        )
        clusters[cname] = cmoid
        # Clusters come before standalone hosts, so esx-N counts clustered hosts only.
        hosts_of[cname] = [
            add_host(f"esx-{len(hosts) + 1}", cmoid) for _ in range(cspec.get("hosts", 2))
        ]
    for i in range(sketch.get("standalone_hosts", 0)):
        add_host(f"standalone-{i + 1}", None)
    dv_hosts = sketch.get("dv_hosts")
    if dv_hosts == "unknown":
        b.dvs_members[dvs] = "unknown"
    elif dv_hosts is not None:
        b.dvs_members[dvs] = [hosts[name] for name in dv_hosts]
    pools = {cname: b.pool("scalearc", b.root_pool(cmoid)) for cname, cmoid in clusters.items()}
    named_pools: dict[tuple[str, str], str] = {
        (cname, "scalearc"): moid for cname, moid in pools.items()
    }
    for pname, pspec in sketch.get("pools", {}).items():
        cname = pspec.get("cluster", "cl-1")
        parent = pspec.get("parent", "scalearc")
        parent_moid = (
            b.root_pool(clusters[cname]) if parent == "root" else named_pools[(cname, parent)]
        )
        named_pools[(cname, pname)] = b.pool(
            pname,
            parent_moid,
            cpu_reservation=pspec.get("cpu", 0),
            memory_reservation=pspec.get("memory", 0),
            expandable=pspec.get("expandable", True),
            cpu_limit=pspec.get("cpu_limit", -1),
            memory_limit=pspec.get("memory_limit", -1),
        )

    def pool_of(choice: str | None, cname: str | None) -> str | None:
        if cname is None or choice is None:
            return None  # the host's own root pool (standalone host), or the cluster's
        if choice == "root":
            return b.root_pool(clusters[cname])
        return named_pools[(cname, choice)]

    def nics_for(specs: list[Mapping[str, Any]] | None, manual: bool) -> list[Nic]:
        if specs is None:
            specs = [{"type": "manual" if manual else "generated"}]
        out = []
        for i, spec in enumerate(specs):
            network = spec.get("network", "scalearc-net" if manual else "VM Network")
            out.append(
                b.nic(
                    key=4000 + i,
                    network=network,
                    portgroup=dvpg if network == "dv" else None,
                    address_type=spec.get("type", "manual"),
                    mac=spec.get("mac"),
                )
            )
        return out

    def cluster_of_host(hname: str) -> str | None:
        return next((c for c, names in hosts_of.items() if hname in names), None)

    names: dict[str, str] = {}
    demand: dict[str, list[int]] = {cname: [0, 0] for cname in clusters}
    pair_members: dict[str, list[str]] = {}
    pair_cluster: dict[str, str] = {}
    for index, (name, spec) in enumerate(sketch.get("appliances", {}).items()):
        role = spec.get("role", "standalone")
        pair = spec.get("pair")
        cname = spec.get("cluster", "cl-1")
        default_host = hosts_of[cname][(1 if role == "secondary" else 0) % len(hosts_of[cname])]
        if pair is None and role == "standalone":
            default_host = hosts_of[cname][index % len(hosts_of[cname])]
        hname = spec.get("host", default_host)
        placed_in = cluster_of_host(hname)
        values = {ROLE_ATTRIBUTE: role, **({PAIR_ATTRIBUTE: pair} if pair else {})}
        attributes, tags = _identity_data(spec, values, spec.get("by") == "tags")
        num_cpu, memory_mb = spec.get("num_cpu", 2), spec.get("memory_mb", 8192)
        pool_choice = spec.get("pool", "scalearc")
        moid = b.vm(
            name,
            hosts[hname],
            pool=pool_of(pool_choice, placed_in),
            nics=nics_for(spec.get("nics"), manual=True),
            num_cpu=num_cpu,
            memory_mb=memory_mb,
            cpu_reservation=spec.get("cpu_reservation", 0),
            memory_reservation=spec.get("memory_reservation", 0),
            cpu_limit=spec.get("cpu_limit", -1),
            memory_limit=spec.get("memory_limit", -1),
            power_state=spec.get("power_state", "poweredOn"),
            custom_attributes=attributes,
            tags=tags,
            snapshots=_snapshots(b, spec.get("snapshots", []), spec.get("snapshots_chained")),
            consolidation_needed=spec.get("consolidation_needed", False),
        )
        names[name] = moid
        if placed_in is not None and pool_choice != "root":
            demand[placed_in][0] += num_cpu * 2000
            demand[placed_in][1] += memory_mb
        drs = spec.get("drs", "manual")
        if placed_in is not None and drs != "none":
            if drs == "disabled":
                b.drs_override(clusters[placed_in], moid, behavior=None, enabled=False)
            else:
                b.drs_override(clusters[placed_in], moid, behavior=drs)
        # Pair members are kept from restarting by vSphere HA (SA013); standalones are not.
        restart = spec.get("ha_restart", "disabled" if role != "standalone" else "none")
        if placed_in is not None and restart != "none":
            b.ha_override(clusters[placed_in], moid, restart_priority=restart)
        if pair is not None:
            pair_members.setdefault(pair, []).append(moid)
            if placed_in is not None:
                pair_cluster.setdefault(pair, clusters[placed_in])
    pool_spec = sketch.get("pool")
    for cname, pool in pools.items():
        cpu, memory = demand[cname]
        if pool_spec is not None:
            cpu, memory = pool_spec.get("cpu", cpu), pool_spec.get("memory", memory)
        expandable = pool_spec.get("expandable") if pool_spec is not None else None
        b.set_pool_reservation(pool, cpu=cpu, memory=memory, expandable=expandable)
        if pool_spec is not None:
            b.set_pool_limits(
                pool, cpu=pool_spec.get("cpu_limit", -1), memory=pool_spec.get("memory_limit", -1)
            )
    for pair, members in pair_members.items():
        anti = sketch.get("pairs", {}).get(pair, {}).get("anti_affinity", True)
        if anti and len(members) > 1 and pair in pair_cluster:
            b.anti_affinity(
                pair_cluster[pair], f"scalearc-{pair}-apart", members, enabled=anti != "disabled"
            )
    for name, spec in sketch.get("vms", {}).items():
        hname = spec.get("host", "esx-1")
        attributes, tags = _identity_data(spec, {}, by_tags=False)
        names[name] = b.vm(
            name,
            hosts[hname],
            pool=pool_of(spec.get("pool"), cluster_of_host(hname)),
            nics=nics_for(spec.get("nics"), manual=False),
            cpu_reservation=spec.get("cpu_reservation", 0),
            memory_reservation=spec.get("memory_reservation", 0),
            power_state=spec.get("power_state", "poweredOn"),
            custom_attributes=attributes,
            tags=tags,
        )
    for i, rule in enumerate(sketch.get("vm_host_rules", [])):
        cmoid = clusters[rule.get("cluster", "cl-1")]
        b.vm_group(cmoid, f"vms-{i + 1}", [names[n] for n in rule["vms"]])
        b.host_group(cmoid, f"hosts-{i + 1}", [hosts[h] for h in rule["hosts"]])
        b.vm_host_rule(
            cmoid,
            f"vm-host-{i + 1}",
            f"vms-{i + 1}",
            f"hosts-{i + 1}",
            affine=rule.get("affine", True),
            mandatory=rule.get("mandatory", True),
            enabled=rule.get("enabled", True),
        )
    for event in sketch.get("events", []):
        age = parse_duration(event["age"]) if "age" in event else timedelta(hours=2)
        source = hosts[event["from"]] if "from" in event else None
        if "type" in event:
            b.event_of_type(
                event["type"],
                names[event["vm"]],
                age=age,
                chain_id=event.get("chain"),
                from_host=source,
            )
        else:
            b.event(
                event["kind"],
                names[event["vm"]],
                live=event.get("live"),
                age=age,
                chain_id=event.get("chain"),
                from_host=source,
            )
    b.events_collected = sketch.get("events_collected", True)
    if sketch.get("event_types") == "schema-1":
        b.event_types = list(SCHEMA_1_EVENT_TYPES)
    for gap in sketch.get("unreadable", []):
        target = (
            names[gap["vm"]]
            if "vm" in gap
            else hosts[gap["host"]]
            if "host" in gap
            else clusters.get(gap.get("cluster", ""))
        )
        b.mark_unreadable(gap.get("kind", "vm"), target, gap.get("property", ""), "NoPermission")
    return b.build()
