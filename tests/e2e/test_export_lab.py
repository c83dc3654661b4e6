"""Export the seeded ScaleArc lab from vcsim, then check it: the snapshot and the verdicts."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from scalearc_lint.exporter import READ_ONLY_METHODS
from scalearc_lint.snapshot.loader import load_snapshot
from tests.e2e.conftest import LabExport, check_json, run_cli
from tests.e2e.lab import (
    ALPHA_1_MAC,
    ALPHA_2_MAC,
    BETA_2_MAC,
    NO_NOTIFY_PG,
    PAIR,
    RESERVED_POOL,
    ROLE,
)


def _snapshot(lab_export: LabExport) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(lab_export.snapshot_path.read_text())
    return data


def _vm(lab_export: LabExport, name: str) -> dict[str, Any]:
    vm: dict[str, Any] = _snapshot(lab_export)["vms"][lab_export.lab.vms[name]]
    assert vm["name"] == name
    return vm


def test_snapshot_loads_and_names_its_vcenter(lab_export: LabExport) -> None:
    loaded = load_snapshot(lab_export.snapshot_path).snapshot
    assert loaded.source.vcenter == f"{lab_export.sim.host}:{lab_export.sim.port}"
    assert loaded.source.instance_uuid
    assert loaded.source.api_version
    assert loaded.unreadable == []
    assert len(loaded.vms) == 8
    assert len(loaded.hosts) == 3
    assert set(loaded.clusters) == {lab_export.lab.cluster}
    assert sorted(loaded.clusters[lab_export.lab.cluster].hosts) == sorted(
        lab_export.lab.hosts.values()
    )


def test_appliances_carry_their_custom_attributes_and_tags(lab_export: LabExport) -> None:
    assert _vm(lab_export, "sa-alpha-1")["custom_attributes"] == {ROLE: "primary", PAIR: "alpha"}
    assert _vm(lab_export, "sa-alpha-2")["custom_attributes"] == {ROLE: "secondary", PAIR: "alpha"}
    assert _vm(lab_export, "sa-beta-1")["tags"] == [
        {"category": PAIR, "name": "beta"},
        {"category": ROLE, "name": "primary"},
    ]
    assert _vm(lab_export, "sa-beta-2")["tags"] == [
        {"category": PAIR, "name": "beta"},
        {"category": ROLE, "name": "secondary"},
    ]
    assert "tags" not in _vm(lab_export, "app-1")
    assert "custom_attributes" not in _vm(lab_export, "app-1")


def test_vnics_keep_mac_address_type_and_backing(lab_export: LabExport) -> None:
    lab = lab_export.lab

    def nic(name: str) -> dict[str, Any]:
        (only,) = _vm(lab_export, name)["nics"]
        return dict(only)

    assert nic("sa-alpha-1")["mac"] == ALPHA_1_MAC
    assert nic("sa-alpha-1")["address_type"] == "manual"
    assert nic("sa-alpha-1")["backing"] == {
        "kind": "distributed",
        "network": "DC0_DVPG0",
        "portgroup": lab.dvpg,
    }
    assert (nic("sa-beta-1")["address_type"], nic("sa-beta-1")["mac"]) == (
        "generated",
        lab.beta_1_mac,
    )
    assert nic("sa-beta-2")["mac"] == BETA_2_MAC
    assert nic("sa-beta-2")["backing"]["portgroup"] == lab.no_notify_pg
    assert nic("app-1")["mac"] == ALPHA_2_MAC
    assert nic("app-2")["backing"] == {"kind": "standard", "network": "VM Network"}

    portgroups = _snapshot(lab_export)["dv_portgroups"]
    assert portgroups[lab.no_notify_pg]["name"] == NO_NOTIFY_PG
    assert portgroups[lab.no_notify_pg]["policy"]["notify_switches"] is False
    assert portgroups[lab.dvpg]["policy"]["notify_switches"] is True


def test_distributed_switch_lists_its_member_hosts(lab_export: LabExport) -> None:
    # vcsim adds every host it creates to its switch (summary.hostMember).
    (dvs,) = _snapshot(lab_export)["dvswitches"].values()
    assert sorted(dvs["hosts"]) == sorted(lab_export.lab.hosts.values())


def test_placement_pools_and_drs_settings(lab_export: LabExport) -> None:
    lab = lab_export.lab
    snap = _snapshot(lab_export)
    assert [_vm(lab_export, n)["host"] for n in ("sa-alpha-1", "sa-alpha-2", "sa-beta-1")] == [
        lab.hosts["H0"],
        lab.hosts["H1"],
        lab.hosts["H2"],
    ]
    assert _vm(lab_export, "sa-beta-2")["host"] == lab.hosts["H2"]
    assert _vm(lab_export, "sa-alpha-1")["resource_pool"] == lab.reserved_pool
    assert _vm(lab_export, "sa-beta-1")["resource_pool"] == lab.root_pool

    pool = snap["resource_pools"][lab.reserved_pool]
    assert (pool["name"], pool["parent"], pool["owner"]) == (
        RESERVED_POOL,
        lab.root_pool,
        lab.cluster,
    )
    assert pool["cpu"]["reservation"] == 20000
    assert pool["memory"]["reservation"] == 4096
    assert "parent" not in snap["resource_pools"][lab.root_pool]

    cluster = snap["clusters"][lab.cluster]
    assert cluster["root_pool"] == lab.root_pool
    # vcsim leaves drsConfig.enableVmBehaviorOverrides unset: vSphere's default, true.
    assert cluster["drs"].get("enable_vm_behavior_overrides", True) is True
    assert cluster["drs"]["vm_overrides"] == {
        lab.vms["sa-alpha-1"]: {"enabled": True, "behavior": "manual"},
        lab.vms["sa-alpha-2"]: {"enabled": True, "behavior": "manual"},
        lab.vms["sa-beta-2"]: {"enabled": True, "behavior": "fullyAutomated"},
    }
    (rule,) = cluster["rules"]
    assert rule["name"] == "alpha-apart"
    assert rule["kind"] == "vm-anti-affinity"
    assert sorted(rule["vms"]) == sorted([lab.vms["sa-alpha-1"], lab.vms["sa-alpha-2"]])


def test_snapshot_tree_and_events(lab_export: LabExport) -> None:
    lab = lab_export.lab
    (tree,) = _vm(lab_export, "sa-beta-1")["snapshots"]
    assert tree["name"] == "before-upgrade"
    assert tree["moid"].startswith("snapshot-")
    assert "snapshots" not in _vm(lab_export, "sa-alpha-1")

    events = _snapshot(lab_export)["events"]
    assert events["collected"] is True
    kinds = [(e["kind"], e["vm"], e.get("live")) for e in events["items"]]
    assert kinds == [
        ("drs-migrate", lab.vms["sa-alpha-1"], True),
        ("revert", lab.vms["sa-beta-2"], None),
    ]
    migration = events["items"][0]
    assert (migration["source_host"], migration["dest_host"]) == (lab.hosts["H2"], lab.hosts["H0"])


def _check(lab_export: LabExport, tmp_path: Path) -> dict[str, Any]:
    code, document = check_json(lab_export.snapshot_path, tmp_path)
    assert code == 1
    return document


def test_check_reports_exactly_the_lab_failures(lab_export: LabExport, tmp_path: Path) -> None:
    document = _check(lab_export, tmp_path)
    failing = {
        (r["rule"], r["object"]["name"]) for r in document["results"] if r["status"] == "fail"
    }
    assert failing == {
        ("SA001", "sa-beta-1"),  # generated MAC
        ("SA002", "sa-alpha-2"),  # its MAC is also on app-1
        ("SA003", "sa-beta-2"),  # on the portgroup that does not notify switches
        ("SA004", "beta"),  # both on H2
        ("SA005", "beta"),  # no anti-affinity rule
        ("SA006", "sa-beta-1"),  # cluster default: fully automated
        ("SA006", "sa-beta-2"),  # override: fully automated
        ("SA007", "sa-beta-1"),  # root pool
        ("SA007", "sa-beta-2"),
        ("SA008", "sa-beta-1"),  # a two-day-old snapshot
        ("SA009", "sa-alpha-1"),  # DRS vMotion of the active primary
        ("SA010", "sa-beta-2"),  # reverted to a snapshot
        ("SA012", "sa-alpha-1"),  # a DRS vMotion, of any role
    }
    assert document["summary"]["unknown"] == 0
    assert document["summary"]["crashed"] == 0


def test_export_calls_only_read_only_methods(lab_export: LabExport) -> None:
    soap = [call.removeprefix("SOAP ") for call in lab_export.calls if call.startswith("SOAP ")]
    assert set(soap) <= READ_ONLY_METHODS, set(soap) - READ_ONLY_METHODS
    assert soap.count("Login") == 1
    assert soap[-1] == "Logout"
    assert soap.count("CreateContainerView") == soap.count("DestroyView")
    assert soap.count("CreatePropertyCollector") == soap.count("DestroyPropertyCollector")
    assert soap.count("CreateCollectorForEvents") == soap.count("DestroyCollector") == 1
    rest = [call for call in lab_export.calls if call.startswith("HTTP ")]
    # ?~action= on /rest, ?action= on /api: only the list-* actions read.
    assert all(
        " GET " in f" {call} " or "action=list-" in call or call.endswith("/session")
        for call in rest
    ), rest


def test_no_secret_in_snapshot_output_or_reports(lab_export: LabExport, tmp_path: Path) -> None:
    sim = lab_export.sim
    secrets = [sim.password, *sim.secrets()]
    assert len(secrets) >= 3  # the password, a SOAP cookie, a vAPI session id
    document = _check(lab_export, tmp_path)
    console = run_cli(["check", str(lab_export.snapshot_path)])
    outputs = {
        "snapshot": lab_export.snapshot_path.read_text(),
        "export stdout": lab_export.run.stdout,
        "export stderr": lab_export.run.stderr,
        "check json": json.dumps(document),
        "check console": console.stdout + console.stderr,
    }
    for name, text in outputs.items():
        for secret in secrets:
            assert secret not in text, f"a secret leaked into the {name}"


def test_export_prints_nothing_when_not_on_a_terminal(lab_export: LabExport) -> None:
    assert lab_export.run.stdout == ""
    assert lab_export.run.stderr == ""
