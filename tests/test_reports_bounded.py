"""Reports stay bounded: their size follows appliances and results, not ordinary VMs.

A nightly job over a 40,000-VM vCenter must not publish a report that grows with the
39,600 VMs no rule is about. The same appliances are linted with 10 and with 2,000
ordinary VMs beside them: HTML, JUnit and SARIF are the same size (the snapshot's
digest, which every report names, is the only difference). More appliances do grow them.
"""

from __future__ import annotations

import pytest

from scalearc_lint.commands.run import RunInputs, run
from scalearc_lint.engine.config import load_config
from scalearc_lint.engine.evaluate import discover_rules
from scalearc_lint.reports import FORMATS
from scalearc_lint.snapshot.builder import InventoryBuilder
from scalearc_lint.snapshot.inventory import Inventory
from scalearc_lint.snapshot.loader import LoadedSnapshot
from scalearc_lint.snapshot.model import Tag


def lab(appliances: int, ordinary_vms: int) -> LoadedSnapshot:
    """A cluster of 8 hosts with ``appliances`` paired appliances and ``ordinary_vms`` others."""
    b = InventoryBuilder()
    dc = b.datacenter("dc")
    cluster = b.cluster("cl", dc)
    hosts = [b.host(f"esx-{i}", cluster) for i in range(8)]
    for host in hosts:
        b.standard_portgroup(host, "scalearc-net")
        b.standard_portgroup(host, "VM Network")
    pool = b.pool("scalearc", b.root_pool(cluster), cpu_reservation=10**6, memory_reservation=10**6)
    for i in range(appliances):
        role = "primary" if i % 2 == 0 else "secondary"
        vm = b.vm(
            f"sa-{i:04d}",
            hosts[i % 8],
            pool=pool,
            nics=[b.nic()],
            custom_attributes={"scalearc-role": role, "scalearc-ha-pair": f"p{i // 2}"},
        )
        b.drs_override(cluster, vm, behavior="manual")
    for i in range(ordinary_vms):
        b.vm(
            f"vm-{i:05d}",
            hosts[i % 8],
            nics=[b.nic(network="VM Network", address_type="generated")],
            tags=[Tag(category="environment", name="prod")],
        )
    return LoadedSnapshot(path="lab.json", sha256="0" * 64, snapshot=b.build())


def report_sizes(snapshot: LoadedSnapshot) -> dict[str, int]:
    rules = discover_rules(plugins=False)
    config = load_config(None, [item.rule for item in rules])
    inputs = RunInputs([snapshot], rules, config, None)
    invs = [Inventory(snapshot.snapshot)]
    document = run(inputs, invs)
    return {fmt.option: len(fmt.render(document, invs)) for fmt in FORMATS}


@pytest.mark.parametrize("option", ["html", "junit", "sarif", "json"])
def test_report_size_does_not_grow_with_ordinary_vms(option: str) -> None:
    few, many = report_sizes(lab(20, 10)), report_sizes(lab(20, 2_000))
    assert many[option] == few[option]


@pytest.mark.parametrize("option", ["html", "junit"])
def test_report_size_grows_with_appliances(option: str) -> None:
    assert report_sizes(lab(40, 10))[option] > report_sizes(lab(20, 10))[option]
