"""The fast decoder of result pages against pyVmomi's, on the same simulators.

Every export here runs twice, once with the fast decoder and once with
``SCALEARC_LINT_DECODER=pyvmomi`` (every page decoded by pyVmomi), and the two
snapshot files must be byte-identical but for the export time. The fast run
must also have decoded every page itself: a page it hands to pyVmomi is logged,
and a comparison of pyVmomi with itself would prove nothing.

The simulators: the e2e lab; a larger inventory read in many small pages; and a
lab with every kind of property the exporter reads (HA defaults and per-VM
settings, DRS overrides, every cluster rule and group type, limits, expandable
pools, nested snapshots, consolidation, custom attributes, distributed and
standard backings, unicode names, missing properties); standalone hosts are in the
larger inventory.

A broken answer (cut short, or not well-formed) is one line and exit 2, and the
snapshot file already there stays as it was.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from scalearc_lint.exporter._vmomi import vim
from scalearc_lint.exporter.collect import DECODER_ENV
from tests.e2e.conftest import (
    OLD_SNAPSHOT,
    PASSWORD_ENV,
    SeededLab,
    assert_untouched,
    export_argv,
    one_error_line,
    run_cli,
    without_export_time,
)
from tests.e2e.lab import _dv_backing, _edit_nic, _objects, connect, wait
from tests.e2e.vendor_lab import seed_vendor_lab
from tests.vcsim_support import Vcsim, running_vcsim

_FALLBACK = "pyVmomi decodes"


def _export_both(sim: Vcsim, tmp: Path, caplog: pytest.LogCaptureFixture) -> tuple[bytes, bytes]:
    """The snapshot files of a fast and a pyVmomi export of ``sim``, export time blanked."""
    files = {}
    for decoder in ("fast", "pyvmomi"):
        path = tmp / f"{decoder}.json"
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="scalearc_lint.exporter.collect"):
            run = run_cli(
                export_argv(sim, path), {PASSWORD_ENV: sim.password, DECODER_ENV: decoder}
            )
        assert run.code == 0, run.stderr
        if decoder == "fast":
            fallbacks = [r.getMessage() for r in caplog.records if _FALLBACK in r.getMessage()]
            assert fallbacks == [], "the fast decoder handed pages to pyVmomi"
        files[decoder] = without_export_time(path.read_bytes())
    return files["fast"], files["pyvmomi"]


def test_the_lab_exports_the_same_with_either_decoder(
    seeded_lab: SeededLab, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fast, slow = _export_both(seeded_lab.sim, tmp_path, caplog)
    assert fast == slow
    assert b'"sa-alpha-1"' in fast


def test_a_large_inventory_in_small_pages_exports_the_same(
    vcsim_binary: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with running_vcsim(cluster=3, host=4, vm=40, standalone_host=2, pool=2, pg=3) as sim:
        sim.limit_page(7)  # many pages, continuation tokens, a short last page
        fast, slow = _export_both(sim, tmp_path, caplog)
        assert sim.retrievals().open == []
    assert fast == slow
    assert fast.count(b'"power_state"') >= 120


@pytest.fixture(scope="module")
def every_kind(vcsim_binary: Path) -> Iterator[Vcsim]:
    """The vendor lab, plus every other kind of value the exporter reads."""
    with running_vcsim(cluster=1, host=3, vm=8, pg=2) as sim:
        seed_vendor_lab(sim)
        si = connect(sim)
        _seed_the_rest(si)
        vm = _objects(si, vim.VirtualMachine)[0]._moId
        sim.hide_property("VirtualMachine", "snapshot", "VirtualMachine.State.Snapshot", vm)
        sim.hide_property("HostSystem", "config.network.portgroup", "Host.Config.Network")
        yield sim


def _seed_the_rest(si: Any) -> None:
    cluster = _objects(si, vim.ClusterComputeResource)[0]
    hosts = _objects(si, vim.HostSystem)
    vms = _objects(si, vim.VirtualMachine)
    wait(vms[0].Rename_Task(newName="sä-ünïcødé ✓ 名前 <&>"))
    dvs = _objects(si, vim.DistributedVirtualSwitch)[0]
    portgroup = next(pg for pg in dvs.portgroup if not pg.config.uplink)
    _edit_nic(vms[1], backing=_dv_backing(dvs, portgroup))
    groups = [
        vim.cluster.VmGroup(name="g-vms", vm=vms[:2]),
        vim.cluster.HostGroup(name="g-hosts", host=hosts[:2]),
        vim.cluster.VmGroup(name="g-empty", vm=[]),
    ]
    rules = [
        vim.cluster.AffinityRuleSpec(name="together", enabled=True, vm=vms[2:4]),
        vim.cluster.AntiAffinityRuleSpec(name="apart", enabled=False, vm=vms[4:6]),
        vim.cluster.VmHostRuleInfo(
            name="should-not",
            enabled=True,
            mandatory=False,
            vmGroupName="g-vms",
            antiAffineHostGroupName="g-hosts",
        ),
    ]
    spec = vim.cluster.ConfigSpecEx(
        groupSpec=[vim.cluster.GroupSpec(operation="add", info=g) for g in groups],
        rulesSpec=[vim.cluster.RuleSpec(operation="add", info=r) for r in rules],
        drsVmConfigSpec=[
            vim.cluster.DrsVmConfigSpec(
                operation="add",
                info=vim.cluster.DrsVmConfigInfo(key=vms[6], enabled=False, behavior="manual"),
            )
        ],
        dasVmConfigSpec=[
            vim.cluster.DasVmConfigSpec(
                operation="add",
                info=vim.cluster.DasVmConfigInfo(
                    key=vms[7],
                    dasSettings=vim.cluster.DasVmSettings(
                        restartPriority="high", isolationResponse="shutdown"
                    ),
                ),
            )
        ],
    )
    wait(cluster.ReconfigureComputeResource_Task(spec=spec, modify=True))


def test_every_property_kind_exports_the_same(
    every_kind: Vcsim, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fast, slow = _export_both(every_kind, tmp_path, caplog)
    assert fast == slow
    for seen in (
        b'"vm-anti-affinity"',
        b'"vm-host"',
        b'"kind":"host"',
        b'"consolidation_needed":true',
        b'"kind":"distributed"',
        "sä-ünïcødé ✓ 名前 <&>".encode(),
        b'"isolation_response":"shutdown"',
        b"VirtualMachine.State.Snapshot",
        b'"backup-2"',
    ):
        assert seen in fast, seen


@pytest.mark.parametrize("mode", ["truncate", "garble"])
@pytest.mark.parametrize("method", ["RetrievePropertiesEx", "ContinueRetrievePropertiesEx"])
def test_a_broken_page_is_one_line_and_exit_2(
    seeded_lab: SeededLab, tmp_path: Path, method: str, mode: str
) -> None:
    sim = seeded_lab.sim
    out = tmp_path / "snapshot.json"
    out.write_bytes(OLD_SNAPSHOT)
    sim.limit_page(3)
    try:
        sim.garble_next(method, mode)
        run = run_cli(export_argv(sim, out), {PASSWORD_ENV: sim.password})
    finally:
        sim.reset()
    assert run.code == 2
    line = one_error_line(run.stderr)
    assert f"unreadable {method} response" in line
    assert_untouched(out)
