"""Deterministic synthetic inventories of any size (``scalearc-lint synth``, benchmarks).

The same ``(vms, appliances, seed)`` always gives the same bytes. Appliances
come mostly in HA pairs (a few standalone); about ``violation_rate`` of them
get one planted violation, so a run has failures to report.

The ordinary VMs carry what a production inventory does, so a benchmark reads
and walks realistic data: one or two vNICs, the odd snapshot chain, custom
attributes and tags of other categories, a few templates and DRS overrides,
VM/host groups, and a migration event for about a fifth of them. That texture
comes from a second random stream, so it never changes the appliances.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

import msgspec

from scalearc_lint.snapshot.builder import InventoryBuilder
from scalearc_lint.snapshot.model import NetworkPolicy, Snapshot, Tag, VmSnapshot

VMS_PER_HOST = 30
HOSTS_PER_CLUSTER = 16
#: Host portgroups besides the VM networks, as on a typical ESXi host.
VMKERNEL_PORTGROUPS = ("Management Network", "vMotion", "vSAN")
ENVIRONMENTS = ("prod", "staging", "test", "dev")
BACKUP_POLICIES = ("daily", "weekly", "none")
VIOLATIONS = (
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
    "SA012",
    "SA013",
    "SA014",
    "SA015",
    "SA016",
)


@dataclass(frozen=True)
class SynthSpec:
    """Size and character of a synthetic inventory."""

    vms: int
    appliances: int
    seed: int = 0
    violation_rate: float = 0.1
    vcenter: str = "vcenter-synth.example"


def synthesize(spec: SynthSpec) -> Snapshot:
    """Build the synthetic snapshot ``spec`` describes."""
    if spec.appliances > spec.vms:
        raise ValueError("appliances cannot outnumber VMs")
    rng = random.Random(spec.seed)
    texture = random.Random(f"{spec.seed}:texture")
    b = InventoryBuilder(vcenter=spec.vcenter)
    n_hosts = max(2, -(-spec.vms // VMS_PER_HOST))
    n_clusters = max(1, -(-n_hosts // HOSTS_PER_CLUSTER))
    dc = b.datacenter("dc-synth")
    dvs = b.dvswitch("dvs-synth", dc)
    dv_ok = b.dv_portgroup("dv-scalearc", dvs)
    dv_silent = b.dv_portgroup("dv-silent", dvs, policy=NetworkPolicy(notify_switches=False))
    dv_vm = b.dv_portgroup("dv-vm", dvs)
    clusters: list[str] = []
    hosts_by_cluster: dict[str, list[str]] = {}
    pools: dict[str, str] = {}
    for c in range(n_clusters):
        cluster = b.cluster(f"cl-{c + 1:03d}", dc, drs_default=rng.choice([None, "manual"]))
        clusters.append(cluster)
        hosts_by_cluster[cluster] = []
        pools[cluster] = b.pool("scalearc", b.root_pool(cluster))
    for h in range(n_hosts):
        cluster = clusters[h % n_clusters]
        host = b.host(f"esx-{h + 1:05d}.synth.example", cluster)
        hosts_by_cluster[cluster].append(host)
        for name in VMKERNEL_PORTGROUPS:
            b.standard_portgroup(host, name, vswitch="vSwitch1" if name == "vSAN" else "vSwitch0")
        b.standard_portgroup(host, "VM Network")
        b.standard_portgroup(host, "scalearc-net")
    demand: dict[str, list[int]] = {c: [0, 0] for c in clusters}
    n_pairs = int(spec.appliances * 0.9) // 2
    n_standalone = spec.appliances - 2 * n_pairs
    planted: list[tuple[str, str]] = []

    def violation() -> str | None:
        return rng.choice(VIOLATIONS) if rng.random() < spec.violation_rate else None

    def appliance(name: str, role: str, pair: str | None, cluster: str, host: str) -> str:
        fault = violation()
        by_tags = rng.random() < 0.5
        values = {"scalearc-role": role, **({"scalearc-ha-pair": pair} if pair else {})}
        dynamic_mac = fault in ("SA001", "SA016")
        nics = [
            b.nic(
                key=4000 + i,
                portgroup=dv_ok if i else None,
                address_type="generated" if dynamic_mac and i == 0 else "manual",
            )
            for i in range(2)
        ]
        if fault == "SA003":
            nics[1] = b.nic(key=4001, portgroup=dv_silent)
        snapshots = (
            [b.vm_snapshot("pre-upgrade", timedelta(days=rng.randint(2, 40)))]
            if fault == "SA008"
            else []
        )
        vm = b.vm(
            name,
            host,
            pool=b.root_pool(cluster) if fault == "SA007" else pools[cluster],
            nics=nics,
            num_cpu=4,
            memory_mb=16384,
            snapshots=snapshots,
            consolidation_needed=fault == "SA015",
            memory_limit=8192 if fault == "SA014" else -1,
            folder="/dc-synth/vm/scalearc",
            custom_attributes={} if by_tags else values,
            tags=[Tag(category=k, name=v) for k, v in values.items()] if by_tags else [],
        )
        if fault != "SA007":
            demand[cluster][0] += 4 * 2000
            demand[cluster][1] += 16384
        if fault != "SA006":
            b.drs_override(cluster, vm, behavior="manual")
        if role != "standalone" and fault != "SA013":
            b.ha_override(cluster, vm, restart_priority="disabled")
        if fault in ("SA012", "SA016"):
            # A DRS move (SA012), or a vMotion with a generated MAC (SA016).
            b.event(
                "drs-migrate" if fault == "SA012" else "hot-migrate",
                vm,
                age=timedelta(hours=rng.randint(1, 600)),
                live=True,
            )
        if fault in ("SA009", "SA010"):
            b.event(
                "drs-migrate" if fault == "SA009" else "revert",
                vm,
                age=timedelta(hours=rng.randint(1, 600)),
            )
        if fault is not None:
            planted.append((fault, vm))
        return vm

    counter = 0
    for p in range(n_pairs):
        cluster = clusters[p % n_clusters]
        hosts = hosts_by_cluster[cluster]
        first = rng.randrange(len(hosts))
        second = (first + 1 + rng.randrange(len(hosts) - 1)) % len(hosts) if len(hosts) > 1 else 0
        pair = f"pair-{p + 1:05d}"
        primary = appliance(f"sa-{pair}-a", "primary", pair, cluster, hosts[first])
        together = rng.random() < spec.violation_rate / len(VIOLATIONS)
        secondary = appliance(
            f"sa-{pair}-b", "secondary", pair, cluster, hosts[first] if together else hosts[second]
        )
        if rng.random() >= spec.violation_rate / len(VIOLATIONS):
            b.anti_affinity(cluster, f"scalearc-{pair}-apart", [primary, secondary])
        counter += 2
    for s in range(n_standalone):
        cluster = clusters[s % n_clusters]
        appliance(
            f"sa-standalone-{s + 1:05d}",
            "standalone",
            None,
            cluster,
            rng.choice(hosts_by_cluster[cluster]),
        )
        counter += 1
    for cluster, (cpu, memory) in demand.items():
        b.set_pool_reservation(pools[cluster], cpu=cpu, memory=memory)
    duplicate_targets = [vm for fault, vm in planted if fault == "SA002"]
    license_groups: dict[str, list[str]] = {c: [] for c in clusters}
    for i in range(spec.vms - counter):
        cluster = clusters[i % n_clusters]
        host = rng.choice(hosts_by_cluster[cluster])
        nics = [
            b.nic(
                key=4000 + k,
                network="VM Network",
                portgroup=dv_vm if k else None,
                address_type="generated",
            )
            for k in range(1 + (rng.random() < 0.4))
        ]
        if duplicate_targets:
            # Plant an SA002 clash: this ordinary VM reuses an appliance's static MAC.
            nics[0] = b.nic(
                key=4000,
                network="VM Network",
                address_type="manual",
                mac=b.vms[duplicate_targets.pop()].nics[0].mac,
            )
        snapshots = [
            b.vm_snapshot(f"snap-{k}", timedelta(hours=rng.randint(1, 2000)))
            for k in range((rng.random() < 0.05 and rng.randint(1, 3)) or 0)
        ]
        power_state = "poweredOn" if rng.random() < 0.9 else "poweredOff"
        template = texture.random() < 0.01
        app = f"app-{texture.randrange(1, 400):03d}"
        vm = b.vm(
            f"vm-{i + 1:06d}",
            host,
            nics=nics,
            num_cpu=rng.choice((1, 2, 4, 8)),
            memory_mb=rng.choice((2048, 4096, 8192, 16384)),
            snapshots=_chain(snapshots),
            power_state="poweredOff" if template else power_state,
            template=template,
            folder=f"/dc-synth/vm/{app}",
            custom_attributes=(
                {
                    "owner": f"team-{texture.randrange(1, 60):02d}",
                    "backup-policy": texture.choice(BACKUP_POLICIES),
                }
                if texture.random() < 0.6
                else {}
            ),
            tags=(
                [
                    Tag(category="environment", name=texture.choice(ENVIRONMENTS)),
                    Tag(category="application", name=app),
                ]
                if texture.random() < 0.5
                else []
            ),
        )
        if texture.random() < 0.01:
            b.drs_override(cluster, vm, behavior=texture.choice(("manual", "partiallyAutomated")))
        if texture.random() < 0.02:
            license_groups[cluster].append(vm)
        if rng.random() < 0.2:
            b.event(
                rng.choice(("drs-migrate", "relocate", "hot-migrate")),
                vm,
                age=timedelta(hours=rng.randint(1, 700)),
                live=rng.choice((True, False, None)),
            )
    for cluster, members in license_groups.items():
        if members:
            b.vm_group(cluster, "licensed-vms", members)
    return b.build()


def _chain(nodes: list[VmSnapshot]) -> list[VmSnapshot]:
    """Snapshots as vSphere keeps them: a chain, each newer one a child of the one before."""
    chain: list[VmSnapshot] = []
    for node in sorted(nodes, key=lambda n: n.created, reverse=True):
        chain = [msgspec.structs.replace(node, children=chain)]
    return chain


#: The MAC :func:`share_one_mac` puts on many vNICs.
SHARED_MAC = "00:50:56:3f:ff:fe"


def share_one_mac(snapshot: Snapshot, *, every: int = 1) -> Snapshot:
    """``snapshot`` with the first vNIC of every appliance, and of every ``every``-th other
    VM (by default all of them), on one MAC: the many-duplicates shape (vcsim's generated
    MACs repeat like this) on which SA002 must stay linear in the number of users."""
    vms = {}
    for index, (moid, vm) in enumerate(snapshot.vms.items()):
        if vm.nics and (vm.name.startswith("sa-") or index % every == 0):
            nics = [msgspec.structs.replace(vm.nics[0], mac=SHARED_MAC), *vm.nics[1:]]
            vm = msgspec.structs.replace(vm, nics=nics)
        vms[moid] = vm
    return msgspec.structs.replace(snapshot, vms=vms)
