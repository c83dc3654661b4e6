"""Regenerate ``examples/lab.json``: ``python examples/make_lab.py``.

A small, realistic inventory: the compliant HA pair ``orders`` (custom
attributes), the HA pair ``billing`` (vSphere tags) with most things wrong, the
standalone ``sa-reports-01`` with the rest wrong, ``sa-old-02``, a leftover
secondary without a pair id, the pair ``search`` in a cluster whose DRS ignores
VM overrides, kept apart by "must run on" VM-Host rules, and ``sa-archive-01``, whose
role attribute says standalone while its role tag says primary (ID001: its results are
unknown). Every rule passes somewhere and fails somewhere. vSphere HA is on in
Prod-Cluster-A (default restart priority unset: medium) and Prod-Cluster-C (default
disabled), off in Prod-Cluster-B.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from scalearc_lint.snapshot.builder import InventoryBuilder
from scalearc_lint.snapshot.loader import encode_snapshot
from scalearc_lint.snapshot.model import NetworkPolicy, Snapshot, Tag

LAB = Path(__file__).with_name("lab.json")


def build_lab() -> Snapshot:
    """The lab inventory."""
    b = InventoryBuilder(
        vcenter="vcsa01.corp.example",
        instance_uuid="3c5a1b7e-91d2-4f6a-8b0e-2d4c6e8fa001",
        exported_at=datetime(2026, 11, 24, 2, 0, tzinfo=UTC),
    )
    dc = b.datacenter("DC-East")
    dvs = b.dvswitch("dvs-prod", dc)
    dv_billing = b.dv_portgroup(
        "dvpg-db-billing",
        dvs,
        policy=NetworkPolicy(
            notify_switches=False,
            teaming_policy="loadbalance_srcid",
            allow_promiscuous=False,
            mac_changes=True,
            forged_transmits=True,
        ),
    )
    dv_app = b.dv_portgroup("dvpg-app", dvs)
    prod_a = b.cluster("Prod-Cluster-A", dc)  # DRS default unset = fullyAutomated
    prod_b = b.cluster("Prod-Cluster-B", dc, drs_default="manual", ha_enabled=False)
    # Fully automated, and VM overrides switched off: every VM gets the cluster default.
    prod_c = b.cluster(
        "Prod-Cluster-C", dc, vm_overrides_enabled=False, ha_default_restart_priority="disabled"
    )
    hosts = {}
    for i, cluster in (
        (1, prod_a),
        (2, prod_a),
        (3, prod_a),
        (4, prod_a),
        (5, prod_b),
        (6, prod_b),
        (7, prod_c),
        (8, prod_c),
    ):
        name = f"esx{i:02d}.corp.example"
        hosts[name] = b.host(name, cluster, cpu_mhz=2600, cpu_cores=32, memory_mb=786432)
        b.standard_portgroup(hosts[name], "DB-Frontend", vlan_id=120)
        b.standard_portgroup(hosts[name], "App-Tier", vlan_id=130)
    pool_orders = b.pool("ScaleArc-Orders", b.root_pool(prod_a))
    pool_billing = b.pool("ScaleArc-Billing", b.root_pool(prod_a))
    b.pool("Dev", b.root_pool(prod_b), cpu_reservation=0, memory_reservation=0)

    def attrs(role: str, pair: str | None) -> dict[str, str]:
        return {"scalearc-role": role, **({"scalearc-ha-pair": pair} if pair else {})}

    def tags(role: str, pair: str | None) -> list[Tag]:
        return [Tag(category=k, name=v) for k, v in attrs(role, pair).items()]

    folder = "/DC-East/vm/ScaleArc"
    # Pair "orders": compliant in every respect.
    orders_1 = b.vm(
        "sa-orders-01",
        hosts["esx01.corp.example"],
        pool=pool_orders,
        nics=[b.nic(key=4000, network="DB-Frontend"), b.nic(key=4001, network="App-Tier")],
        num_cpu=4,
        memory_mb=16384,
        custom_attributes=attrs("primary", "orders"),
        folder=folder,
    )
    orders_2 = b.vm(
        "sa-orders-02",
        hosts["esx02.corp.example"],
        pool=pool_orders,
        nics=[b.nic(key=4000, network="DB-Frontend"), b.nic(key=4001, network="App-Tier")],
        num_cpu=4,
        memory_mb=16384,
        custom_attributes=attrs("secondary", "orders"),
        snapshots=[b.vm_snapshot("veeam-backup", timedelta(hours=3))],
        folder=folder,
    )
    b.set_pool_reservation(pool_orders, cpu=2 * 4 * 2600, memory=2 * 16384)
    # A limit on the pool, but above what both appliances are configured for.
    b.set_pool_limits(pool_orders, cpu=4 * 4 * 2600, memory=4 * 16384)
    b.anti_affinity(prod_a, "scalearc-orders-separate", [orders_1, orders_2])
    for vm in (orders_1, orders_2):
        b.drs_override(prod_a, vm, behavior="manual")
        b.ha_override(prod_a, vm, restart_priority="disabled")
    b.event("hot-migrate", orders_2, age=timedelta(days=6), live=True)  # a secondary: allowed

    # Pair "billing" (tags): same host, disabled rule, generated MAC, DRS, vMotion, silent DVPG.
    # Each reserves half its memory itself: carved out of the pool's reservation, not added.
    billing_1 = b.vm(
        "sa-billing-01",
        hosts["esx03.corp.example"],
        pool=pool_billing,
        nics=[b.nic(key=4000, portgroup=dv_billing)],
        num_cpu=4,
        memory_mb=16384,
        memory_reservation=8192,
        memory_limit=12288,  # below its 16 GB
        tags=tags("primary", "billing"),
        folder=folder,
    )
    billing_2 = b.vm(
        "sa-billing-02",
        hosts["esx03.corp.example"],
        pool=pool_billing,
        nics=[b.nic(key=4000, network="DB-Frontend", address_type="generated")],
        num_cpu=4,
        memory_mb=16384,
        memory_reservation=8192,
        tags=tags("secondary", "billing"),
        folder=folder,
        # Two backups' snapshots, the second taken on top of the first.
        snapshots=[
            b.vm_snapshot(
                "backup-mon",
                timedelta(hours=20),
                children=[b.vm_snapshot("backup-tue", timedelta(hours=2))],
            )
        ],
    )
    # An ETL job in the appliances' pool holds 8 GB of its reservation: 32 GB reserved,
    # 8 GB held by the ETL VM, 16 GB by the appliances themselves: 8 GB left for 16 GB more.
    b.vm(
        "etl-billing-01",
        hosts["esx04.corp.example"],
        pool=pool_billing,
        nics=[b.nic(key=4000, network="App-Tier", address_type="generated")],
        num_cpu=4,
        memory_mb=16384,
        memory_reservation=8192,
    )
    b.set_pool_reservation(pool_billing, cpu=2 * 4 * 2600, memory=2 * 16384)
    b.anti_affinity(prod_a, "scalearc-billing-separate", [billing_1, billing_2], enabled=False)
    b.drs_override(prod_a, billing_2, behavior="manual")  # billing-01 left to the cluster default
    # DRS moved the primary, then the secondary: never the vendor's pair-move procedure.
    b.event("drs-migrate", billing_1, age=timedelta(days=3), from_host=hosts["esx02.corp.example"])
    b.event("drs-migrate", billing_2, age=timedelta(days=1), from_host=hosts["esx04.corp.example"])

    # Standalone "reports": old snapshot, reverted, MAC cloned by a legacy VM. It sits in the
    # root pool, but its own reservations cover its 4 vCPUs and 16 GB.
    reports = b.vm(
        "sa-reports-01",
        hosts["esx05.corp.example"],
        nics=[b.nic(key=4000, network="DB-Frontend")],
        num_cpu=4,
        memory_mb=16384,
        cpu_reservation=4 * 2600,
        memory_reservation=16384,
        custom_attributes=attrs("standalone", None),
        folder=folder,
        snapshots=[b.vm_snapshot("before-upgrade-4.0", timedelta(days=5))],
        consolidation_needed=True,  # a failed snapshot removal left delta disks
    )
    b.event("revert", reports, age=timedelta(days=4))
    # Moved cold: the start event of the same chain says so.
    b.event_of_type(
        "VmBeingRelocatedEvent",
        reports,
        age=timedelta(days=12, minutes=5),
        chain_id=9120,
        from_host=hosts["esx06.corp.example"],
    )
    b.event_of_type(
        "VmRelocatedEvent",
        reports,
        age=timedelta(days=12),
        chain_id=9120,
        from_host=hosts["esx06.corp.example"],
    )

    # Pair "search" in Prod-Cluster-C: DRS ignores VM overrides there, so the manual ones are
    # moot; kept apart by "must run on" VM-Host rules instead of an anti-affinity rule; in an
    # expandable pool with no reservation of its own, under the reserved pool Tier-1.
    tier1 = b.pool("Tier-1", b.root_pool(prod_c), expandable=False)
    pool_search = b.pool("ScaleArc-Search", tier1, expandable=True)
    search_1 = b.vm(
        "sa-search-01",
        hosts["esx07.corp.example"],
        pool=pool_search,
        # Static, but in the part of VMware's OUI vCenter generates MACs in.
        nics=[b.nic(key=4000, network="DB-Frontend", mac="00:50:56:9a:10:01")],
        num_cpu=4,
        memory_mb=16384,
        custom_attributes=attrs("primary", "search"),
        folder=folder,
    )
    search_2 = b.vm(
        "sa-search-02",
        hosts["esx08.corp.example"],
        pool=pool_search,
        nics=[b.nic(key=4000, network="DB-Frontend")],
        num_cpu=4,
        memory_mb=16384,
        custom_attributes=attrs("secondary", "search"),
        folder=folder,
        # esx08's clock runs ahead: a snapshot "taken" two hours after the export.
        snapshots=[b.vm_snapshot("nightly-backup", -timedelta(hours=2))],
    )
    b.vm(
        "db-search-01",
        hosts["esx08.corp.example"],
        pool=tier1,
        nics=[b.nic(key=4000, network="App-Tier", address_type="generated")],
        num_cpu=8,
        memory_mb=65536,
        cpu_reservation=8000,
        memory_reservation=32768,
    )
    b.set_pool_reservation(tier1, cpu=8000 + 2 * 4 * 2600, memory=32768 + 2 * 16384)
    for vm, host in ((search_1, "esx07"), (search_2, "esx08")):
        b.drs_override(prod_c, vm, behavior="manual")
        name = b.vms[vm].name
        b.vm_group(prod_c, f"{name}-vm", [vm])
        b.host_group(prod_c, f"{host}-hosts", [hosts[f"{host}.corp.example"]])
        b.vm_host_rule(prod_c, f"{name}-must-run-on-{host}", f"{name}-vm", f"{host}-hosts")
    # An encrypted vMotion of the primary: the EventEx and the VmRelocatedEvent of one chain.
    for type_name, minutes in (
        ("com.vmware.vc.vm.VmHotMigratingWithEncryptionEvent", 2),
        ("VmRelocatedEvent", 0),
    ):
        b.event_of_type(
            type_name,
            search_1,
            age=timedelta(days=2, minutes=minutes),
            chain_id=9310,
            from_host=hosts["esx08.corp.example"],
        )
    # vSphere HA restarted the secondary on its own (the cluster default came later).
    b.event("ha-restart", search_2, age=timedelta(days=9))

    # A leftover secondary from a dismantled pair: no pair id.
    b.vm(
        "sa-old-02",
        hosts["esx06.corp.example"],
        nics=[b.nic(key=4000, network="DB-Frontend")],
        custom_attributes=attrs("secondary", None),
        power_state="poweredOff",
        folder=folder,
    )

    # Re-tagged without updating the attribute: identification will not guess (ID001).
    b.vm(
        "sa-archive-01",
        hosts["esx04.corp.example"],
        nics=[b.nic(key=4000, network="DB-Frontend")],
        custom_attributes=attrs("standalone", None),
        tags=tags("primary", None),
        folder=folder,
    )

    # Ordinary VMs: not judged, but their MACs count for SA002.
    legacy_mac = b.vms[reports].nics[0].mac
    b.vm(
        "app-legacy-07",
        hosts["esx06.corp.example"],
        nics=[b.nic(key=4000, network="App-Tier", mac=legacy_mac)],
        num_cpu=2,
        memory_mb=4096,
    )
    for i, host in enumerate(["esx01", "esx02", "esx03", "esx04", "esx05", "esx06"]):
        vm = b.vm(
            f"web-{i + 1:02d}",
            hosts[f"{host}.corp.example"],
            nics=[b.nic(key=4000, portgroup=dv_app, address_type="generated")],
            num_cpu=2,
            memory_mb=8192,
            snapshots=[b.vm_snapshot("old", timedelta(days=40))] if i == 2 else [],
        )
        if i % 2 == 0:
            b.event("drs-migrate", vm, age=timedelta(days=i + 1))
    b.vm(
        "db-oracle-01",
        hosts["esx04.corp.example"],
        nics=[b.nic(key=4000, network="DB-Frontend", address_type="generated")],
        num_cpu=16,
        memory_mb=131072,
    )
    return b.build()


def main() -> int:
    """Write lab.json next to this script."""
    LAB.write_bytes(encode_snapshot(build_lab()))
    print(f"wrote {LAB}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
