"""A compact notation for small inventories, used by rule examples and tests.

A sketch states only what differs from a compliant lab: one datacenter, a
cluster ``cl-1`` with hosts ``esx-1``..``esx-N`` (DRS fully automated by
default), a standard portgroup ``scalearc-net`` on every host and a distributed
portgroup ``dv-scalearc`` (both notifying switches and accepting MAC changes),
and a child pool ``scalearc`` reserving what its appliances are configured for.
Appliances get a static unique MAC, a manual DRS override, and pairs get an
enabled anti-affinity rule with members on different hosts.

Keys (all optional)::

    hosts: 2                          # number of hosts in cl-1
    clusters: {cl-2: {hosts: 2, drs_enabled: true, drs_default: manual}}
    standalone_hosts: 1               # hosts without a cluster, named after the clustered ones
    host_states: {esx-2: {connection_state: notResponding, power_state: standBy,
                          in_maintenance: true}}
    host_networks: {esx-3: [VM Network]}        # standard portgroups there (default: both)
    dv_hosts: [esx-1, esx-2]                    # dvs-1 members (default: every host;
                                                # unknown: membership not exported)
    network: {notify_switches: false}           # scalearc-net on every host
    network_by_host: {esx-2: {notify_switches: false}}
    dv_network: {notify_switches: false}        # dv-scalearc
    pool: {cpu: 0, memory: 0}                   # scalearc pool reservations
    appliances:
      sa-1: {role: primary, pair: p1, host: esx-1, cluster: cl-1, by: tags,
             nics: [{type: generated, mac: "00:50:56:00:00:01", network: dv}],
             pool: root, cpu_reservation: 0, memory_reservation: 0,
             drs: fullyAutomated | none, snapshots: [26h], num_cpu: 2, memory_mb: 8192}
    vms: {web-1: {host: esx-1, nics: [{mac: "00:50:56:00:00:01"}]}}
    pairs: {p1: {anti_affinity: false | disabled}}
    events: [{vm: sa-1, kind: drs-migrate, live: true, age: 2h}]
    events_collected: true
    unreadable: [{kind: vm, vm: sa-1, property: nics},
                 {kind: cluster, cluster: cl-1, property: configuration},
                 {kind: host, host: esx-2, property: portgroups}]
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from scalearc_lint.snapshot.builder import COMPLIANT_POLICY, InventoryBuilder
from scalearc_lint.snapshot.model import NetworkPolicy, Nic, Snapshot, Tag
from scalearc_lint.text import parse_duration

ROLE_ATTRIBUTE = "scalearc-role"
PAIR_ATTRIBUTE = "scalearc-ha-pair"


def _policy(overrides: Mapping[str, Any] | None) -> NetworkPolicy:
    if not overrides:
        return COMPLIANT_POLICY
    fields = {f: getattr(COMPLIANT_POLICY, f) for f in NetworkPolicy.__struct_fields__}
    fields.update(overrides)
    return NetworkPolicy(**fields)


def build(sketch: Mapping[str, Any]) -> Snapshot:
    """Build the snapshot a sketch describes."""
    b = InventoryBuilder()
    dc = b.datacenter("dc-1")
    dvs = b.dvswitch("dvs-1", dc)
    dvpg = b.dv_portgroup("dv-scalearc", dvs, policy=_policy(sketch.get("dv_network")))
    host_states: Mapping[str, Mapping[str, Any]] = sketch.get("host_states", {})
    host_networks: Mapping[str, list[str]] = sketch.get("host_networks", {})
    clusters_spec: dict[str, Mapping[str, Any]] = {"cl-1": {"hosts": sketch.get("hosts", 2)}}
    clusters_spec.update(sketch.get("clusters", {}))
    clusters: dict[str, str] = {}
    hosts: dict[str, str] = {}
    hosts_of: dict[str, list[str]] = {}

    def add_host(cluster: str | None) -> str:
        hname = f"esx-{len(hosts) + 1}"
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
        )
        clusters[cname] = cmoid
        hosts_of[cname] = [add_host(cmoid) for _ in range(cspec.get("hosts", 2))]
    for _ in range(sketch.get("standalone_hosts", 0)):
        add_host(None)
    dv_hosts = sketch.get("dv_hosts")
    if dv_hosts == "unknown":
        b.dvs_members[dvs] = "unknown"
    elif dv_hosts is not None:
        b.dvs_members[dvs] = [hosts[name] for name in dv_hosts]
    pools = {cname: b.pool("scalearc", b.root_pool(cmoid)) for cname, cmoid in clusters.items()}

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
        values = {ROLE_ATTRIBUTE: role, **({PAIR_ATTRIBUTE: pair} if pair else {})}
        by_tags = spec.get("by") == "tags"
        num_cpu, memory_mb = spec.get("num_cpu", 2), spec.get("memory_mb", 8192)
        pool_choice = spec.get("pool", "scalearc")
        pool = b.root_pool(clusters[cname]) if pool_choice == "root" else pools[cname]
        moid = b.vm(
            name,
            hosts[spec.get("host", default_host)],
            pool=pool,
            nics=nics_for(spec.get("nics"), manual=True),
            num_cpu=num_cpu,
            memory_mb=memory_mb,
            cpu_reservation=spec.get("cpu_reservation", 0),
            memory_reservation=spec.get("memory_reservation", 0),
            power_state=spec.get("power_state", "poweredOn"),
            custom_attributes={} if by_tags else values,
            tags=[Tag(category=k, name=v) for k, v in values.items()] if by_tags else [],
            snapshots=[
                b.vm_snapshot(f"snap-{i}", parse_duration(age))
                for i, age in enumerate(spec.get("snapshots", []))
            ],
        )
        names[name] = moid
        if pool_choice != "root":
            demand[cname][0] += num_cpu * 2000
            demand[cname][1] += memory_mb
        drs = spec.get("drs", "manual")
        if drs != "none":
            b.drs_override(clusters[cname], moid, behavior=drs)
        if pair is not None:
            pair_members.setdefault(pair, []).append(moid)
            pair_cluster.setdefault(pair, clusters[cname])
    pool_spec = sketch.get("pool")
    for cname, pool in pools.items():
        cpu, memory = demand[cname]
        if pool_spec is not None:
            cpu, memory = pool_spec.get("cpu", cpu), pool_spec.get("memory", memory)
        b.set_pool_reservation(pool, cpu=cpu, memory=memory)
    for pair, members in pair_members.items():
        anti = sketch.get("pairs", {}).get(pair, {}).get("anti_affinity", True)
        if anti and len(members) > 1:
            b.anti_affinity(
                pair_cluster[pair], f"scalearc-{pair}-apart", members, enabled=anti != "disabled"
            )
    for name, spec in sketch.get("vms", {}).items():
        names[name] = b.vm(
            name, hosts[spec.get("host", "esx-1")], nics=nics_for(spec.get("nics"), manual=False)
        )
    for event in sketch.get("events", []):
        b.event(
            event["kind"],
            names[event["vm"]],
            live=event.get("live"),
            age=parse_duration(event.get("age", "2h")) if "age" in event else timedelta(hours=2),
        )
    b.events_collected = sketch.get("events_collected", True)
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
